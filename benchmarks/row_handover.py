#!/usr/bin/python3
"""The hand-over of rows from the formatting process to the writing one, alone: a pipe against a shared memfd.

What a shared region between a worker rank and its Python process could gain for append_row against the page
cache (benchmarks/README.md, "Output bandwidth"), before building it. prs_row_handover (benchmarks/row_handover.cpp)
moves --size of rows in blocks of 4 MiB from --pairs child processes to their parents, which pwrite them to one
file in $TMPDIR (the page cache; no fsync): through a 1 MiB pipe (today's path: the child formats into its buffer,
writes it to the pipe, the parent reads it into its own and pwrites it), through a ring of 4 blocks in a memfd
both map once (the child formats straight into it, the parent pwrites from it: no copy between them), and with no
hand-over at all (one process formats and pwrites: the ceiling of any). Each with and without the CRC-32C of
every block (the journal's checksum, which the rank takes). Against `dd if=/dev/zero of=FILE bs=1M`, the same
file, without conv=fdatasync. `sync` and the file's removal before every measurement; the cases take turns.
MB/s min / median / max, the median's share of dd's, and the CPU seconds (user + system of all processes).
Writes benchmarks/results/row_handover.json.

Usage: benchmarks/row_handover.py [--build DIR] [--size 1024] [--pairs 2] [--runs 5]
"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import ROOT, fmt_mmm, loadavg, machine, save_json, table  # noqa: E402

CASES = [("pipe", "pipe", 0), ("pipe + CRC", "pipe", 1), ("shared memfd", "shm", 0), ("shared memfd + CRC", "shm", 1),
         ("no hand-over", "direct", 0), ("no hand-over + CRC", "direct", 1), ("dd bs=1M", "dd", 0)]


def children_cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def measure(exe, mode, crc, path, size_mb, pairs):
    """(MB/s, CPU seconds) of one run."""
    if os.path.exists(path):
        os.unlink(path)
    subprocess.run(["sync"], check=True)
    before = children_cpu()
    if mode == "dd":
        p = subprocess.run(["dd", "if=/dev/zero", "of=" + path, "bs=1M", f"count={size_mb}"],
                           capture_output=True, text=True, check=True)
        m = re.search(r"(\d+) bytes.*copied, ([0-9.]+) s", p.stderr)
        mbps = int(m.group(1)) / 1e6 / float(m.group(2))
    else:
        p = subprocess.run([exe, mode, path, str(size_mb), str(pairs), "4096", "4", str(crc)],
                           capture_output=True, text=True, check=True)
        mbps = float(p.stdout)
    if os.path.getsize(path) != size_mb << 20:
        raise SystemExit(f"benchmark: {mode} wrote {os.path.getsize(path)} bytes, not {size_mb << 20}")
    return mbps, children_cpu() - before


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="the build folder (default build/)")
    ap.add_argument("--size", type=int, default=1024, help="MiB moved per run (default 1024)")
    ap.add_argument("--pairs", type=int, default=2, help="pairs of processes at once, as workers (default 2)")
    ap.add_argument("--runs", type=int, default=5, help="runs of each case (default 5)")
    a = ap.parse_args()
    exe = os.path.join(a.build, "prs_row_handover")
    if not os.access(exe, os.X_OK):
        raise SystemExit(f"benchmark: no {exe} (scripts/build.sh builds it)")
    path = os.path.join(tempfile.gettempdir(), f"prs_row_handover.{os.getpid()}")
    got = {name: {"mbps": [], "cpu": []} for name, _, _ in CASES}
    loads = [loadavg()]
    try:
        for _ in range(a.runs):
            for name, mode, crc in CASES:
                mbps, cpu = measure(exe, mode, crc, path, a.size, a.pairs)
                got[name]["mbps"].append(mbps)
                got[name]["cpu"].append(cpu)
            loads.append(loadavg())
    finally:
        if os.path.exists(path):
            os.unlink(path)
    dd = statistics.median(got["dd bs=1M"]["mbps"])
    print(f"{a.size} MiB, {a.pairs} pairs, {a.runs} runs, load average {min(loads):.1f} to {max(loads):.1f}")
    table(["case", "MB/s min / median / max", "of dd", "CPU s (median)"],
          [[name, fmt_mmm(v["mbps"]), f"{100 * statistics.median(v['mbps']) / dd:.0f}%",
            f"{statistics.median(v['cpu']):.2f}"] for name, v in got.items()])
    save_json("row_handover", {"machine": machine(), "size_mib": a.size, "pairs": a.pairs, "runs": a.runs,
                               "load": [min(loads), max(loads)], "cases": got})


if __name__ == "__main__":
    main()
