#!/usr/bin/python3
"""Time to DataFrame of read_hdf5 mini-batches per worker, against h5py reading the same rows in one process.

A compound dataset of `--rows` rows (8 float64, 1 int64, 1 bool and, with the "strings" table, a 16-byte fixed
string and a variable-length string column) is written once with h5py into $TMPDIR. Then, for each table, each
mini-batch size N and each run() time (--run-ms: 0 returns at once; 20 sleeps 20 ms, so the rank has that long to
read the next mini-batch ahead):
  prs_mpi:  `mpiexec -np 2 prs_mpi job.yml` (one worker), `mini_batch_row_size: N`.
            The time to DataFrame of a mini-batch is the gap between one run() returning and the next run()
            starting: whatever of the worker rank's hyperslab read is not done ahead, the pipe to its Python process,
            the DataFrame built there (numpy.frombuffer, one copy by pandas) and the hand-off.
            With --baseline DIR (the build of an earlier commit) the two builds alternate run by run (--runs rounds).
  h5py:     one serial Python process reads the same N-row slices, `pandas.DataFrame(dataset[a:b])`, fixed strings
            decoded to str as read_hdf5 does (h5py 3 gives variable-length strings as bytes: decoded too).
Prints min / median / max per mini-batch (ms) and writes results/hdf5_read.json and results/hdf5_read.png.
Usage: benchmarks/hdf5_read.py [--build DIR] [--baseline DIR] [--runs 3] [--rows 1000000]
       [--batches 10000 100000] [--run-ms 0 20] [--out results/hdf5_read.json]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import pandas as pd

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smoke_dispatch import ENV, ROOT  # noqa: E402

JOB = """\
type: parallel
inputs:
  input_data: {{type: mltable, path: ./table}}
input_data: ${{{{inputs.input_data}}}}
mini_batch_row_size: {batch}
output_action: summary_only
retry_settings: {{max_retries: 0, timeout: 600}}
task:
  type: run_function
  code: ./src
  entry_script: score.py
"""

# Records the gap before each run() but the first, and writes them at shutdown(); run() sleeps PRS_BENCH_RUN_MS.
SCRIPT = """
import json, os, time
gaps, last = [], None
pause = float(os.environ.get("PRS_BENCH_RUN_MS", "0")) / 1000
def run(frame):
    global last
    now = time.perf_counter()
    if last is not None:
        gaps.append(now - last)
    if pause:
        time.sleep(pause)
    last = time.perf_counter()
    return [0] * len(frame)
def shutdown():
    with open(os.environ["PRS_BENCH_GAPS"], "w") as f:
        json.dump(gaps, f)
