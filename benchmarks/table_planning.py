#!/usr/bin/python3
"""Planning cost of tabular input against file size, and a worker's time to DataFrame against pandas.read_csv.

Planning: `prs_mpi job.yml --dry-run` on one delimited file of 1, 10 and 100 GB. The files are sparse, so that 100 GB
costs no disk: a header, then a block of real CSV records around every multiple of mini_batch_size (where the
planner looks for the next record start) and holes (zero bytes) between. A planner that read the holes would scan
the whole size; one that reads a few KiB per cut costs O(mini-batches). Two series:
  fixed count: mini_batch_size = size / 1000, so every file has about 1000 mini-batches: the time must be flat;
  default size: mini_batch_size = 1MB: the time grows with the number of mini-batches (size / 1 MiB), not bytes.
Time to DataFrame: one worker parses a real 200 MB CSV in 1 MB ranges (the job's run() returns at once; the summary's
run timings include the parse), against one pandas.read_csv of the same file.
Usage: benchmarks/table_planning.py [--build DIR] [--sizes-gb 1 10 100] [--parse-mb 200] [--out results/table_planning.json]
"""
import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smoke_dispatch import ENV, ROOT  # noqa: E402

HEADER = b"id,name,value\n"
RECORD = b"12345,some name,3.25\n"

JOB = """\
type: parallel
inputs:
  input_data: {{type: mltable, path: ./table}}
input_data: ${{{{inputs.input_data}}}}
mini_batch_size: "{batch}"
output_action: summary_only
task:
  type: run_function
  code: ./src
  entry_script: score.py
"""


def make_folder(work, batch):
    os.makedirs(os.path.join(work, "table"), exist_ok=True)
    os.makedirs(os.path.join(work, "src"), exist_ok=True)
    with open(os.path.join(work, "src", "score.py"), "w") as f:
        f.write("def run(frame):\n    return [0] * len(frame)\n")
    with open(os.path.join(work, "table", "MLTable"), "w") as f:
        f.write("paths:\n  - file: ./data.csv\ntransformations:\n  - read_delimited:\n      header: all_files_same_headers\n")
    with open(os.path.join(work, "job.yml"), "w") as f:
        f.write(JOB.format(batch=batch))


def sparse_file(path, size, batch):
    """A header, record blocks of 8 KiB centred on every multiple of batch after the header, holes between."""
    block = RECORD * (8192 // len(RECORD))
    with open(path, "wb") as f:
        f.write(HEADER)
        f.truncate(size)
        fd = f.fileno()
        for target in range(len(HEADER) + batch, size - len(block), batch):
            os.pwrite(fd, block, target - len(block) // 2)


def dry_run(prs, work):
    start = time.perf_counter()
    proc = subprocess.run([prs, "job.yml", "--dry-run"], cwd=work, capture_output=True, text=True, env=ENV)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(proc.stderr)
    plan = [line for line in proc.stdout.splitlines() if line.startswith("plan: ")][0]
    return seconds, int(plan.split()[1])


def planning(prs, sizes_gb):
    rows = []
    for gb in sizes_gb:
        size = gb << 30
        for series, batch in (("fixed count", size // 1000), ("default size", 1 << 20)):
            with tempfile.TemporaryDirectory(dir=ROOT) as work:
                make_folder(work, batch)
                sparse_file(os.path.join(work, "table", "data.csv"), size, batch)
                seconds, batches = dry_run(prs, work)
            rows.append({"size_gb": gb, "series": series, "mini_batch_size": batch, "mini_batches": batches,
                         "seconds": round(seconds, 4)})
            print(f"{gb:>4} GB  {series:<12}  {batches:>7} mini-batches  {seconds:8.3f} s", flush=True)
    return rows


def parse_cost(prs, mb):
    with tempfile.TemporaryDirectory(dir=ROOT) as work:
        make_folder(work, "1MB")
        path = os.path.join(work, "table", "data.csv")
        with open(path, "wb") as f:
            f.write(HEADER)
            chunk = RECORD * ((1 << 20) // len(RECORD))
            for _ in range(mb):
                f.write(chunk)
        import pandas as pd
        start = time.perf_counter()
        pd.read_csv(path)
        pandas_seconds = time.perf_counter() - start
        proc = subprocess.run(["mpiexec", "--oversubscribe", "-np", "2", prs, "job.yml"], cwd=work,
                              capture_output=True, text=True, env=ENV)
        if proc.returncode != 0:
            raise SystemExit(proc.stdout + proc.stderr)
        with open(os.path.join(work, "logs", "job_summary.json")) as f:
            summary = json.load(f)
    run_seconds = summary_run_seconds(summary)
    print(f"time to DataFrame for {mb} MB: worker {run_seconds:.3f} s in 1 MB ranges, pandas.read_csv "
          f"{pandas_seconds:.3f} s whole", flush=True)
    return {"megabytes": mb, "worker_seconds": round(run_seconds, 3), "pandas_read_csv_seconds": round(pandas_seconds, 3)}


def summary_run_seconds(summary):
    """The workers' summed run() time: the parse of each range is inside it (job_summary.json run_seconds)."""
    return summary["run_seconds"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--sizes-gb", type=int, nargs="+", default=[1, 10, 100])
    ap.add_argument("--parse-mb", type=int, default=200)
    ap.add_argument("--out", default=os.path.join(ROOT, "benchmarks", "results", "table_planning.json"))
    args = ap.parse_args()
    prs = os.path.join(args.build, "prs_mpi")
    result = {"planning": planning(prs, args.sizes_gb), "parse": parse_cost(prs, args.parse_mb)}
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
