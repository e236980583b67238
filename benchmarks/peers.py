#!/usr/bin/python3
"""prs_mpi against its peers on a real workload: batch scoring of CSV files with a scikit-learn random forest.

--files CSV files of --rows rows (12 numpy random features each) are scored by a RandomForestClassifier trained on
synthetic data, in mini-batches of 10 files with 2 workers, by:
  prs_mpi          mpirun -np 3 prs_mpi job.yml (uri_folder input, mini_batch_size "10", append_row_to a file)
  mpi4py.futures   mpirun -np 3 python3 -m mpi4py.futures, MPIPoolExecutor.map(unordered=True)
  multiprocessing  multiprocessing.Pool(2).imap_unordered
  dask             Dask distributed LocalCluster with 2 single-threaded worker processes, client.map
  gnu parallel     parallel -j2 -n10: one Python process per mini-batch
  serial           one process, a loop over the mini-batches: the ideal
All run the same entry script (benchmarks/peers_score.py: pandas.read_csv, predict, "file row prediction" rows);
every run's rows, sorted, must equal the serial loop's, else the benchmark stops with an error. Wall time is the
whole command, start to exit (interpreter start, model load, workers' start-up included); for prs_mpi the
dispatch time (first task sent to the end) and the time inside run() summed over the workers (job_summary.json)
are recorded too. Runs alternate between the tools (round robin, each run starting one tool later) so the machine's
noise spreads evenly. A tool that is not installed is skipped (benchmarks/install_bench_deps.sh installs them);
--skip leaves out tools on purpose (parallel: one process per mini-batch takes ~20x the others). --prs-variant
"LABEL:VAR=VALUE,..." (repeatable) adds prs_mpi run with those variables as one more tool, "prs_mpi LABEL", for A/B
runs of its settings in the same round robin ("prestart off:PRS_PRESTART=off", "ob1:OMPI_MCA_pml=ob1"); for every
prs_mpi row the table also shows its start-up and end (wall time minus dispatch), median.

Prints wall time min/median/max and efficiency = serial median / (workers x median); writes benchmarks/results/
peers.json and, with matplotlib, peers.png. Each round also times a worker's start alone (`peers_tools.py load`:
python3, pandas, unpickling the model, which imports scikit-learn): the serial loop pays it once, a tool whose
workers each start on their own pays it once per worker at the least, so serial / (serial + start) is the most
efficiency such a tool can reach here even with no other cost (a Pool forks a parent that imported pandas: its
workers pay only the model). The data and model are generated once into a cache folder.
Usage: benchmarks/peers.py [--files 2000] [--rows 500] [--runs 3] [--build DIR] [--skip parallel,...]
                          [--prs-variant LABEL:VAR=VALUE,...]...
"""
import argparse
import importlib.util
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smoke_dispatch import ENV, ROOT  # noqa: E402

HERE = os.path.join(ROOT, "benchmarks")
PY = "/usr/bin/python3"
WORKERS = 2
SKIPPABLE = {"prs_mpi": "prs_mpi", "mpi4py": "mpi4py_futures", "multiprocessing": "multiprocessing",
             "dask": "dask", "parallel": "gnu_parallel"}  # --skip names: Bench methods
HINT = " (benchmarks/install_bench_deps.sh)"
FEATURES = 12
JOB = """\
type: parallel
inputs:
  input_data:  {{type: uri_folder, path: {data}}}
  score_model: {{type: uri_folder, path: {model}}}
outputs:
  job_output_file: {{type: uri_file, path: ./out/rows.txt}}
input_data: ${{{{inputs.input_data}}}}
mini_batch_size: "10"
environment_variables: {{OMP_NUM_THREADS: "1"}}
task:
  type: run_function
  code: ./code
  entry_script: peers_score.py
  program_arguments: --model ${{{{inputs.score_model}}}}
  append_row_to: ${{{{outputs.job_output_file}}}}
"""


