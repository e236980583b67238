#!/usr/bin/python3
"""Dispatch against its peers: no-op mini-batches of one item at 1, 3, 7 and 15 workers through prs_mpi,
mpi4py.futures (chunksize 1) and prs_bare_loop (benchmarks/bare_loop.cpp: prs_mpi's four messages per mini-batch,
task / result / commit / written, with the same waits and nothing else).

For each tool and worker count, over --runs runs (round robin over the tools):
  - mini-batches per second in the dispatch phase (first task to the end; start-up is left out for all three:
    prs_mpi's job_summary.json dispatch_seconds, mpi4py's map() after a warm-up, the bare loop's own clock);
  - the master's CPU per mini-batch (prs_mpi: master_cpu_seconds of the summary, the master loop; mpi4py: rank 0
    around map(); bare loop: rank 0 from the first task to the last written);
  - the workers' CPU per mini-batch, summed over the workers, from each worker's first task to its end (prs_mpi:
    the rank from /proc/<rank>/task/*/schedstat plus its Python process's process_time(), read by the entry
    script in its first run() and in shutdown(); mpi4py: process_time() from the first task to a report task
    each worker runs after the timed map(); bare loop: getrusage from the first task to stop).
"bare loop (no sleep)" is the same loop with a backoff cap of 0 (--cap-us 0: it polls without sleeping; Open MPI
still yields the core in each poll when oversubscribed): the message pattern's own floor, without the wake-ups.
Every run's output is checked: each input's row exactly once (prs_mpi's and the bare loop's output files, mpi4py's
returned values).

End to end (--e2e-workers, default 3): the whole command, `mpiexec` start to exit, start-up and shutdown included,
prs_mpi (the job above) against an mpi4py.futures script that does the same job: lists the folder, maps the no-op
over its files (chunksize 1, unordered) and writes the returned paths to a file, checked as prs_mpi's; once with
Open MPI's default transports and once with OMPI_MCA_pml=ob1 (the setting benchmarks/README.md explains), the four
runs of a round in turn. Writes benchmarks/results/dispatch_peers.{json,png}.

Usage: benchmarks/dispatch_peers.py [--build DIR] [--batches 20000] [--workers 1,3,7,15] [--runs 3] [--skip T,..]
                                    [--e2e-workers 3] [--e2e-runs 5]
"""
import argparse
import glob
import json
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import (ENV, JOB, PYTHON, ROOT, fail, fmt_mmm, loadavg, machine, mmm, pyplot, run_checked,  # noqa
                        save_json, table)

# The no-op entry script; it records its worker's CPU (rank + this process) from the first run() to shutdown().
SCORE = """\
import os, time
_start = None
def _cpu():
    rank = 0
    for tid in os.listdir(f"/proc/{os.getppid()}/task"):
        try:
            with open(f"/proc/{os.getppid()}/task/{tid}/schedstat") as f:
                rank += int(f.read().split()[0])
        except OSError:
            pass
    return rank / 1e9 + time.process_time()
def run(mini_batch):
    global _start
    if _start is None:
        _start = _cpu()
    return mini_batch
def shutdown():
    if _start is not None:
        with open(os.path.join(os.path.dirname(__file__), "cpu", str(os.getpid())), "w") as f:
            f.write(str(_cpu() - _start))
"""

MPI4PY = """\
import os, sys, time
_start = None
def noop(x):
    global _start
    if _start is None:
        _start = time.process_time()
    return x
def report(_):
    cpu = None if _start is None else time.process_time() - _start
    time.sleep(0.2)  # keeps this worker busy so that the other report tasks go to the others
    return os.getpid(), cpu
if __name__ == "__main__":
    from mpi4py.futures import MPIPoolExecutor
    items = [line.rstrip("\\n") for line in open(sys.argv[1])]
    workers = int(sys.argv[2])
    with MPIPoolExecutor() as pool:
        list(pool.map(abs, range(50)))  # warm-up: every worker started
        t0, c0 = time.perf_counter(), time.process_time()
        out = list(pool.map(noop, items, chunksize=1))
        dt, cpu = time.perf_counter() - t0, time.process_time() - c0
        seen = {}
        for _ in range(5):  # each worker's CPU from its first noop to now, one report task each
            seen.update((pid, c) for pid, c in pool.map(report, range(workers)) if c is not None)
            if len(seen) == workers:
                break
    if out != items:
        sys.exit("mpi4py: the returned values differ from the inputs")
    print(dt, cpu, sum(seen.values()) if len(seen) == workers else -1)
"""

