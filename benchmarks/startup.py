#!/usr/bin/python3
"""Start-up and shutdown of prs_mpi: `mpirun` to the first run(), phase by phase, and the last run() to the exit.

Runs a no-op job (3 workers by default) on a small input (20 files) and on a big listing (--big empty files in
$TMPDIR/prs_startup_<N>/, created once and reused), each with Open MPI's default transports and with
OMPI_MCA_pml=ob1 (which skips probing for InfiniBand/Omni-Path), --runs times, round robin. Each run takes:
  - from `--trace`: rank 0's start-up phases (MPI_Init, node discovery, the checks before the workers start, the
    listing, partition and fingerprint, journal and logs) and the trace's wall-clock origin (rank 0's start);
  - from the entry script itself (time.time() stamps): when its import began and ended, init() ran, the first run()
    began and the last one ended, on every worker;
  - the benchmark's own clock around `mpirun`.
Phases: launch (mpirun to rank 0's start), MPI_Init, ..., workers' Python start (rank 0 lets the workers start ->
the entry script's import begins; split at the start of the trace's init() spans: the worker's set-up until it
spawned its Python process, or adopted the one it started before MPI_Init, then that process until the import:
exec, interpreter and runner for a fresh one, only its log files and environment for an adopted one), import,
init(), first task (init() returned -> the first run() began), and shutdown (the last run() returned -> mpirun
exited). "mpirun -> first run()" is the total the issue's target is about. A prestarted process starts during
launch and MPI_Init, off that path; its own start (exec, interpreter, runner, until it waits for its rank) is timed
alone, --runs times: `prs_mpi --python-process --prestart` until it blocks reading its link (/proc/PID/syscall).
With --baseline DIR (an earlier build), that build runs the same jobs side by side; without start-up spans in
its trace only its totals are shown. --flat puts the big listing in one folder; --delay-us N stands in for a slow
file system (PRS_TEST_LISTING_DELAY_US: N microseconds per file listed, on top of its stat); --per-folder runs
the same build again with PRS_TEST_LISTING_PER_FOLDER=1 (a folder's paths released only once it is read whole, as
before the release within a folder), labelled "per folder: ". "listing's own time" is the listing thread's time
from its start to its end (the master's note), or the whole listing's phase when it was not streamed.

Writes benchmarks/results/startup.json and, with matplotlib, startup.png. Not a test: nothing is asserted.

Usage: benchmarks/startup.py [--build DIR] [--baseline DIR] [--runs 5] [--workers 3] [--big 200000] [--no-big]
                             [--flat] [--delay-us N] [--per-folder]
"""
import argparse
import fcntl
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")
for chosen in ("OMPI_MCA_pml", "OMPI_MCA_mtl", "OMPI_MCA_btl"):
    ENV.pop(chosen, None)  # each setting is chosen per run below

JOB = """\
type: parallel
inputs:
  input_data: {{type: uri_folder, path: {data}}}
outputs:
  out: {{type: uri_file, path: ./out/rows.txt}}
input_data: ${{{{inputs.input_data}}}}
mini_batch_size: "{batch}"
environment_variables: {{PRS_BENCH_STAMPS: "{stamps}"}}
task:
  type: run_function
  code: .
  entry_script: score.py
  append_row_to: ${{{{outputs.out}}}}
"""

# The entry script stamps its own phases; it writes them once, in shutdown().
SCORE = """\
import time
_IMPORT_BEGIN = time.time()
import json, os

_stamps = {"import_begin": _IMPORT_BEGIN}


def init():
    _stamps["init_begin"] = time.time()
    _stamps["init_end"] = time.time()


def run(mini_batch):
    now = time.time()
    _stamps.setdefault("first_run", now)
    _stamps["last_run_end"] = time.time()
    return [len(mini_batch)]


def shutdown():
    path = os.path.join(os.environ["PRS_BENCH_STAMPS"], "%d.json" % os.getpid())
    with open(path, "w") as f:
        json.dump(_stamps, f)


_stamps["import_end"] = time.time()
"""

RANK0 = ["MPI_Init", "node discovery", "job file, output checks, job lock", "listing", "partition and fingerprint",
         "journal and logs"]
