#!/usr/bin/python3
"""append_row throughput against dd to the same disk, rows of 100 B and 100 kB (target: prs_mpi >= 80% of dd).

prs_mpi: 2 workers; each mini-batch's run() returns --batch-bytes of rows (a marker row naming its input, then
rows built once in init()), which prs_mpi formats (a list of str: src/worker/row_text_py.cpp, in C++, the same bytes
as the general "".join(str(row) + "\\n") of src/worker/python_runner.cpp), sends through the pipe to the worker
rank, and writes with MPI_File_write_at at the offset the master commits.
Time = job_summary.json dispatch_seconds (first task to the last written acknowledged); start-up is left out.

prs_mpi never fsyncs its output (MPI_File_write_at, then MPI_File_close: the rows are in the page cache when the
job ends), so the like-for-like comparison is `dd if=/dev/zero of=FILE bs=1M` without conv=fdatasync ("cache").
The "disk" rows add the flush for both: dd with conv=fdatasync, and for prs_mpi the dispatch time plus an
fdatasync() of its output right after the job exits (pages the kernel wrote back during the job's shutdown are
in neither time: it favours prs_mpi by at most that shutdown's share). `sync` runs before every measurement.

The summary's run_seconds (the Python process's time in run() and in formatting its rows, summed over the
workers) gives the Python side's share of the dispatch time; the rest is the pipe to the rank, the result /
commit / written round trip and MPI_File_write_at.
Every run's output is checked: its size, its row count (newlines), each mini-batch's block once with its marker,
and the CRC-32 of every block's rows against the expected rows. Afterwards it times the pieces of prs_mpi's path
in isolation, per GB: the Python formatting of the rows, a 64 kB pipe hop (dd | dd), MPI_File_write_at from 2
ranks (mpi4py), and the CRC-32C pass is hardware (SSE 4.2). Writes benchmarks/results/output_bandwidth.{json,png}.

With --baseline DIR (the build of an earlier commit) each run of --build is paired with one of the baseline on the
same job (the baseline first every other run), so both see the same machine; the table adds the baseline's MB/s and the ratio of the medians.

With --settle SECONDS every measured run (dd's and prs_mpi's) starts that long after the previous file was removed.
On a VM whose balloon reports free memory to its host (virtio-balloon free page reporting: /sys/module/
page_reporting), memory freed a few seconds ago is no longer backed by the host, and a write into the page cache
faults it in again there; run back to back (0, the default), a run writes partly into pages the previous run just
freed, partly into handed-back ones, and its speed swings with that share (dd 1.6-5.3 GB/s within a minute here).
--settle 5 starts every run from one state: the memory freed before it handed back.

With --baseline-env VAR=VALUE,... the baseline's runs get those variables; without --baseline the baseline is --build
itself (--baseline-env PRS_ROWS_REGION=off: the rows region against the pipe, one build).

Usage: benchmarks/output_bandwidth.py [--build DIR] [--baseline DIR] [--baseline-env VAR=VALUE,...] [--size 1G]
                                      [--rows 100,100000] [--runs 3] [--settle SECONDS] [--dir DIR]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import ENV, JOB, PYTHON, ROOT, fail, fmt_mmm, loadavg, machine, mmm, pyplot, save_json, table  # noqa

SCORE = """\
import os
ROW = {row}
ROWS = {rows}
_rows = None
def init():
    global _rows
    _rows = ["r" * (ROW - 1)] * (ROWS - 1)
def run(mini_batch):
    return [os.path.basename(mini_batch[0]).ljust(ROW - 1, "m")] + _rows
"""

# prs_mpi's own formatting of a returned list (src/worker/python_runner.cpp, _format_result), timed in isolation.
FORMAT_LINE = 'rows = "".join(str(element) + "\\n" for element in result)'

MPIIO = """\
import sys, time
from mpi4py import MPI
path, block, blocks = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
comm = MPI.COMM_WORLD
f = MPI.File.Open(comm, path, MPI.MODE_CREATE | MPI.MODE_WRONLY)
data = bytearray(b"r" * block)
comm.Barrier()
t0 = time.perf_counter()
for i in range(comm.rank, blocks, comm.size):
    f.Write_at(i * block, data)
comm.Barrier()
dt = time.perf_counter() - t0
f.Close()
if comm.rank == 0:
    print(dt)