# End to end: the same job as prs_mpi's, as a user would write it with mpi4py.futures.
MPI4PY_E2E = """\
import os, sys
def noop(x):
    return x
if __name__ == "__main__":
    from mpi4py.futures import MPIPoolExecutor
    data, out = sys.argv[1], sys.argv[2]
    paths = sorted(os.path.join(data, name) for name in os.listdir(data))
    with MPIPoolExecutor() as pool:
        rows = list(pool.map(noop, paths, chunksize=1, unordered=True))
    with open(out, "w") as f:
        f.write("".join(r + "\\n" for r in rows))
"""

TRANSPORTS = {"default": {}, "ob1": {"OMPI_MCA_pml": "ob1"}}

TOOLS = ("prs_mpi", "mpi4py.futures", "bare loop", "bare loop (no sleep)")


def check_rows(path, items):
    with open(path) as f:
        rows = f.read().splitlines()
    if len(rows) != len(items) or sorted(rows) != items:
        fail(f"{path}: {len(rows)} rows for {len(items)} inputs, or not each input once")


def worker_cpu(cpu_dir, workers):
    files = glob.glob(os.path.join(cpu_dir, "*"))
    if len(files) != workers:
        return None
    return sum(float(open(f).read()) for f in files)


def run_prs(build, work, workers, items):
    shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
    shutil.rmtree(os.path.join(work, "cpu"), ignore_errors=True)
    os.makedirs(os.path.join(work, "cpu"))
    run_checked(["mpiexec", "-np", str(workers + 1), os.path.join(build, "prs_mpi"), "job.yml"], cwd=work, env=ENV)
    check_rows(os.path.join(work, "out", "rows.txt"), items)
    with open(os.path.join(work, "out", "logs", "job_summary.json")) as f:
        s = json.load(f)
    return {"seconds": s["dispatch_seconds"], "master_cpu": s["master_cpu_seconds"],
            "worker_cpu": worker_cpu(os.path.join(work, "cpu"), workers)}


def wall_prs(build, work, workers, items, env):
    shutil.rmtree(os.path.join(work, "out"), ignore_errors=True)
    t0 = time.perf_counter()
    run_checked(["mpiexec", "-np", str(workers + 1), os.path.join(build, "prs_mpi"), "job.yml"], cwd=work, env=env)
    wall = time.perf_counter() - t0
    check_rows(os.path.join(work, "out", "rows.txt"), items)
    return wall


def wall_mpi4py(work, workers, items, env):
    out = os.path.join(work, "mpi4py_rows.txt")
    t0 = time.perf_counter()
    run_checked(["mpiexec", "-np", str(workers + 1), PYTHON, "-m", "mpi4py.futures",
                 os.path.join(work, "mpi4py_e2e.py"), os.path.join(work, "data"), out], env=env)
    wall = time.perf_counter() - t0
    check_rows(out, items)
    return wall


def end_to_end(build, work, items, workers_list, runs, loads):
    """Wall seconds of the whole command, prs_mpi and mpi4py.futures, default transports and ob1, round robin."""
    results = []
    for w in workers_list:
        per = {(tool, t): [] for t in TRANSPORTS for tool in ("prs_mpi", "mpi4py.futures")}
        for run in range(runs):
            keys = list(per)
            for k in range(len(keys)):
                tool, transport = keys[(run + k) % len(keys)]
                env = dict(ENV, **TRANSPORTS[transport])
                wall = wall_prs(build, work, w, items, env) if tool == "prs_mpi" else wall_mpi4py(work, w, items, env)
                per[(tool, transport)].append(wall)
                loads.append(loadavg())
        for t in TRANSPORTS:
            results.append({"workers": w, "transports": t, "prs_mpi": per[("prs_mpi", t)],
                            "mpi4py.futures": per[("mpi4py.futures", t)]})
    return results


