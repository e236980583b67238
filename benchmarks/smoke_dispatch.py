#!/usr/bin/python3
"""Smoke benchmark of prs_mpi's dispatch: no-op mini-batches of one item with 1, 3 and 7 workers.

Prints, for each worker count, min / median / max over --runs runs of:
  - batches per second from the first task sent to the end (job_summary.json: dispatch_seconds);
  - the master's CPU per mini-batch (rank 0's whole run, start-up waits included, over the mini-batches);
  - the CPU of every process of the run (mpiexec, the ranks, their Python processes) per mini-batch, less that of
    a run of a few mini-batches (start-up and the end) in the same round;
and, once per build, the master's CPU share while every worker sleeps inside run() (rank 0 must not spin a core
while it waits), and a worker rank's over each sleep (min / median / max of its threads' schedstat, read by run()) and the journal's share of the dispatch time. Every run's output is checked: each row once.
When mpi4py is installed (python3-mpi4py), the same no-op tasks through mpi4py.futures run in the same rounds.
With --baseline DIR (the build of an earlier commit) the two builds alternate run by run, so both see the same
noisy machine, and the ratios of the medians are printed. Writes benchmarks/results/smoke_dispatch.json and, when
matplotlib is installed, smoke_dispatch.png (smoke_dispatch_all_ready.* with --all-ready).

With --interleave the worker counts take turns round by round (1, 3, 7, 1, 3, 7, ...) instead of one count's rounds
after the other's, so that the machine's drift falls on each count alike (the target "7 workers no slower than 3").

With --all-ready, init() waits until every worker's init() has started (as in scaling.py), so the dispatch seconds
hold no other worker's start-up (on 2 cores a Python start-up takes a core for ~0.1 s).

Usage: benchmarks/smoke_dispatch.py [--build DIR] [--baseline DIR] [--batches N] [--workers 1,3,7] [--runs N]
                                    [--all-ready] [--interleave]
"""
import argparse
import json
import os
import resource
import shutil
import statistics
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


SLEEPY = """\
import glob, os, time
def rank_cpu_ns():
    total = 0
    for path in glob.glob(f"/proc/{{os.getppid()}}/task/*/schedstat"):
        with open(path) as f:
            total += int(f.read().split()[0])
    return total
def run(mini_batch):
    cpu0, t0 = rank_cpu_ns(), time.monotonic()
    time.sleep({sleep})
    cpu, wall = rank_cpu_ns() - cpu0, time.monotonic() - t0
    with open(os.path.join({out!r}, f"{{os.getpid()}}_{{time.monotonic_ns()}}"), "w") as f:
        f.write(f"{{cpu / 1e9 / wall}}\\n")
    return mini_batch
"""


BARRIER = """\
import os, time
def init():  # dispatch starts once every worker is up: no other worker's start-up overlaps it
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "barrier")
    open(os.path.join(here, str(os.getpid())), "w").close()
    deadline = time.monotonic() + 600
    while len(os.listdir(here)) < {workers}:
        if time.monotonic() > deadline:
            raise RuntimeError("not every worker started within 600 s")
        time.sleep(0.01)
"""


def make_job(batches, sleep, all_ready=0):
    """A job folder; with all_ready = the worker count, init() waits until every worker's init() has started."""
    work = tempfile.mkdtemp(prefix="prs_bench_")
    os.makedirs(os.path.join(work, "data"))
    os.makedirs(os.path.join(work, "barrier"))
    for i in range(batches):
        with open(os.path.join(work, "data", f"{i:07d}"), "w") as f:
            f.write("x")
    with open(os.path.join(work, "job.yml"), "w") as f:
        f.write(JOB.format())
    with open(os.path.join(work, "score.py"), "w") as f:
        if all_ready:
            f.write(BARRIER.format(workers=all_ready))
        if sleep > 0:  # the rank's CPU (its parent's threads) over the sleep, into rank_cpu/: its idle polling
            f.write(SLEEPY.format(sleep=sleep, out=os.path.join(work, "rank_cpu")))
        else:  # a true no-op: time.sleep(0) is a syscall
            f.write("def run(mini_batch):\n    return mini_batch\n")
    os.makedirs(os.path.join(work, "rank_cpu"))
    return work