"""


def parse_size(text):
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
    text = text.strip().lower().rstrip("b")
    return int(float(text[:-1]) * units[text[-1]]) if text[-1] in units else int(text)


SETTLE = 0.0  # --settle: seconds between removing the previous file and the next measured run


def sync():
    subprocess.run(["sync"], check=True)
    time.sleep(SETTLE)


def fdatasync_seconds(path):
    t0 = time.perf_counter()
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fdatasync(fd)
    finally:
        os.close(fd)
    return time.perf_counter() - t0


def run_dd(path, mib, synced):
    if os.path.exists(path):
        os.unlink(path)
    sync()
    cmd = ["dd", "if=/dev/zero", f"of={path}", "bs=1M", f"count={mib}"] + (["conv=fdatasync"] if synced else [])
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, capture_output=True)
    dt = time.perf_counter() - t0
    if os.path.getsize(path) != mib << 20:
        fail(f"dd wrote {os.path.getsize(path)} bytes, not {mib << 20}")
    os.unlink(path)
    return dt


def check_output(path, batches, row, rows):
    """Size, newline count, each block's marker once and its rows' CRC-32 against the expected rows."""
    block = row * rows
    size = os.path.getsize(path)
    if size != batches * block:
        fail(f"{path}: {size} bytes, expected {batches * block}")
    body = ("r" * (row - 1) + "\n").encode() * (rows - 1)
    want_crc = zlib.crc32(body)
    seen, newlines = set(), 0
    with open(path, "rb") as f:
        for _ in range(batches):
            data = f.read(block)
            newlines += data.count(b"\n")
            marker = data[:row].rstrip(b"m\n").decode()
            if marker in seen or not marker.isdigit() or len(data[:row].rstrip(b"\n")) != row - 1:
                fail(f"{path}: bad or repeated block marker {data[:row]!r}")
            seen.add(marker)
            if zlib.crc32(data[row:]) != want_crc:
                fail(f"{path}: the rows of block {marker} differ from what run() returned")
    if newlines != batches * rows or seen != {f"{i:06d}" for i in range(batches)}:
        fail(f"{path}: {newlines} rows, expected {batches * rows}, or a block is missing")


def run_prs(build, work, workers, batches, row, rows, env=None):
    out = os.path.join(work, "out")
    shutil.rmtree(out, ignore_errors=True)
    sync()
    t0 = time.perf_counter()
    p = subprocess.run(["mpiexec", "-np", str(workers + 1), os.path.join(build, "prs_mpi"), "job.yml"], cwd=work,
                       env=dict(ENV, **(env or {})), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        fail(f"prs_mpi exited {p.returncode}: {p.stderr[-2000:]}")
    path = os.path.join(out, "rows.txt")
    flush = fdatasync_seconds(path)
    with open(os.path.join(out, "logs", "job_summary.json")) as f:
        s = json.load(f)
    check_output(path, batches, row, rows)
    shutil.rmtree(out, ignore_errors=True)
    return s["dispatch_seconds"], s["dispatch_seconds"] + flush, wall, s


def make_job(work, batches, row, rows):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "data"))
    for i in range(batches):
        with open(os.path.join(work, "data", f"{i:06d}"), "w") as f:
            f.write("x")
    with open(os.path.join(work, "job.yml"), "w") as f:
        f.write(JOB)
    with open(os.path.join(work, "score.py"), "w") as f:
        f.write(SCORE.format(row=row, rows=rows))


def pieces(work, row, rows, total):
    """Seconds per GB of each piece of prs_mpi's path, measured alone."""
    src = open(os.path.join(ROOT, "src", "worker", "python_runner.cpp")).read()
    out = {}
    if FORMAT_LINE in src:
        result = ["0".ljust(row - 1, "m")] + ["r" * (row - 1)] * (rows - 1)
        t0 = time.perf_counter()
        n = 0
        while time.perf_counter() - t0 < 1.0:
            rows_text = "".join(str(element) + "\n" for element in result)
            rows_text.encode("utf-8", "surrogateescape")
            n += 1
        out["general formatting (other types)"] = (time.perf_counter() - t0) / (n * row * rows / 1e9)
        t0, n = time.perf_counter(), 0
        while time.perf_counter() - t0 < 1.0:  # the same bytes for a non-empty list: a cheaper way to make them
            ("\n".join(map(str, result)) + "\n").encode("utf-8", "surrogateescape")
            n += 1
        out["(formatting as \"\\n\".join(map(str)))"] = (time.perf_counter() - t0) / (n * row * rows / 1e9)
    mib = max(total >> 20, 64)
    t0 = time.perf_counter()
    subprocess.run(f"dd if=/dev/zero bs=4M count={mib // 4} 2>/dev/null | dd of=/dev/null bs=64k 2>/dev/null",
                   shell=True, check=True)
    out["pipe hop (dd | dd, 64 kB reads)"] = (time.perf_counter() - t0) / (mib * 2**20 / 1e9)
    try:
        import mpi4py  # noqa: F401
        script = os.path.join(work, "mpiio.py")
        with open(script, "w") as f:
            f.write(MPIIO)
        path = os.path.join(work, "mpiio.bin")
        block = row * rows
        blocks = total // block
        sync()
        p = subprocess.run(["mpiexec", "-np", "2", PYTHON, script, path, str(block), str(blocks)], env=ENV,
                           check=True, capture_output=True, text=True)
        out["MPI_File_write_at, 2 ranks"] = float(p.stdout.split()[-1]) / (block * blocks / 1e9)
        os.unlink(path)
    except ImportError:
        pass
    return out