def print_end_to_end(e2e, batches):
    rows = []
    for r in e2e:
        ratio = mmm(r["mpi4py.futures"])[1] / mmm(r["prs_mpi"])[1]
        rows.append([r["workers"], r["transports"], fmt_mmm(r["prs_mpi"], ".2f"), fmt_mmm(r["mpi4py.futures"], ".2f"),
                     f"{ratio:.1f}x", f"{batches / mmm(r['prs_mpi'])[1]:,.0f}"])
    print(f"\nEnd to end, {batches} no-op mini-batches, mpiexec start to exit (wall seconds):")
    table(["workers", "transports", "prs_mpi s min / median / max", "mpi4py.futures s min / median / max",
           "prs_mpi faster by (medians)", "prs_mpi mini-batches/s end to end"], rows)


def run_mpi4py(work, workers, items):
    p = run_checked(["mpiexec", "-np", str(workers + 1), PYTHON, "-m", "mpi4py.futures",
                     os.path.join(work, "mpi4py_noop.py"), os.path.join(work, "items.txt"), str(workers)], env=ENV)
    dt, cpu, wcpu = map(float, p.stdout.split())
    return {"seconds": dt, "master_cpu": cpu, "worker_cpu": wcpu if wcpu >= 0 else None}


def run_bare(build, work, workers, items, cap_us):
    out = os.path.join(work, "bare_rows.txt")
    if os.path.exists(out):
        os.unlink(out)
    p = run_checked(["mpiexec", "-np", str(workers + 1), os.path.join(build, "prs_bare_loop"), "--batches",
                     str(len(items)), "--output", out, "--cap-us", str(cap_us)], env=ENV)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    bare_items = sorted(f"/tmp/prs_bench_bare/data/{i:07d}" for i in range(len(items)))
    check_rows(out, bare_items)
    return {"seconds": r["dispatch_seconds"], "master_cpu": r["master_cpu_seconds"],
            "worker_cpu": sum(r["worker_cpu_seconds"])}


def make_work(batches):
    work = tempfile.mkdtemp(prefix="prs_dispatch_peers_")
    os.makedirs(os.path.join(work, "data"))
    items = []
    for i in range(batches):
        path = os.path.join(work, "data", f"{i:07d}")
        with open(path, "w") as f:
            f.write("x")
        items.append(path)
    for name, text in (("job.yml", JOB), ("score.py", SCORE), ("mpi4py_noop.py", MPI4PY),
                       ("mpi4py_e2e.py", MPI4PY_E2E),
                       ("items.txt", "".join(i + "\n" for i in items))):
        with open(os.path.join(work, name), "w") as f:
            f.write(text)
    return work, items