PHASES = ["launch"] + RANK0 + ["workers' Python start", "  worker set-up (to the spawn or adoption)",
                               "  process (spawn or adoption to import)", "import", "init()", "first task"]
# A streamed listing (dispatch while listing) ends its start-up phase with the first mini-batch listed.
STREAMED_LISTING = "listing the first mini-batch (the rest is listed while the master dispatches)"
SETTINGS = {"default transports": {}, "OMPI_MCA_pml=ob1": {"OMPI_MCA_pml": "ob1"}}


def big_input(count, flat=False):
    """count empty files in folders of 1,000 (or one folder) under $TMPDIR; made once, reused."""
    root = os.path.join(tempfile.gettempdir(), f"prs_startup_{count}{'_flat' if flat else ''}")
    done = os.path.join(root, ".complete")
    if os.path.exists(done):
        return os.path.join(root, "data")
    shutil.rmtree(root, ignore_errors=True)
    print(f"creating {count} empty files under {root} (once)", flush=True)
    for i in range(count):
        folder = os.path.join(root, "data") if flat else os.path.join(root, "data", f"d{i // 1000:04d}")
        if i % 1000 == 0 and not (flat and i > 0):
            os.makedirs(folder)
        open(os.path.join(folder, f"f{i:07d}"), "w").close()
    open(done, "w").close()
    return os.path.join(root, "data")


def small_input(work, count=20):
    os.makedirs(os.path.join(work, "data"))
    for i in range(count):
        with open(os.path.join(work, "data", f"item_{i:03d}.txt"), "w") as f:
            f.write("x\n")
    return "./data"


