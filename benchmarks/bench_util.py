"""Helpers shared by dispatch_peers.py, scaling.py, output_bandwidth.py and tabular_dask.py (not a benchmark).

The MPI environment of scripts/mpi_env.sh, the machine and its load, min/median/max tables, CPU time of a process
from /proc, the results folder and matplotlib (Agg)."""
import json
import os
import platform
import statistics
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "benchmarks", "results")
PYTHON = "/usr/bin/python3"  # Debian's, the one prs_mpi embeds
ENV = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
           OMPI_MCA_rmaps_base_oversubscribe="1")


# The job every one-file-per-mini-batch benchmark runs: ./data, score.py beside it, rows to out/rows.txt.
JOB = """\
type: parallel
inputs:
  input_data: {type: uri_folder, path: ./data}
outputs:
  out: {type: uri_file, path: ./out/rows.txt}
input_data: ${{inputs.input_data}}
mini_batch_size: "1"
task:
  type: run_function
  code: .
  entry_script: score.py
  append_row_to: ${{outputs.out}}
"""

def loadavg():
    """The 1-minute load average now."""
    with open("/proc/loadavg") as f:
        return float(f.read().split()[0])


def machine():
    """Host, cores, CPU model and memory, for the JSON and the README."""
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {"host": platform.node(), "cores": os.cpu_count(), "cpu": model, "mem_gb": round(mem_kb / 2**20, 1),
            "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}


def mmm(values):
    """(min, median, max) of a list of numbers."""
    return min(values), statistics.median(values), max(values)


def fmt_mmm(values, spec=",.0f"):
    """'min / median / max' formatted with spec."""
    return " / ".join(format(v, spec) for v in mmm(values))


def table(header, rows):
    """Prints a table with right-aligned columns (rows of strings)."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    for r in [header] + rows:
        print("  ".join(str(c).rjust(w) for c, w in zip(r, widths)))


def proc_cpu_seconds(pid):
    """CPU seconds (all threads, ns resolution from schedstat) of a running process."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:  # the thread ended meanwhile
            pass
    return total / 1e9


def save_json(name, data):
    """Writes benchmarks/results/<name>.json; returns its path."""
    os.makedirs(RESULTS, exist_ok=True)
    path = os.path.join(RESULTS, name + ".json")
    with open(path, "w") as f:
        json.dump(data, f, indent=2)
    return path


def pyplot():
    """matplotlib.pyplot with the Agg backend, or None when python3-matplotlib is missing."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        return plt
    except ImportError:
        return None


def fail(what):
    """Stops the benchmark: an output did not check."""
    raise SystemExit(f"benchmark: output check failed: {what}")


def run_checked(cmd, **kwargs):
    """subprocess.run with output captured as text; a non-zero exit stops the benchmark with its stderr."""
    import subprocess
    p = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if p.returncode != 0:
        raise SystemExit(f"benchmark: {' '.join(cmd)} exited {p.returncode}:\n{p.stderr[-3000:]}")
    return p
