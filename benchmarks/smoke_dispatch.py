#!/usr/bin/python3
"""Smoke benchmark of prs_mpi's dispatch: no-op mini-batches of one item with 1, 3 and 7 workers.

Prints, for each worker count:
  - batches per second from the first task sent to the end (job_summary.json: dispatch_seconds), and
  - the master's CPU share while every worker sleeps inside run() (rank 0 must not spin a core while it waits),
  - the journal's share of the dispatch time (its write(2) and fsync(2) calls, measured inside rank 0).
When mpi4py is installed (python3-mpi4py), the same no-op tasks through mpi4py.futures run side by side, in the
same session, so the figures compare on the same noisy machine. Writes benchmarks/results/smoke_dispatch.json and,
when matplotlib is installed, smoke_dispatch.png.

Usage: benchmarks/smoke_dispatch.py [--build DIR] [--batches N] [--workers 1,3,7]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")

JOB = """\
type: parallel
inputs:
  input_data: {{type: uri_folder, path: ./data}}
outputs:
  out: {{type: uri_file, path: ./out/rows.txt}}
input_data: ${{{{inputs.input_data}}}}
mini_batch_size: "1"
task:
  type: run_function
  code: .
  entry_script: score.py
  append_row_to: ${{{{outputs.out}}}}
"""

MPI4PY_FUTURES = """
import sys, time
from mpi4py.futures import MPIPoolExecutor
def noop(x):
    return x
if __name__ == "__main__":
    n = int(sys.argv[1])
    with MPIPoolExecutor() as pool:
        list(pool.map(noop, range(10)))  # warm up: workers started
        t0 = time.perf_counter()
        out = list(pool.map(noop, range(n), chunksize=1))
        dt = time.perf_counter() - t0
    assert out == list(range(n))
    print(dt)
"""


def make_job(batches, sleep):
    work = tempfile.mkdtemp(prefix="prs_bench_")
    os.makedirs(os.path.join(work, "data"))
    for i in range(batches):
        with open(os.path.join(work, "data", f"{i:07d}"), "w") as f:
            f.write("x")
    with open(os.path.join(work, "job.yml"), "w") as f:
        f.write(JOB.format())
    with open(os.path.join(work, "score.py"), "w") as f:
        f.write(f"import time\ndef run(mini_batch):\n    time.sleep({sleep})\n    return mini_batch\n")
    return work


def run_prs(prs, workers, batches, sleep):
    work = make_job(batches, sleep)
    try:
        subprocess.run(["mpiexec", "-np", str(workers + 1), prs, "job.yml"], cwd=work, env=ENV, check=True,
                       capture_output=True)
        with open(os.path.join(work, "out", "logs", "job_summary.json")) as f:
            return json.load(f)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_mpi4py(workers, batches):
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return None
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(MPI4PY_FUTURES)
    try:
        out = subprocess.run(["mpiexec", "-np", str(workers + 1), "/usr/bin/python3", "-m", "mpi4py.futures", f.name,
                              str(batches)], env=ENV, check=True, capture_output=True, text=True)
        return batches / float(out.stdout.strip().splitlines()[-1])
    finally:
        os.unlink(f.name)


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    workers = [r["workers"] for r in results]
    plt.figure(figsize=(6, 4))
    plt.plot(workers, [r["prs_batches_per_s"] for r in results], "o-", label="prs_mpi")
    if all(r["mpi4py_tasks_per_s"] for r in results):
        plt.plot(workers, [r["mpi4py_tasks_per_s"] for r in results], "s--", label="mpi4py.futures (chunksize 1)")
    plt.xlabel("workers")
    plt.ylabel("no-op mini-batches per second")
    plt.title("Dispatch throughput, 1 item per mini-batch")
    plt.legend()
    plt.grid(alpha=0.3)
    plt.savefig(path, dpi=100, bbox_inches="tight")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--batches", type=int, default=3000)
    ap.add_argument("--workers", default="1,3,7")
    args = ap.parse_args()
    prs = os.path.join(args.build, "prs_mpi")
    print(f"{os.cpu_count()} cores; {args.batches} no-op mini-batches of 1 item; oversubscribed where needed")
    print(f"{'workers':>7} {'prs_mpi batches/s':>18} {'mpi4py.futures tasks/s':>23} {'ratio':>6} "
          f"{'master CPU while workers sleep':>31} {'journal share':>14}")
    results = []
    for w in (int(x) for x in args.workers.split(",")):
        fast = run_prs(prs, w, args.batches, 0)
        rate = fast["mini_batches"]["total"] / fast["dispatch_seconds"]
        journal = fast["journal_seconds"] / fast["dispatch_seconds"]
        sleepy = run_prs(prs, w, 4 * w, 1.0)  # every worker asleep in run() for ~4 s
        share = sleepy["master_cpu_seconds"] / sleepy["seconds"]
        other = run_mpi4py(w, args.batches)
        ratio = f"{rate / other:6.2f}" if other else "   n/a"
        print(f"{w:>7} {rate:>18,.0f} {other or float('nan'):>23,.0f} {ratio} {100 * share:>30.2f}% "
              f"{100 * journal:>13.2f}%")
        results.append({"workers": w, "prs_batches_per_s": rate, "mpi4py_tasks_per_s": other,
                        "master_cpu_share_while_sleeping": share, "sleep_job_seconds": sleepy["seconds"],
                        "journal_share_of_dispatch": journal, "journal_bytes": fast["journal_bytes"]})
    out_dir = os.path.join(ROOT, "benchmarks", "results")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "smoke_dispatch.json"), "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count(), "batches": args.batches,
                   "results": results}, f, indent=2)
    if plot(results, os.path.join(out_dir, "smoke_dispatch.png")):
        print(f"plot: {os.path.join(out_dir, 'smoke_dispatch.png')}")


if __name__ == "__main__":
    sys.exit(main())
