#!/usr/bin/python3
"""A PNG of a finished prs_mpi job: one timeline row per worker (init, each mini-batch attempt, shutdown; failed
attempts in red) and the throughput curve (mini-batches ended per second), from the --trace file and
job_summary.json.

    prs_mpi job.yml --trace trace.json ...
    scripts/plot_job.py trace.json out/logs/job_summary.json -o job.png

Needs matplotlib (Debian: python3-matplotlib). The summary is optional; it adds the job's counts to the title.
"""
import argparse
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

COLOURS = {"init": "#8c8c8c", "run": "#3b78c2", "failed": "#d62728", "shutdown": "#b0b0b0", "master": "#6a9f58"}


def load_trace(path):
    with open(path) as f:
        events = json.load(f)["traceEvents"]
    names = {e["tid"]: e["args"]["name"] for e in events if e.get("ph") == "M" and e.get("name") == "thread_name"}
    spans = [e for e in events if e.get("ph") == "X"]
    return names, spans


def title_of(summary):
    if summary is None:
        return "prs_mpi job"
    b = summary.get("mini_batches", {})
    return (f"prs_mpi job: {summary.get('status')}, {b.get('succeeded')} of {b.get('total')} mini-batches succeeded, "
            f"{b.get('failed')} failed, {summary.get('seconds', 0):.1f} s")


def plot_timeline(ax, names, spans):
    tracks = sorted(names)
    row = {tid: i for i, tid in enumerate(tracks)}
    for cat, colour in COLOURS.items():
        bars = [(e["ts"] / 1e6, max(e["dur"] / 1e6, 1e-4)) for e in spans if e["cat"] == cat and e["tid"] in row]
        rows = [row[e["tid"]] for e in spans if e["cat"] == cat and e["tid"] in row]
        for y in sorted(set(rows)):
            ax.broken_barh([b for b, r in zip(bars, rows) if r == y], (y - 0.4, 0.8), facecolors=colour,
                           edgecolor="white", linewidth=0.3)
    ax.set_yticks(range(len(tracks)))
    ax.set_yticklabels([names[t] for t in tracks])
    ax.invert_yaxis()
    ax.set_xlabel("seconds since the master started")
    ax.legend(handles=[Patch(color=c, label=n) for n, c in COLOURS.items()], loc="lower right",
              bbox_to_anchor=(1, 1), ncol=len(COLOURS), fontsize="small", frameon=False)


def plot_throughput(ax, spans):
    """Attempts ended per second in up to 60 bins of the run (a few attempts per bin at least), and their total."""
    ends = sorted((e["ts"] + e["dur"]) / 1e6 for e in spans if e["cat"] in ("run", "failed"))
    if not ends:
        ax.text(0.5, 0.5, "no mini-batch ran", ha="center", transform=ax.transAxes)
        return
    bins = max(5, min(60, len(ends) // 4))
    last = max(ends[-1], 1e-3)
    width = last / bins
    counts = [0] * bins
    for t in ends:
        counts[min(int(t / width), bins - 1)] += 1
    ax.step([i * width for i in range(bins + 1)], [c / width for c in counts] + [counts[-1] / width], where="post",
            color=COLOURS["run"])
    ax.set_xlabel("seconds since the master started")
    ax.set_ylabel("attempts ended / s")
    total = ax.twinx()
    total.plot(ends, range(1, len(ends) + 1), color=COLOURS["master"], linewidth=1)
    total.set_ylabel("attempts ended", color=COLOURS["master"])


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trace", help="the --trace file")
    parser.add_argument("summary", nargs="?", help="logs/job_summary.json (optional)")
    parser.add_argument("-o", "--output", default="job_timeline.png", help="the PNG to write")
    args = parser.parse_args(argv)
    names, spans = load_trace(args.trace)
    summary = None
    if args.summary:
        with open(args.summary) as f:
            summary = json.load(f)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(12, 2 + 0.35 * len(names) + 3),
                                      gridspec_kw={"height_ratios": [max(len(names), 2), 3]})
    fig.suptitle(title_of(summary))
    plot_timeline(top, names, spans)
    plot_throughput(bottom, spans)
    top.set_xlim(left=0)
    bottom.set_xlim(top.get_xlim())
    fig.tight_layout()
    fig.savefig(args.output, dpi=100)
    print(f"plot_job.py: wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
