#!/usr/bin/python3
"""Scaling of one prs_mpi master, oversubscribed up to 64 ranks on this machine.

Workers whose run() sleeps cost no CPU, so the ranks can outnumber the cores and what shows is the master's limit:
  - weak scaling: --per-worker mini-batches of --weak-seconds of sleep per worker; ideal dispatch time =
    per-worker x seconds at any worker count; efficiency = ideal / measured;
  - strong scaling: --strong-batches mini-batches of --strong-seconds in all; ideal = batches x seconds / workers;
    speed-up = dispatch time at 1 worker / dispatch time;
  - master capacity: --capacity-batches no-op mini-batches (workers answer at once) at 1, 3, 7 workers: the
    master's CPU per mini-batch (job_summary.json master_cpu_seconds / mini-batches; it includes the master's
    polling while the workers start, so it errs high) and capacity = 1 / that, the mini-batches per second one
    master could hand out on a core of its own. From it, the workers one master keeps busy when run() takes
    10 ms, 100 ms or 1 s: capacity x run() time.
The weak table also gives the master's CPU as a share of one core over the whole job (master_cpu_seconds / seconds)
and the CPU seconds of every process of the job (mpiexec, ranks, Python processes: getrusage of the children),
start-up included.
Dispatch time is job_summary.json dispatch_seconds (first task to the end). init() waits until every worker's
init() has started (a file per worker in a folder), so dispatch starts with all workers up; the oversubscribed
start-up of 64 ranks and their Python processes is left out of the figures (it is reported, as wall time).
Every run's output is checked: each input's row exactly once.
Writes benchmarks/results/scaling.{json,png}. A full run takes about 5 minutes here; --workers and the sizes make
it bigger (e.g. --workers 1,7,31,63,127 --per-worker 40).

Usage: benchmarks/scaling.py [--build DIR] [--workers 1,3,7,15,31,63] [--runs 1] [...]
"""
import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import ENV, JOB, ROOT, fail, fmt_mmm, loadavg, machine, mmm, pyplot, save_json, table  # noqa

SCORE = """\
import os, time
SECONDS = {seconds}
WORKERS = {workers}
def init():
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), "barrier")
    open(os.path.join(here, str(os.getpid())), "w").close()
    deadline = time.monotonic() + 600
    while len(os.listdir(here)) < WORKERS:
        if time.monotonic() > deadline:
            raise RuntimeError("not every worker started within 600 s")
        time.sleep(0.05)
def run(mini_batch):
    if SECONDS:
        time.sleep(SECONDS)
    return mini_batch
"""


def children_cpu():
    """CPU seconds of every finished child process, theirs included (mpiexec, the ranks, the Python processes)."""
    u = resource.getrusage(resource.RUSAGE_CHILDREN)
    return u.ru_utime + u.ru_stime


def run_job(build, workers, batches, seconds):
    """One prs_mpi job: (job_summary.json, wall seconds, CPU seconds of every process of the job)."""
    work = tempfile.mkdtemp(prefix="prs_scaling_")
    try:
        os.makedirs(os.path.join(work, "data"))
        os.makedirs(os.path.join(work, "barrier"))
        items = []
        for i in range(batches):
            items.append(os.path.join(work, "data", f"{i:07d}"))
            with open(items[-1], "w") as f:
                f.write("x")
        with open(os.path.join(work, "job.yml"), "w") as f:
            f.write(JOB)
        with open(os.path.join(work, "score.py"), "w") as f:
            f.write(SCORE.format(seconds=seconds, workers=workers))
        t0, c0 = time.perf_counter(), children_cpu()
        p = subprocess.run(["mpiexec", "-np", str(workers + 1), os.path.join(build, "prs_mpi"), "job.yml"], cwd=work,
                           env=ENV, capture_output=True, text=True)
        wall, cpu = time.perf_counter() - t0, children_cpu() - c0
        if p.returncode != 0:
            fail(f"prs_mpi exited {p.returncode} at {workers} workers: {p.stderr[-2000:]}")
        with open(os.path.join(work, "out", "rows.txt")) as f:
            rows = f.read().splitlines()
        if sorted(rows) != items:
            fail(f"{len(rows)} rows for {batches} inputs at {workers} workers, or not each input once")
        with open(os.path.join(work, "out", "logs", "job_summary.json")) as f:
            return json.load(f), wall, cpu
    finally:
        shutil.rmtree(work, ignore_errors=True)