def plot(results, path):
    plt = pyplot()
    if plt is None:
        return False
    labels, values, colors = [], [], []
    for r in results:
        for key, color in (("dd_cache", "gray"), ("prs_cache", "C0"), ("base_cache", "C2"), ("dd_disk", "silver"),
                           ("prs_disk", "C1"), ("base_disk", "C3")):
            if key not in r:
                continue
            labels.append(f"{r['row_label']}\n{key.replace('_', ' ')}")
            values.append(mmm(r[key])[1])
            colors.append(color)
    fig, ax = plt.subplots(figsize=(max(11, 1.1 * len(values)), 4.2))
    ax.bar(range(len(values)), values, color=colors)
    ax.set_xticks(range(len(values)))
    ax.set_xticklabels(labels, fontsize=8 if len(values) <= 8 else 7)
    ax.set_ylabel("MB/s (median)")
    ax.set_title("append_row vs dd bs=1M to the same disk (cache: no flush; disk: fdatasync)")
    ax.grid(alpha=0.3, axis="y")
    fig.savefig(path, dpi=90, bbox_inches="tight")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="the build folder (default build/)")
    ap.add_argument("--baseline", help="the build folder of an earlier commit, run alternately with --build")
    ap.add_argument("--baseline-env", default="",
                    help='variables for the baseline\'s runs, "VAR=VALUE,..."; without --baseline the baseline is '
                         '--build itself with them (e.g. PRS_ROWS_REGION=off: the rows region against the pipe)')
    ap.add_argument("--size", default="1G", help="bytes of rows per run (default 1G; e.g. 256M for a quick look)")
    ap.add_argument("--rows", default="100,100000", help="row sizes in bytes, newline included (default 100,100000)")
    ap.add_argument("--batch-bytes", default="4M", help="rows per mini-batch, in bytes (default 4M)")
    ap.add_argument("--workers", type=int, default=2, help="workers (default 2)")
    ap.add_argument("--runs", type=int, default=3, help="runs of each (default 3)")
    ap.add_argument("--dir", default=None, help="where the files go (default a new folder in $TMPDIR)")
    ap.add_argument("--settle", type=float, default=0.0,
                    help="seconds to wait after removing the previous file before each measured run (default 0; 5 "
                         "on a VM with free page reporting: every run then writes into memory handed back to the host)")
    args = ap.parse_args()
    global SETTLE
    SETTLE = args.settle
    build = os.path.abspath(args.build)
    base_env = dict(pair.split("=", 1) for pair in args.baseline_env.split(",") if pair)
    if base_env and not args.baseline:
        args.baseline = build
    builds = [("prs", build)] + ([("base", os.path.abspath(args.baseline))] if args.baseline else [])
    total, batch_bytes = parse_size(args.size), parse_size(args.batch_bytes)
    work = tempfile.mkdtemp(prefix="prs_output_bw_", dir=args.dir)
    info = machine()
    loads = [loadavg()]
    print(f"{info['host']}: {info['cores']} cores; {total / 1e9:.2f} GB of rows in {work}; {args.workers} workers; "
          f"load average {loads[0]:.2f} at the start"
          + (f"; {args.settle:g} s settle before each run" if args.settle else ""))
    results = []
    try:
        for row in (int(x) for x in args.rows.split(",")):
            rows = max(batch_bytes // row, 2)
            batches = max(total // (row * rows), 1)
            nbytes = batches * rows * row
            mib = max(nbytes >> 20, 1)
            make_job(os.path.join(work, "job"), batches, row, rows)
            r = {"row": row, "row_label": f"{row:,} B rows", "rows_per_batch": rows, "batches": batches,
                 "bytes": nbytes, "dd_cache": [], "dd_disk": []}
            for key, _ in builds:
                for what in ("cache", "disk", "wall", "python_share"):
                    r[f"{key}_{what}"] = []
            for i in range(args.runs):
                r["dd_cache"].append((mib << 20) / 1e6 / run_dd(os.path.join(work, "dd.bin"), mib, False))
                for key, folder in builds[::-1] if i % 2 else builds:  # the baseline goes first every other run
                    cache, disk, wall, s = run_prs(folder, os.path.join(work, "job"), args.workers, batches, row, rows,
                                                   base_env if key == "base" else None)
                    r[f"{key}_python_share"].append(s["run_seconds"] / args.workers / s["dispatch_seconds"])
                    r[f"{key}_cache"].append(nbytes / 1e6 / cache)
                    r[f"{key}_disk"].append(nbytes / 1e6 / disk)
                    r[f"{key}_wall"].append(wall)
                r["dd_disk"].append((mib << 20) / 1e6 / run_dd(os.path.join(work, "dd.bin"), mib, True))
                loads.append(loadavg())
            r["pieces_s_per_gb"] = pieces(work, row, rows, min(nbytes, 512 << 20))
            results.append(r)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    rows_out = []
    for r in results:
        for kind in ("cache", "disk"):
            ratio = mmm(r[f"prs_{kind}"])[1] / mmm(r[f"dd_{kind}"])[1]
            line = [r["row_label"], kind, r["batches"], fmt_mmm(r[f"dd_{kind}"]), fmt_mmm(r[f"prs_{kind}"]),
                    f"{100 * ratio:.0f}%"]
            if args.baseline:
                base = mmm(r[f"base_{kind}"])[1]
                r[f"ratio_to_baseline_{kind}"] = mmm(r[f"prs_{kind}"])[1] / base
                line += [fmt_mmm(r[f"base_{kind}"]), f"{100 * base / mmm(r[f'dd_{kind}'])[1]:.0f}%",
                         f"{r[f'ratio_to_baseline_{kind}']:.2f}x"]
            rows_out.append(line)
    table(["rows", "flush", "mini-batches", "dd MB/s min / median / max", "prs_mpi MB/s min / median / max",
           "prs/dd"] + (["baseline MB/s min / median / max", "base/dd", "prs/base"] if args.baseline else []),
          rows_out)
    print("\nshare of prs_mpi's dispatch time each worker's Python process spent in run() and formatting the rows "
          "(job_summary.json run_seconds / workers / dispatch_seconds):")
    for r in results:
        for key, _ in builds:
            print(f"  {r['row_label']:>14}  {key}  {fmt_mmm([100 * x for x in r[f'{key}_python_share']], '.0f')} %")
    print("\npieces of prs_mpi's path alone, seconds per GB (1 / GB/s):")
    for r in results:
        for name, v in r["pieces_s_per_gb"].items():
            print(f"  {r['row_label']:>14}  {name:<38} {v:.3f} s/GB ({1 / v:.2f} GB/s)")
    print(f"\nload average during the runs: {min(loads):.2f} .. {max(loads):.2f}; every output checked")
    out = save_json("output_bandwidth", {**info, "load": [min(loads), max(loads)], "build": build,
                                         "settle": args.settle,
                                         "baseline": args.baseline and os.path.abspath(args.baseline),
                                         "baseline_env": base_env,
                                         "results": results})
    print(f"results: {out}")
    png = os.path.join(os.path.dirname(out), "output_bandwidth.png")
    if plot(results, png):
        print(f"plot: {png}")


if __name__ == "__main__":
    sys.exit(main())