def children_cpu():
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def run_in(prs, workers, work):
    """One run in a job folder made by make_job: its job_summary.json plus the CPU of all its processes."""
    shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
    for name in os.listdir(os.path.join(work, "barrier")):
        os.unlink(os.path.join(work, "barrier", name))
    cpu0 = children_cpu()
    subprocess.run(["mpiexec", "-np", str(workers + 1), prs, "job.yml"], cwd=work, env=ENV, check=True,
                   capture_output=True)
    cpu = children_cpu() - cpu0
    with open(os.path.join(work, "out", "logs", "job_summary.json")) as f:
        summary = json.load(f)
    summary["all_cpu_seconds"] = cpu
    with open(os.path.join(work, "out", "rows.txt")) as f:
        rows = f.read().split()
    total = summary["mini_batches"]["total"]
    assert len(rows) == len(set(rows)) == total, f"{prs}: {len(rows)} rows, {len(set(rows))} distinct, {total} batches"
    return summary


def run_prs(prs, workers, batches, sleep):
    work = make_job(batches, sleep)
    try:
        summary = run_in(prs, workers, work)
        shares = []
        for name in os.listdir(os.path.join(work, "rank_cpu")):
            with open(os.path.join(work, "rank_cpu", name)) as f:
                shares.append(float(f.read()))
        summary["rank_shares_while_sleeping"] = shares
        return summary
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


def spread(values):
    values = [v for v in values if v is not None]
    if not values:
        return None
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    workers = [r["workers"] for r in results]
    plt.figure(figsize=(6, 4))
    series = [("build", "prs_mpi", "o-"), ("baseline", "prs_mpi baseline", "^:"),
              ("mpi4py", "mpi4py.futures (chunksize 1)", "s--")]
    for key, label, style in series:
        if not all(r.get(key) for r in results):
            continue
        med = [r[key]["rate"]["median"] for r in results]
        lo = [m - r[key]["rate"]["min"] for m, r in zip(med, results)]
        hi = [r[key]["rate"]["max"] - m for m, r in zip(med, results)]
        plt.errorbar(workers, med, yerr=[lo, hi], fmt=style, capsize=3, label=label)
    plt.xlabel("workers (2 cores, oversubscribed)")
    plt.ylabel("no-op mini-batches per second (median, min-max)")
    plt.title("Dispatch throughput, 1 item per mini-batch")
    plt.legend()
    plt.grid(alpha=0.3)
    plt.savefig(path, dpi=100, bbox_inches="tight")
    return True


def fmt(s, scale=1.0, digits=0):
    if s is None:
        return "n/a"
    return " / ".join(f"{v * scale:,.{digits}f}" for v in (s["min"], s["median"], s["max"]))


class Rounds:
    """The rounds of one worker count: each build (and mpi4py.futures) once per round, in turn."""

    def __init__(self, builds, w, batches, all_ready):
        ready = w if all_ready else 0
        self.builds, self.w, self.batches = builds, w, batches
        self.work, self.small = make_job(batches, 0, ready), make_job(4 * w, 0, ready)
        self.samples = {k: {"rate": [], "master_us": [], "all_us": [], "journal": []} for k in builds}
        self.other = []

    def round(self, i):
        order = list(self.builds.items())
        for key, prs in order[i % len(order):] + order[:i % len(order)]:
            s = run_in(prs, self.w, self.work)
            fixed = run_in(prs, self.w, self.small)["all_cpu_seconds"]
            n = s["mini_batches"]["total"]
            self.samples[key]["rate"].append(n / s["dispatch_seconds"])
            self.samples[key]["master_us"].append(1e6 * s["master_cpu_seconds"] / n)
            self.samples[key]["all_us"].append(1e6 * (s["all_cpu_seconds"] - fixed) / (n - 4 * self.w))
            self.samples[key]["journal"].append(s["journal_seconds"] / s["dispatch_seconds"])
        self.other.append(run_mpi4py(self.w, self.batches))

    def close(self):
        shutil.rmtree(self.work, ignore_errors=True)
        shutil.rmtree(self.small, ignore_errors=True)

    def entry(self):
        entry = {"workers": self.w}
        for key, prs in self.builds.items():
            entry[key] = {name: spread(v) for name, v in self.samples[key].items()}
            sleepy = run_prs(prs, self.w, 4 * self.w, 1.0)  # every worker asleep in run() for ~4 s
            entry[key]["master_cpu_share_while_sleeping"] = sleepy["master_cpu_seconds"] / sleepy["seconds"]
            entry[key]["rank_cpu_share_while_sleeping"] = spread(sleepy["rank_shares_while_sleeping"])
        rate = spread(self.other)
        entry["mpi4py"] = {"rate": rate} if rate else None
        return entry