def measure(build, workers, batches, seconds, runs, loads):
    out = {"workers": workers, "batches": batches, "seconds": seconds, "dispatch": [], "wall": [], "master_us": [],
           "master_share": [], "job_cpu": []}
    for _ in range(runs):
        s, wall, cpu = run_job(build, workers, batches, seconds)
        loads.append(loadavg())
        out["dispatch"].append(s["dispatch_seconds"])
        out["wall"].append(wall)
        out["master_us"].append(1e6 * s["master_cpu_seconds"] / batches)
        out["master_share"].append(100 * s["master_cpu_seconds"] / s["seconds"])
        out["job_cpu"].append(cpu)
    return out


def plot(weak, strong, capacity, path):
    plt = pyplot()
    if plt is None:
        return False
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    w = [r["workers"] for r in weak]
    axes[0].plot(w, [r["ideal"] / mmm(r["dispatch"])[1] for r in weak], "o-", label="prs_mpi")
    axes[0].axhline(1.0, color="gray", ls=":", label="ideal")
    axes[0].set_title(f"weak scaling: {weak[0]['per_worker']} x {weak[0]['seconds']} s per worker")
    axes[0].set_ylabel("efficiency (ideal / dispatch time)")
    axes[0].set_ylim(0, 1.1)
    w = [r["workers"] for r in strong]
    base = mmm(strong[0]["dispatch"])[1] * strong[0]["workers"]
    axes[1].plot(w, [base / mmm(r["dispatch"])[1] for r in strong], "o-", label="prs_mpi")
    axes[1].plot(w, w, ":", color="gray", label="ideal")
    axes[1].set_title(f"strong scaling: {strong[0]['batches']} x {strong[0]['seconds']} s in all")
    axes[1].set_ylabel("speed-up")
    axes[1].set_yscale("log", base=2)
    for ax in axes[:2]:
        ax.set_xscale("log", base=2)
        ax.set_xlabel("workers (ranks - 1, on %d cores)" % os.cpu_count())
        ax.grid(alpha=0.3, which="both")
        ax.legend()
    times = [0.01, 0.1, 1.0]
    axes[2].loglog(times, [capacity * t for t in times], "o-", label="capacity x run() time")
    axes[2].set_xlabel("run() seconds")
    axes[2].set_ylabel("workers one master feeds")
    axes[2].set_title(f"projection: capacity {capacity:,.0f} mini-batches/s")
    axes[2].grid(alpha=0.3, which="both")
    axes[2].legend()
    fig.savefig(path, dpi=90, bbox_inches="tight")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="the build folder (default build/)")
    ap.add_argument("--workers", default="1,3,7,15,31,63", help="worker counts (default 1,3,7,15,31,63)")
    ap.add_argument("--runs", type=int, default=1, help="runs per point (default 1)")
    ap.add_argument("--per-worker", type=int, default=20, help="weak: mini-batches per worker (default 20)")
    ap.add_argument("--weak-seconds", type=float, default=0.05, help="weak: run() sleep (default 0.05)")
    ap.add_argument("--strong-batches", type=int, default=504, help="strong: mini-batches in all (default 504)")
    ap.add_argument("--strong-seconds", type=float, default=0.01, help="strong: run() sleep (default 0.01)")
    ap.add_argument("--capacity-batches", type=int, default=20000, help="no-op mini-batches (default 20000)")
    ap.add_argument("--capacity-workers", default="1,3,7", help="worker counts of the no-op runs (default 1,3,7)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    workers = [int(x) for x in args.workers.split(",")]
    info = machine()
    loads = [loadavg()]
    print(f"{info['host']}: {info['cores']} cores ({info['cpu']}); up to {max(workers) + 1} ranks; "
          f"load average {loads[0]:.2f} at the start")

    weak = []
    for w in workers:
        r = measure(build, w, w * args.per_worker, args.weak_seconds, args.runs, loads)
        r.update(per_worker=args.per_worker, ideal=args.per_worker * args.weak_seconds)
        weak.append(r)
    print(f"\nweak scaling: {args.per_worker} mini-batches of {args.weak_seconds} s per worker, "
          f"ideal dispatch {args.per_worker * args.weak_seconds:.2f} s")
    table(["workers", "dispatch s min / median / max", "efficiency", "wall s (with start-up)",
           "master CPU % of a core", "CPU s of all processes"],
          [[r["workers"], fmt_mmm(r["dispatch"], ".3f"), f"{r['ideal'] / mmm(r['dispatch'])[1]:.2f}",
            fmt_mmm(r["wall"], ".2f"), fmt_mmm(r["master_share"], ".2f"), fmt_mmm(r["job_cpu"], ".2f")]
           for r in weak])

    strong = []
    for w in workers:
        r = measure(build, w, args.strong_batches, args.strong_seconds, args.runs, loads)
        r.update(ideal=args.strong_batches * args.strong_seconds / w)
        strong.append(r)
    base = mmm(strong[0]["dispatch"])[1] * strong[0]["workers"]
    print(f"\nstrong scaling: {args.strong_batches} mini-batches of {args.strong_seconds} s in all")
    table(["workers", "dispatch s min / median / max", "ideal s", "speed-up", "efficiency", "wall s (with start-up)"],
          [[r["workers"], fmt_mmm(r["dispatch"], ".3f"), f"{r['ideal']:.3f}",
            f"{base / mmm(r['dispatch'])[1]:.1f}", f"{r['ideal'] / mmm(r['dispatch'])[1]:.2f}",
            fmt_mmm(r["wall"], ".2f")] for r in strong])

    cap = [measure(build, int(w), args.capacity_batches, 0, max(args.runs, 3), loads)
           for w in args.capacity_workers.split(",")]
    print(f"\nmaster capacity: {args.capacity_batches} no-op mini-batches (workers answer at once)")
    table(["workers", "mini-batches/s min / median / max", "master CPU us/batch min / median / max",
           "capacity /s (1 / median)"],
          [[r["workers"], fmt_mmm([r["batches"] / d for d in r["dispatch"]]), fmt_mmm(r["master_us"], ".2f"),
            f"{1e6 / mmm(r['master_us'])[1]:,.0f}"] for r in cap])
    best = min(cap, key=lambda r: mmm(r["master_us"])[1])
    capacity = 1e6 / mmm(best["master_us"])[1]
    print(f"\nworkers one master feeds = capacity ({capacity:,.0f} mini-batches/s, at {best['workers']} workers) "
          "x run() time")
    table(["run() time", "workers"], [[f"{t:g} s", f"{capacity * t:,.0f}"] for t in (0.01, 0.1, 1.0)])
    print(f"\nload average during the runs: {min(loads):.2f} .. {max(loads):.2f}; every output checked")
    out = save_json("scaling", {**info, "load": [min(loads), max(loads)], "weak": weak, "strong": strong,
                                "capacity_runs": cap, "capacity_per_s": capacity,
                                "projected_workers": {str(t): capacity * t for t in (0.01, 0.1, 1.0)}})
    print(f"results: {out}")
    png = os.path.join(os.path.dirname(out), "scaling.png")
    if plot(weak, strong, capacity, png):
        print(f"plot: {png}")


if __name__ == "__main__":
    sys.exit(main())
