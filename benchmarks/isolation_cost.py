#!/usr/bin/python3
"""Cost of running the entry script in its own process: the same no-op mini-batches through two builds of
prs_mpi, side by side in one session (runs alternate, so both see the same noisy machine).

  --build DIR      the build to measure (default: build/), whose workers supervise a Python process
  --baseline DIR   a build of an earlier commit, e.g. the last one whose workers embedded Python in the rank:
                     git worktree add /tmp/inproc 5e24afd && PRS_BUILD_DIR=/tmp/inproc/build /tmp/inproc/scripts/build.sh

Prints, per worker count, min/median/max over the runs of the dispatch rate (mini-batches per second from the
first task to the end, job_summary.json) and of the whole run's wall time (mpiexec start to exit), the ratio of the
medians, and the cost per mini-batch on a worker derived from the rates. Writes benchmarks/results/
isolation_cost.{json,png}.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smoke_dispatch import ENV, ROOT, make_job  # noqa: E402


def one_run(prs, workers, work):
    out = os.path.join(work, "out")
    subprocess.run(["rm", "-rf", out], check=True)
    start = time.perf_counter()
    subprocess.run(["mpiexec", "-np", str(workers + 1), prs, "job.yml"], cwd=work, env=ENV, check=True,
                   capture_output=True)
    wall = time.perf_counter() - start
    with open(os.path.join(out, "logs", "job_summary.json")) as f:
        s = json.load(f)
    with open(os.path.join(out, "rows.txt")) as f:
        rows = f.read().split()
    assert len(rows) == len(set(rows)) == s["mini_batches"]["total"], "every row exactly once"
    return s["mini_batches"]["total"] / s["dispatch_seconds"], wall


def spread(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(6, 4))
    width = 0.35
    for i, (name, key) in enumerate((("in-process (baseline)", "baseline"), ("own process", "build"))):
        xs = [j + (i - 0.5) * width for j in range(len(results))]
        med = [r[key]["rate"]["median"] for r in results]
        lo = [m - r[key]["rate"]["min"] for m, r in zip(med, results)]
        hi = [r[key]["rate"]["max"] - m for m, r in zip(med, results)]
        ax.bar(xs, med, width, yerr=[lo, hi], capsize=4, label=name)
    ax.set_xticks(range(len(results)))
    ax.set_xticklabels([f"{r['workers']} workers" for r in results])
    ax.set_ylabel("no-op mini-batches per second (median, min-max)")
    ax.set_title("Entry script in the rank vs in its own process")
    ax.legend()
    ax.grid(axis="y", alpha=0.3)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--baseline", required=True)
    ap.add_argument("--batches", type=int, default=3000)
    ap.add_argument("--workers", default="1,3")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    builds = {"baseline": os.path.join(args.baseline, "prs_mpi"), "build": os.path.join(args.build, "prs_mpi")}
    work = make_job(args.batches, 0)
    print(f"{os.cpu_count()} cores; {args.batches} no-op mini-batches of 1 item; {args.runs} runs each, alternating")
    print(f"{'workers':>7} {'build':>9} {'batches/s min / median / max':>32} {'wall s min / median / max':>27}")
    results = []
    for w in (int(x) for x in args.workers.split(",")):
        samples = {k: ([], []) for k in builds}
        for _ in range(args.runs):
            for key, prs in builds.items():
                rate, wall = one_run(prs, w, work)
                samples[key][0].append(rate)
                samples[key][1].append(wall)
        entry = {"workers": w}
        for key in builds:
            entry[key] = {"rate": spread(samples[key][0]), "wall": spread(samples[key][1])}
            r, t = entry[key]["rate"], entry[key]["wall"]
            print(f"{w:>7} {key:>9} {r['min']:>10,.0f} / {r['median']:>7,.0f} / {r['max']:>7,.0f} "
                  f"{t['min']:>9.2f} / {t['median']:5.2f} / {t['max']:5.2f}")
        ratio = entry["build"]["rate"]["median"] / entry["baseline"]["rate"]["median"]
        per_batch = w * (1 / entry["build"]["rate"]["median"] - 1 / entry["baseline"]["rate"]["median"]) * 1e6
        entry["rate_ratio"] = ratio
        entry["extra_us_per_batch_per_worker"] = per_batch
        print(f"{w:>7} {'ratio':>9} {ratio:>10.2f} (own process / in-process, medians); "
              f"{per_batch:+.1f} us per mini-batch on a worker")
        results.append(entry)
    subprocess.run(["rm", "-rf", work])
    out_dir = os.path.join(ROOT, "benchmarks", "results")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "isolation_cost.json"), "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d %H:%M"), "cores": os.cpu_count(), "batches": args.batches,
                   "runs": args.runs, "results": results}, f, indent=2)
    if plot(results, os.path.join(out_dir, "isolation_cost.png")):
        print(f"plot: {os.path.join(out_dir, 'isolation_cost.png')}")


if __name__ == "__main__":
    sys.exit(main())