def measure(builds, counts, batches, runs, all_ready, interleave):
    """The entry of each worker count: all rounds of one count before the next, or (interleave) round i of every
    count before round i + 1 of any, so that a drift of the machine's speed falls on every count alike."""
    rounds = []
    try:
        for w in counts:
            rounds.append(Rounds(builds, w, batches, all_ready))
            if not interleave:
                for i in range(runs):
                    rounds[-1].round(i)
        if interleave:
            for i in range(runs):
                for r in rounds:
                    r.round(i)
    finally:
        for r in rounds:
            r.close()
    return [r.entry() for r in rounds]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--baseline", help="the build directory of an earlier commit, run alternately with --build")
    ap.add_argument("--batches", type=int, default=3000)
    ap.add_argument("--workers", default="1,3,7")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--interleave", action="store_true",
                    help="round i of every worker count before round i + 1 of any (for comparing worker counts)")
    ap.add_argument("--all-ready", action="store_true",
                    help="init() waits until every worker has started: dispatch without the start-up of the others")
    args = ap.parse_args()
    builds = {"build": os.path.join(args.build, "prs_mpi")}
    if args.baseline:
        builds["baseline"] = os.path.join(args.baseline, "prs_mpi")
    print(f"{os.cpu_count()} cores; {args.batches} no-op mini-batches of 1 item; {args.runs} runs each; "
          f"oversubscribed where needed; min / median / max{'; dispatch with every worker up' if args.all_ready else ''}")
    results = []
    counts = [int(x) for x in args.workers.split(",")]
    for entry in measure(builds, counts, args.batches, args.runs, args.all_ready, args.interleave):
        w = entry["workers"]
        for key in builds:
            e = entry[key]
            print(f"{w} workers {key:>8}: {fmt(e['rate'])} mini-batches/s; master {fmt(e['master_us'], 1, 2)} us "
                  f"CPU per mini-batch; all processes {fmt(e['all_us'], 1, 1)} us; journal "
                  f"{fmt(e['journal'], 100, 2)}% of dispatch; master {100 * e['master_cpu_share_while_sleeping']:.2f}% "
                  f"of a core while workers sleep, a worker rank {fmt(e['rank_cpu_share_while_sleeping'], 100, 2)}%")
        if entry["mpi4py"]:
            print(f"{w} workers   mpi4py: {fmt(entry['mpi4py']['rate'])} tasks/s")
            entry["ratio_to_mpi4py"] = entry["build"]["rate"]["median"] / entry["mpi4py"]["rate"]["median"]
        if "baseline" in builds:
            entry["ratio_to_baseline"] = entry["build"]["rate"]["median"] / entry["baseline"]["rate"]["median"]
            print(f"{w} workers    ratio: {entry['ratio_to_baseline']:.2f}x the baseline (medians)")
        results.append(entry)
    out_dir = os.path.join(ROOT, "benchmarks", "results")
    os.makedirs(out_dir, exist_ok=True)
    name = "smoke_dispatch_all_ready" if args.all_ready else "smoke_dispatch"
    with open(os.path.join(out_dir, name + ".json"), "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count(), "batches": args.batches,
                   "all_ready": args.all_ready, "interleave": args.interleave,
                   "runs": args.runs, "load_average": os.getloadavg(), "results": results}, f, indent=2)
    if plot(results, os.path.join(out_dir, name + ".png")):
        print(f"plot: {os.path.join(out_dir, name + '.png')}")


if __name__ == "__main__":
    sys.exit(main())