def make_data(files, rows):
    """The input folder and model folder, generated once per size into a cache folder."""
    cache = os.path.join(tempfile.gettempdir(), f"prs_peers_{files}x{rows}")
    data, model = os.path.join(cache, "data"), os.path.join(cache, "model")
    if os.path.exists(os.path.join(cache, "done")):
        return data, model
    import pickle
    import numpy as np
    import pandas as pd
    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    shutil.rmtree(cache, ignore_errors=True)
    os.makedirs(data)
    os.makedirs(model)
    x, y = make_classification(n_samples=5000, n_features=FEATURES, n_informative=8, n_classes=3, random_state=0)
    forest = RandomForestClassifier(n_estimators=30, max_depth=10, random_state=0, n_jobs=1).fit(x, y)
    with open(os.path.join(model, "model.pkl"), "wb") as f:
        pickle.dump(forest, f)
    rng = np.random.default_rng(0)
    columns = [f"f{i}" for i in range(FEATURES)]
    for i in range(files):
        pd.DataFrame(rng.normal(size=(rows, FEATURES)), columns=columns).to_csv(
            os.path.join(data, f"part_{i:05d}.csv"), index=False, float_format="%.6f")
    open(os.path.join(cache, "done"), "w").close()
    return data, model


class Bench:
    """One work folder: the file list, the job file, a copy of the entry script; one method per tool."""

    def __init__(self, data, model, prs):
        self.data, self.model, self.prs = data, model, prs
        self.work = tempfile.mkdtemp(prefix="prs_peers_")
        self.list = os.path.join(self.work, "inputs.txt")
        self.paths = sorted(os.path.join(data, n) for n in os.listdir(data) if n.endswith(".csv"))
        with open(self.list, "w") as f:
            f.write("\n".join(self.paths) + "\n")
        os.makedirs(os.path.join(self.work, "code"))
        shutil.copy(os.path.join(HERE, "peers_score.py"), os.path.join(self.work, "code"))
        with open(os.path.join(self.work, "job.yml"), "w") as f:
            f.write(JOB.format(data=data, model=model))
        self.env = dict(ENV, PYTHONPATH=os.path.join(self.work, "code"), OMP_NUM_THREADS="1",
                        OPENBLAS_NUM_THREADS="1")
        self.out = os.path.join(self.work, "rows.txt")
        self.prs_dispatch = {}  # per prs_mpi tool, per run: first task sent to the end (job_summary.json)
        self.prs_run = {}  # per prs_mpi tool, per run: seconds inside run(), summed over the workers

    def run(self, cmd, stdout=None, env=None):
        """Run cmd in the work folder (env: variables added); its wall time."""
        start = time.perf_counter()
        done = subprocess.run(cmd, cwd=self.work, env=dict(self.env, **(env or {})), stdout=stdout or subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
        wall = time.perf_counter() - start
        if done.returncode != 0:
            sys.exit(f"{' '.join(cmd[:4])} ...: exit {done.returncode}\n{done.stderr[-3000:]}")
        return wall

    def tool(self, mode, mpirun=False):
        cmd = [PY] + (["-m", "mpi4py.futures"] if mpirun else []) + [
            os.path.join(HERE, "peers_tools.py"), mode, self.model, self.list, self.out]
        if mpirun:
            cmd = ["mpirun", "-np", str(WORKERS + 1)] + cmd
        return self.run(cmd), self.out

    def serial(self):
        return self.tool("serial")

    def start(self):
        """A worker's start alone, as every worker of a tool without a shared parent pays it: its wall time."""
        return self.run([PY, os.path.join(HERE, "peers_tools.py"), "load", self.model])

    def multiprocessing(self):
        return self.tool("pool")

    def dask(self):
        return self.tool("dask")

    def mpi4py_futures(self):
        return self.tool("mpi4py", mpirun=True)

    def gnu_parallel(self):
        with open(self.out, "w") as out:
            wall = self.run(["parallel", "-j", str(WORKERS), "-n", "10", "-a", self.list,
                             PY, os.path.join(HERE, "peers_tools.py"), "batch", self.model], stdout=out)
        return wall, self.out

    def prs_mpi(self, name="prs_mpi", env=None):
        shutil.rmtree(os.path.join(self.work, "out"), ignore_errors=True)
        wall = self.run(["mpirun", "-np", str(WORKERS + 1), self.prs, "job.yml"], env=env)
        with open(os.path.join(self.work, "out", "logs", "job_summary.json")) as f:
            summary = json.load(f)
        self.prs_dispatch.setdefault(name, []).append(summary["dispatch_seconds"])
        self.prs_run.setdefault(name, []).append(summary["run_seconds"])
        return wall, os.path.join(self.work, "out", "rows.txt")


def prs_variant(text):
    """--prs-variant "LABEL:VAR=VALUE,...": the tool's name and its variables."""
    label, sep, assignments = text.partition(":")
    pairs = [a.partition("=") for a in assignments.split(",") if a]
    if not label or not sep or any(not name or not eq for name, eq, _ in pairs):
        raise argparse.ArgumentTypeError(f"expected LABEL:VAR=VALUE,..., got {text!r}")
    return f"prs_mpi {label}", {name: value for name, _, value in pairs}


def available(prs):
    """The tools to run, in table order, and why any are skipped."""
    found = lambda module: importlib.util.find_spec(module) is not None  # noqa: E731
    tools = [("prs_mpi", "prs_mpi", os.access(prs, os.X_OK), f"{prs} not built (scripts/build.sh)"),
             ("mpi4py.futures", "mpi4py_futures", found("mpi4py") and shutil.which("mpirun"),
              "python3-mpi4py not installed" + HINT),
             ("multiprocessing", "multiprocessing", True, ""),
             ("dask", "dask", found("distributed"), "python3-distributed not installed" + HINT),
             ("gnu parallel", "gnu_parallel", shutil.which("parallel"), "GNU parallel not installed" + HINT)]
    for name, _, ok, why in tools:
        if not ok:
            print(f"skipping {name}: {why}")
    return [("serial", "serial")] + [(name, method) for name, method, ok, _ in tools if ok]


def sorted_rows(path):
    with open(path) as f:
        return sorted(f.read().splitlines())


def spread(values):
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def plot(table, title, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return False
    fig, ax = plt.subplots(figsize=(7, 4))
    names = [r["tool"] for r in table]
    med = [r["wall"]["median"] for r in table]
    err = [[m - r["wall"]["min"] for m, r in zip(med, table)], [r["wall"]["max"] - m for m, r in zip(med, table)]]
    bars = ax.bar(names, med, yerr=err, capsize=4, color=["grey"] + ["C0"] * (len(table) - 1))
    for bar, r in zip(bars, table):
        top = (bar.get_x() + bar.get_width() / 2, bar.get_height())
        ax.annotate(f"{r['wall']['median']:.1f} s, eff {r['efficiency']:.2f}", top, xytext=(0, 3),
                    textcoords="offset points", ha="center", va="bottom", fontsize=8)
    ax.set_yscale("log")  # one process per mini-batch is 20x the others
    ax.set_ylabel("wall time, s (median, min-max; log scale)")
    ax.set_title(title, fontsize=9)
    ax.grid(axis="y", alpha=0.3)
    plt.setp(ax.get_xticklabels(), rotation=15)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    return True


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--files", type=int, default=2000)
    ap.add_argument("--rows", type=int, default=500)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--skip", default="", help="tools not to run, comma-separated: " + ",".join(SKIPPABLE))
    ap.add_argument("--prs-variant", type=prs_variant, action="append", default=[],
                    help='one more prs_mpi tool with these variables: "LABEL:VAR=VALUE,..." (repeatable)')
    args = ap.parse_args()
    skip = {SKIPPABLE.get(k, k) for k in args.skip.split(",") if k}
    if skip - set(SKIPPABLE.values()):
        ap.error(f"--skip: unknown tool, got {args.skip!r}; expected some of {','.join(SKIPPABLE)}")
    tools = [t for t in available(os.path.join(args.build, "prs_mpi")) if t[1] not in skip]
    if any(method == "prs_mpi" for _, method in tools):
        at = [method for _, method in tools].index("prs_mpi") + 1
        tools[at:at] = [(name, "prs_mpi") for name, _ in args.prs_variant]
    variants = dict(args.prs_variant)
    data, model = make_data(args.files, args.rows)
    bench = Bench(data, model, os.path.join(args.build, "prs_mpi"))
    title = (f"{args.files} CSV files x {args.rows} rows, random forest, mini-batches of 10, {WORKERS} workers; "
             f"{os.cpu_count()} cores")
    print(f"{title}; {args.runs} runs each, round robin")
    walls = {name: [] for name, _ in tools}
    starts = []  # a worker's start alone, once a round
    loads = [os.getloadavg()[0]]  # 1-minute load average at the start, after each run
    expected = None
    try:
        for run in range(args.runs):
            order = tools[run % len(tools):] + tools[:run % len(tools)]
            if expected is None:  # the reference comes first
                order = tools
            for name, method in order:
                if method == "prs_mpi":
                    wall, out = bench.prs_mpi(name, variants.get(name))
                else:
                    wall, out = getattr(bench, method)()
                rows = sorted_rows(out)
                if expected is None:
                    expected = rows
                    if len(rows) != args.files * args.rows:
                        sys.exit(f"serial: {len(rows)} rows, expected {args.files * args.rows}")
                elif rows != expected:
                    diff = next((f"{a!r} vs serial {b!r}" for a, b in zip(rows, expected) if a != b), "")
                    sys.exit(f"{name}: run {run + 1}: {len(rows)} rows differ from the serial loop's "
                             f"{len(expected)}; first difference: {diff}")
                walls[name].append(wall)
                loads.append(os.getloadavg()[0])
                extra = ""
                if method == "prs_mpi":
                    extra = (f" (dispatch {bench.prs_dispatch[name][-1]:.2f} s, in run() "
                             f"{bench.prs_run[name][-1]:.2f} s summed; load average {loads[-1]:.1f})")
                print(f"  run {run + 1} {name:<22} {wall:7.2f} s, {len(rows)} rows equal to the serial loop's{extra}",
                      flush=True)
            starts.append(bench.start())
    finally:
        shutil.rmtree(bench.work, ignore_errors=True)
    print(f"load average (1 min) during the runs: {min(loads):.1f}-{max(loads):.1f}")
    serial = statistics.median(walls["serial"])
    table = []
    print(f"{'tool':<22} {'wall s min / median / max':>27} {'efficiency':>10} {'start-up and end (median)':>26}")
    for name, method in tools:
        w = spread(walls[name])
        workers = 1 if name == "serial" else WORKERS
        eff = serial / (workers * w["median"])
        table.append({"tool": name, "workers": workers, "wall": w, "efficiency": eff, "runs": walls[name]})
        ends = ""
        if method == "prs_mpi":
            table[-1]["dispatch_seconds"] = bench.prs_dispatch[name]
            table[-1]["run_seconds"] = bench.prs_run[name]
            table[-1]["env"] = variants.get(name, {})
            ends = f"{statistics.median(a - b for a, b in zip(walls[name], bench.prs_dispatch[name])):>24.2f} s"
        print(f"{name:<22} {w['min']:>9.2f} / {w['median']:6.2f} / {w['max']:6.2f} {eff:>10.2f} {ends}")
    start = spread(starts)
    ceiling = serial / (serial + start["median"])
    print(f"a worker's start alone (python3, pandas, the model): {start['min']:.2f} / {start['median']:.2f} / "
          f"{start['max']:.2f} s; the most efficiency a tool whose workers each start on their own can reach: "
          f"serial / (serial + start) = {ceiling:.2f}")
    out_dir = os.path.join(ROOT, "benchmarks", "results")
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "peers.json"), "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d %H:%M"), "machine": platform.node(), "cores": os.cpu_count(),
                   "files": args.files, "rows": args.rows, "runs": args.runs, "mini_batch_files": 10,
                   "workers": WORKERS, "load_average": {"min": min(loads), "max": max(loads)}, "table": table,
                   "worker_start_seconds": starts, "ceiling_one_start_per_worker": ceiling},
                  f, indent=2)
    if plot(table, title, os.path.join(out_dir, "peers.png")):
        print(f"plot: {os.path.join(out_dir, 'peers.png')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