"""


def dtype(strings):
    fields = [(f"f{i}", "<f8") for i in range(8)] + [("id", "<i8"), ("flag", "?")]
    if strings:
        fields += [("code", "S16"), ("note", h5py.string_dtype())]
    return np.dtype(fields)


def write_table(path, rows, strings):
    if os.path.exists(path):
        return
    rng = np.random.default_rng(1)
    with h5py.File(path + ".part", "w") as f:
        d = f.create_dataset("t", shape=(rows,), dtype=dtype(strings), chunks=(min(rows, 65536),))
        for first in range(0, rows, 100000):
            n = min(100000, rows - first)
            block = np.zeros(n, dtype=dtype(strings))
            for i in range(8):
                block[f"f{i}"] = rng.random(n)
            block["id"] = np.arange(first, first + n)
            block["flag"] = block["id"] % 3 == 0
            if strings:
                block["code"] = [f"code{k % 997}".encode() for k in range(first, first + n)]
                block["note"] = [f"note {k}" for k in range(first, first + n)]
            d[first:first + n] = block
    os.rename(path + ".part", path)


def prs_gaps(prs, data, batch, run_ms):
    with tempfile.TemporaryDirectory() as work:
        os.makedirs(os.path.join(work, "table"))
        os.makedirs(os.path.join(work, "src"))
        os.symlink(data, os.path.join(work, "table", "t.h5"))
        with open(os.path.join(work, "table", "MLTable"), "w") as f:
            f.write("paths:\n  - file: ./t.h5\ntransformations:\n  - read_hdf5:\n      dataset: /t\n")
        with open(os.path.join(work, "src", "score.py"), "w") as f:
            f.write(SCRIPT)
        with open(os.path.join(work, "job.yml"), "w") as f:
            f.write(JOB.format(batch=batch))
        gaps = os.path.join(work, "gaps.json")
        proc = subprocess.run(["mpiexec", "--oversubscribe", "-np", "2", prs, "job.yml"], cwd=work,
                              capture_output=True, text=True, env=dict(ENV, PRS_BENCH_GAPS=gaps, PRS_BENCH_RUN_MS=str(run_ms)))
        if proc.returncode != 0:
            sys.exit(f"prs_mpi failed:\n{proc.stdout}\n{proc.stderr}")
        with open(gaps) as f:
            return json.load(f)


def h5py_times(data, batch, strings):
    times = []
    with h5py.File(data, "r") as f:
        d = f["t"]
        for first in range(0, d.shape[0], batch):
            t0 = time.perf_counter()
            frame = pd.DataFrame(d[first:first + batch])
            if strings:
                frame["code"] = frame["code"].str.decode("utf-8")
                frame["note"] = frame["note"].str.decode("utf-8")
            times.append(time.perf_counter() - t0)
    return times[1:]  # as for prs_mpi: the first mini-batch (cold) is left out


def stats(seconds):
    ms = [s * 1e3 for s in seconds]
    return {"min": min(ms), "median": statistics.median(ms), "max": max(ms), "batches": len(ms)}


TOOLS = [("build", "prs_mpi", "tab:blue"), ("baseline", "prs_mpi baseline", "tab:gray"), ("h5py", "h5py", "tab:orange")]


def plot(results, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    labels = [f"{r['table']}\n{r['batch']:,} rows\nrun() {r['run_ms']} ms" for r in results]
    tools = [t for t in TOOLS if t[0] in results[0]]
    width = 0.8 / len(tools)
    x = np.arange(len(results))
    fig, ax = plt.subplots(figsize=(max(7, 1.3 * len(results)), 4.5))
    for k, (key, label, colour) in enumerate(tools):
        med = [r[key]["median"] for r in results]
        low = [r[key]["median"] - r[key]["min"] for r in results]
        high = [r[key]["max"] - r[key]["median"] for r in results]
        ax.bar(x + (k - (len(tools) - 1) / 2) * width, med, width, yerr=[low, high], capsize=3, label=label,
               color=colour)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_ylabel("ms per mini-batch to DataFrame (median, min..max)")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title("read_hdf5 hyperslab to DataFrame (gap between run() calls), one worker, vs h5py")
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def fmt(s):
    return f"{s['min']:.1f} / {s['median']:.1f} / {s['max']:.1f}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--baseline", help="the build directory of an earlier commit, run alternately with --build")
    ap.add_argument("--runs", type=int, default=1, help="rounds per case (each build once per round)")
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--batches", type=int, nargs="+", default=[10000, 100000])
    ap.add_argument("--run-ms", type=int, nargs="+", default=[0, 20], help="what each run() takes (a sleep)")
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "hdf5_read.json"))
    args = ap.parse_args()
    builds = {"build": os.path.join(args.build, "prs_mpi")}
    if args.baseline:
        builds["baseline"] = os.path.join(args.baseline, "prs_mpi")
    results = []
    for table, strings in (("numeric", False), ("strings", True)):
        data = os.path.join(tempfile.gettempdir(), f"prs_hdf5_read_{table}_{args.rows}.h5")
        write_table(data, args.rows, strings)
        h5py_times(data, args.batches[0], strings)  # warm the page cache
        for batch in args.batches:
            reference = stats(h5py_times(data, batch, strings))
            for run_ms in args.run_ms:
                gaps = {key: [] for key in builds}
                order = list(builds.items())
                for i in range(args.runs):
                    for key, prs in order[i % len(order):] + order[:i % len(order)]:
                        gaps[key] += prs_gaps(prs, data, batch, run_ms)
                r = {"table": table, "batch": batch, "run_ms": run_ms, "h5py": reference}
                r.update({key: stats(g) for key, g in gaps.items()})
                line = f"{table:8} {batch:>7} rows, run() {run_ms:>3} ms: prs_mpi {fmt(r['build'])}"
                if "baseline" in r:
                    r["ratio_to_baseline"] = r["build"]["median"] / r["baseline"]["median"]
                    line += f", baseline {fmt(r['baseline'])} ({r['ratio_to_baseline']:.2f}x)"
                line += f", h5py {fmt(reference)} ms (min / median / max, {r['build']['batches']} mini-batches)"
                print(line, flush=True)
                results.append(r)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump({"rows": args.rows, "runs": args.runs, "load_average": os.getloadavg(),
                   "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "results": results}, f, indent=1)
    plot(results, os.path.splitext(args.out)[0] + ".png")
    print(f"wrote {args.out} and {os.path.splitext(args.out)[0]}.png")


if __name__ == "__main__":
    main()