def plot(results, path):
    plt = pyplot()
    if plt is None:
        return False
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for tool, marker in zip(TOOLS, "os^v"):
        rows = [r for r in results if r["tool"] == tool]
        if not rows:
            continue
        w = [r["workers"] for r in rows]
        axes[0].plot(w, [mmm(r["rate"])[1] for r in rows], marker + "-", label=tool)
        axes[1].plot(w, [mmm(r["master_us"])[1] for r in rows], marker + "-", label=tool)
        if all(r["worker_us"] for r in rows):
            axes[2].plot(w, [mmm(r["worker_us"])[1] for r in rows], marker + "-", label=tool)
    for ax, title in zip(axes, ("mini-batches/s (dispatch phase)", "master CPU us per mini-batch",
                                "workers' CPU us per mini-batch (sum)")):
        ax.set_xlabel("workers")
        ax.set_title(title)
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.grid(alpha=0.3, which="both")
    axes[0].legend()
    fig.suptitle("No-op mini-batches of one item, medians")
    fig.savefig(path, dpi=90, bbox_inches="tight")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"), help="the build folder (default build/)")
    ap.add_argument("--batches", type=int, default=20000, help="no-op mini-batches per run (default 20000)")
    ap.add_argument("--workers", default="1,3,7,15", help="worker counts (default 1,3,7,15)")
    ap.add_argument("--runs", type=int, default=3, help="runs per tool and worker count (default 3)")
    ap.add_argument("--skip", default="", help="tools to leave out, comma-separated: prs_mpi, mpi4py.futures, "
                    "bare loop, bare loop (no sleep)")
    ap.add_argument("--e2e-workers", default="3", help="worker counts of the end-to-end runs (default 3; "
                    "empty: none)")
    ap.add_argument("--e2e-runs", type=int, default=5, help="end-to-end runs per tool and transport (default 5)")
    args = ap.parse_args()
    build = os.path.abspath(args.build)
    tools = [t for t in TOOLS if t not in [x.strip() for x in args.skip.split(",")]]
    work, items = make_work(args.batches)
    info = machine()
    print(f"{info['host']}: {info['cores']} cores ({info['cpu']}); {args.batches} no-op mini-batches of one item, "
          f"{args.runs} runs; load average {loadavg():.2f} at the start")
    results, loads = [], []
    try:
        for w in (int(x) for x in args.workers.split(",")):
            per = {t: {"tool": t, "workers": w, "rate": [], "master_us": [], "worker_us": []} for t in tools}
            for run in range(args.runs):
                for k in range(len(tools)):
                    tool = tools[(run + k) % len(tools)]
                    if tool == "prs_mpi":
                        r = run_prs(build, work, w, items)
                    elif tool == "mpi4py.futures":
                        r = run_mpi4py(work, w, items)
                    elif tool == "bare loop":
                        r = run_bare(build, work, w, items, 1000)
                    else:
                        r = run_bare(build, work, w, items, 0)
                    loads.append(loadavg())
                    per[tool]["rate"].append(args.batches / r["seconds"])
                    per[tool]["master_us"].append(1e6 * r["master_cpu"] / args.batches)
                    if r["worker_cpu"] is not None:
                        per[tool]["worker_us"].append(1e6 * r["worker_cpu"] / args.batches)
            results.extend(per[t] for t in tools)
        e2e_workers = [int(x) for x in args.e2e_workers.split(",") if x.strip()]
        e2e = end_to_end(build, work, items, e2e_workers, args.e2e_runs, loads) if e2e_workers else []
    finally:
        shutil.rmtree(work, ignore_errors=True)
    rows = []
    for r in results:
        base = next(x for x in results if x["workers"] == r["workers"] and x["tool"] == tools[0])
        ratio = mmm(r["rate"])[1] / mmm(base["rate"])[1]
        rows.append([r["workers"], r["tool"], fmt_mmm(r["rate"]), f"{ratio:.2f}", fmt_mmm(r["master_us"], ".1f"),
                     fmt_mmm(r["worker_us"], ".1f") if r["worker_us"] else "n/a"])
    print()
    table(["workers", "tool", "mini-batches/s min / median / max", f"vs {tools[0]}",
           "master CPU us/batch", "workers' CPU us/batch"], rows)
    if e2e:
        print_end_to_end(e2e, args.batches)
    print(f"\nload average during the runs: {min(loads):.2f} .. {max(loads):.2f}; every output checked")
    out = save_json("dispatch_peers", {**info, "batches": args.batches, "runs": args.runs,
                                       "load": [min(loads), max(loads)], "results": results,
                                       "end_to_end": e2e})
    print(f"results: {out}")
    png = os.path.join(os.path.dirname(out), "dispatch_peers.png")
    if plot(results, png):
        print(f"plot: {png}")


if __name__ == "__main__":
    sys.exit(main())
