#!/usr/bin/python3
"""The rows region against the pipe in one build: output_bandwidth.py's job (append_row, 2 workers, 4 MiB of rows per
mini-batch), run for run with and without PRS_ROWS_REGION=off (the order swapping every pair), nothing else between
two runs but a sync: no dd, no fdatasync. Prints MB/s (dispatch time) and the CPU of all the job's processes
(user + system, start-up included), min / median / max, and the ratio of the medians; every output is checked
(size, rows, each block once, the CRC of its rows). Writes benchmarks/results/rows_region_ab.{json,png}.

Usage: benchmarks/rows_region_ab.py [--build DIR] [--size 1G] [--rows 100,100000] [--pairs 6]
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import ENV, ROOT, fail, fmt_mmm, loadavg, machine, mmm, pyplot, save_json, table  # noqa: E402
from output_bandwidth import check_output, make_job, parse_size, sync  # noqa: E402

MODES = {"region": {}, "pipe": {"PRS_ROWS_REGION": "off"}}


def children_cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def run(build, work, env, batches, row, rows):
    """One run: (MB/s over the dispatch time, CPU seconds of all its processes)."""
    shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
    sync()
    cpu = children_cpu()
    p = subprocess.run(["mpiexec", "-np", "3", os.path.join(build, "prs_mpi"), "job.yml"], cwd=work,
                       env=dict(ENV, **env), capture_output=True, text=True)
    cpu = children_cpu() - cpu
    if p.returncode != 0:
        fail(f"prs_mpi exited {p.returncode}: {p.stderr[-2000:]}")
    with open(os.path.join(work, "out", "logs", "job_summary.json")) as f:
        s = json.load(f)
    check_output(os.path.join(work, "out", "rows.txt"), batches, row, rows)
    return batches * rows * row / 1e6 / s["dispatch_seconds"], cpu


def plot(results):
    plt = pyplot()
    if plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 3.5))
    labels = [r["row_label"] for r in results]
    for i, mode in enumerate(MODES):
        medians = [mmm(r[mode]["mb_s"])[1] for r in results]
        ax.bar([x + 0.4 * i for x in range(len(results))], medians, 0.4, label=mode)
    ax.set_xticks([x + 0.2 for x in range(len(results))], labels)
    ax.set_ylabel("MB/s (median)")
    ax.set_title("append_row: rows region vs pipe, same build")
    ax.legend()
    path = os.path.join(ROOT, "benchmarks", "results", "rows_region_ab.png")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--size", default="1G", help="bytes of rows per run (default 1G)")
    ap.add_argument("--rows", default="100,100000", help="row sizes in bytes, newline included")
    ap.add_argument("--pairs", type=int, default=6, help="runs of each mode (default 6)")
    args = ap.parse_args()
    build, total, block = os.path.abspath(args.build), parse_size(args.size), 4 << 20
    work = tempfile.mkdtemp(prefix="prs_rows_region_ab_")
    loads, results = [loadavg()], []
    try:
        for row in (int(x) for x in args.rows.split(",")):
            rows = max(block // row, 2)
            batches = max(total // (row * rows), 1)
            make_job(os.path.join(work, "job"), batches, row, rows)
            r = {"row": row, "row_label": f"{row:,} B rows", "batches": batches,
                 **{m: {"mb_s": [], "cpu_s": []} for m in MODES}}
            for i in range(args.pairs):
                for mode in list(MODES)[::-1] if i % 2 else MODES:
                    mb_s, cpu = run(build, os.path.join(work, "job"), MODES[mode], batches, row, rows)
                    r[mode]["mb_s"].append(mb_s)
                    r[mode]["cpu_s"].append(cpu)
                loads.append(loadavg())
            results.append(r)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    lines = []
    for r in results:
        for mode in MODES:
            lines.append([r["row_label"], mode, fmt_mmm(r[mode]["mb_s"]), fmt_mmm(r[mode]["cpu_s"], ".2f")])
        ratio = mmm(r["region"]["mb_s"])[1] / mmm(r["pipe"]["mb_s"])[1]
        cpu = mmm(r["region"]["cpu_s"])[1] / mmm(r["pipe"]["cpu_s"])[1]
        r["ratio"], r["cpu_ratio"] = ratio, cpu
        lines.append([r["row_label"], "region/pipe", f"{ratio:.2f}x", f"{cpu:.2f}x"])
    table(["rows", "mode", "MB/s min / median / max", "CPU s min / median / max"], lines)
    print(f"load average during the runs: {min(loads):.2f} .. {max(loads):.2f}; every output checked")
    print("results:", save_json("rows_region_ab", {**machine(), "load": [min(loads), max(loads)], "build": build,
                                                   "pairs": args.pairs, "results": results}))
    path = plot(results)
    if path:
        print("plot:", path)


if __name__ == "__main__":
    sys.exit(main())