def run_once(prs, workers, data, batch, extra_env, items):
    work = tempfile.mkdtemp(prefix="prs_startup_job_")
    try:
        stamps = os.path.join(work, "stamps")
        os.makedirs(stamps)
        if data is None:
            data = small_input(work)
        with open(os.path.join(work, "job.yml"), "w") as f:
            f.write(JOB.format(data=data, batch=batch, stamps=stamps))
        with open(os.path.join(work, "score.py"), "w") as f:
            f.write(SCORE)
        trace = os.path.join(work, "trace.json")
        env = dict(ENV, **extra_env)
        launched = time.time()
        proc = subprocess.run(["mpiexec", "-np", str(workers + 1), prs, "job.yml", "--trace", trace, "--progress",
                               "none"], cwd=work, env=env, capture_output=True, text=True)
        exited = time.time()
        if proc.returncode != 0:
            sys.exit(f"prs_mpi failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        with open(os.path.join(work, "out", "rows.txt")) as f:
            rows = sum(int(line) for line in f)
        if rows != items:
            sys.exit(f"the output counts {rows} items, not {items}")
        workers_stamps = []
        for name in os.listdir(stamps):
            with open(os.path.join(stamps, name)) as f:
                workers_stamps.append(json.load(f))
        with open(trace) as f:
            trace_json = json.load(f)
        out = phases_of(launched, exited, trace_json, workers_stamps)
        with open(os.path.join(work, "out", "logs", "sys", "master_role.txt")) as f:
            ended = re.search(r"listing ended: .* in ([0-9.]+) s;", f.read())
        if ended or "listing" in out:
            out["listing's own time"] = float(ended.group(1)) if ended else out["listing"]
        return out
    finally:
        shutil.rmtree(work, ignore_errors=True)


def phases_of(launched, exited, trace, stamps):
    """Seconds per phase of one run (rank 0's phases only when the build traces them)."""
    origin = trace.get("otherData", {}).get("origin_unix_seconds")
    spans = {e["name"]: e for e in trace["traceEvents"] if e.get("ph") == "X" and e.get("cat") == "startup"}
    if "listing" not in spans and STREAMED_LISTING in spans:
        spans["listing"] = spans[STREAMED_LISTING]  # until the first mini-batch: what the first task waits for
    ran = [s for s in stamps if "first_run" in s]
    first = min(ran, key=lambda s: s["first_run"])  # the worker that ran the job's first mini-batch
    out = {"mpirun -> first run()": first["first_run"] - launched,
           "shutdown": exited - max(s["last_run_end"] for s in ran),
           "mpirun -> exit": exited - launched}
    if origin and all(name in spans for name in RANK0):
        out["launch"] = origin - launched
        for name in RANK0:
            out[name] = spans[name]["dur"] / 1e6
        released = origin + (spans[RANK0[2]]["ts"] + spans[RANK0[2]]["dur"]) / 1e6
        spawned = [origin + e["ts"] / 1e6 for e in trace["traceEvents"] if e.get("ph") == "X" and e.get("cat") == "init"]
        out["workers' Python start"] = first["import_begin"] - released
        if spawned:  # the init() spans start where the worker spawned its Python process
            out["  worker set-up (to the spawn or adoption)"] = min(spawned) - released
            out["  process (spawn or adoption to import)"] = first["import_begin"] - min(spawned)
        out["import"] = first["import_end"] - first["import_begin"]
        out["init()"] = first["init_end"] - first["init_begin"]
        out["first task"] = first["first_run"] - first["init_end"]
        planned = origin + (spans[RANK0[-1]]["ts"] + spans[RANK0[-1]]["dur"]) / 1e6
        out["rank 0 ready (master loop starts)"] = planned - launched
        out["workers ready (init() returned)"] = first["init_end"] - launched
    return out


def prestart_once(prs):
    """Seconds from the spawn of a prestarted Python process until it waits for its rank: it reads fd 3."""
    pipes = [os.pipe(), os.pipe()]
    (link_in, to_child), (from_child, link_out) = [[fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in p] for p in pipes]
    for fd in sum(pipes, ()):
        os.close(fd)  # away from 3 and 4, which the child's link takes

    def on_link():
        os.dup2(link_in, 3)
        os.dup2(link_out, 4)

    began = time.perf_counter()
    child = subprocess.Popen([prs, "--python-process", "--prestart", "/usr/bin/python3"], preexec_fn=on_link,
                             env=dict(os.environ, PRS_WORKER_PID=str(os.getpid())), close_fds=False, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    waited = None
    while waited is None and child.poll() is None:
        try:
            with open(f"/proc/{child.pid}/syscall") as f:
                call = f.read().split()
        except OSError:
            call = []
        if call[:2] == ["0", "0x3"]:  # read(3, ...): the interpreter and the runner are up
            waited = time.perf_counter() - began
        else:
            time.sleep(0.0002)
    os.close(to_child)  # end of its link: it leaves without a word
    child.wait()
    for fd in (link_in, from_child, link_out):
        os.close(fd)
    if child.returncode != 0:
        sys.exit(f"the prestarted process ended with {child.returncode}")
    return waited


def summarize(samples):
    keys = [k for k in samples[0] if all(k in s for s in samples)]
    return {k: {"min": min(s[k] for s in samples), "median": statistics.median(s[k] for s in samples),
                "max": max(s[k] for s in samples)} for k in keys}


def print_table(title, stats):
    print(f"\n{title}")
    print(f"  {'phase':38s} {'min ms':>8s} {'median':>8s} {'max':>8s}")
    order = PHASES + ["rank 0 ready (master loop starts)", "workers ready (init() returned)",
                      "mpirun -> first run()", "listing's own time", "shutdown", "mpirun -> exit", "start"]
    for k in order:
        if k in stats:
            v = stats[k]
            print(f"  {k:38s} {v['min'] * 1e3:8.1f} {v['median'] * 1e3:8.1f} {v['max'] * 1e3:8.1f}")


def plot(results, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("(matplotlib missing: no PNG; benchmarks/install_bench_deps.sh installs it)")
        return
    rows = [(label, stats) for label, stats in results.items() if "launch" in stats]
    fig, ax = plt.subplots(figsize=(11, 1.6 + 0.7 * len(rows)))
    colors = plt.get_cmap("tab20").colors
    for y, (label, stats) in enumerate(rows):
        left = 0.0
        for i, name in enumerate(["launch"] + RANK0):
            width = stats[name]["median"] * 1e3
            ax.barh(y + 0.18, width, left=left, height=0.34, color=colors[i % 20], label=name if y == 0 else None)
            left += width
            if name == RANK0[2]:
                released = left
        left = released  # the workers' path starts where rank 0 lets them start
        for i, name in enumerate(["workers' Python start", "import", "init()"]):
            width = stats[name]["median"] * 1e3
            ax.barh(y - 0.18, width, left=left, height=0.34, color=colors[(i + 8) % 20], hatch="//",
                    label=f"worker: {name}" if y == 0 else None)
            left += width
        first = stats["mpirun -> first run()"]["median"] * 1e3
        ax.plot([first], [y], "k|", markersize=18, label="first run()" if y == 0 else None)
    for label, stats in results.items():
        if "launch" not in stats and label.startswith("baseline: ") and label.replace("baseline: ", "") in results:
            y = [r[0] for r in rows].index(label.replace("baseline: ", ""))
            ax.plot([stats["mpirun -> first run()"]["median"] * 1e3], [y], "rx", markersize=10,
                    label="baseline first run()" if "baseline first run()" not in
                    ax.get_legend_handles_labels()[1] else None)
    ax.set_yticks(range(len(rows)))
    ax.set_yticklabels([r[0] for r in rows])
    ax.set_xlabel("ms from mpirun (medians): rank 0's phases (top bar) and the workers' (hatched) stacked; "
                  "| = the first run() began")
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    ax.set_title("prs_mpi start-up")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    print(f"wrote {path}")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--baseline", help="an earlier build's folder: its totals side by side")
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--workers", type=int, default=3)
    p.add_argument("--big", type=int, default=200000, help="files of the big listing")
    p.add_argument("--no-big", action="store_true")
    p.add_argument("--flat", action="store_true", help="the big listing in one folder")
    p.add_argument("--delay-us", type=int, default=0, help="microseconds per file listed (a slow file system)")
    p.add_argument("--per-folder", action="store_true", help="the same build, releasing whole folders only")
    a = p.parse_args()
    slow = {"PRS_TEST_LISTING_DELAY_US": str(a.delay_us)} if a.delay_us else {}
    builds = {"": (os.path.join(a.build, "prs_mpi"), slow)}
    if a.per_folder:
        builds["per folder: "] = (os.path.join(a.build, "prs_mpi"), dict(slow, PRS_TEST_LISTING_PER_FOLDER="1"))
    if a.baseline:
        builds["baseline: "] = (os.path.join(a.baseline, "prs_mpi"), slow)
    cases = [("small (20 files)", None, 2, 20)]
    if not a.no_big:
        cases.append((f"big ({a.big} files{', flat' if a.flat else ''})", big_input(a.big, a.flat), 1000, a.big))
    samples = {}
    for r in range(a.runs):
        for case, data, batch, items in cases:
            for setting, env in SETTINGS.items():
                for prefix, (prs, test_env) in builds.items():
                    label = f"{prefix}{case}, {setting}"
                    samples.setdefault(label, []).append(
                        run_once(prs, a.workers, data, batch, dict(env, **test_env), items))
        print(f"run {r + 1}/{a.runs} done", flush=True)
    results = {label: summarize(s) for label, s in samples.items()}
    alone = [prestart_once(builds[""][0]) for _ in range(a.runs)]
    if all(t is not None for t in alone):
        results["prestarted process alone (exec, interpreter, runner)"] = summarize([{"start": t} for t in alone])
    print(f"\nprs_mpi start-up, {a.workers} workers, {a.runs} runs each, host {os.uname().nodename}, "
          f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    for label, stats in results.items():
        print_table(label, stats)
    os.makedirs(os.path.join(ROOT, "benchmarks", "results"), exist_ok=True)
    out = os.path.join(ROOT, "benchmarks", "results", "startup.json")
    with open(out, "w") as f:
        json.dump({"workers": a.workers, "runs": a.runs, "big": a.big, "flat": a.flat, "delay_us": a.delay_us,
                   "host": os.uname().nodename,
                   "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "results": results,
                   "samples": samples}, f, indent=1)
    print(f"wrote {out}")
    plot(results, os.path.join(ROOT, "benchmarks", "results", "startup.png"))


if __name__ == "__main__":
    main()
