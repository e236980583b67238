"""HDF5 input (read_hdf5 in an MLTable, our extension): a compound dataset, the columns form and a 2-D dataset over
several files, N rows per mini-batch, every row and every dtype checked against h5py's serial read; each table rank 0
cannot read is one line and exit 2 before any worker starts; --dry-run prints the plan; kill -9 and --resume lose
and duplicate no row; and an entry script that
imports h5py itself (Debian's serial build, and the MPI build) works while the worker ranks read the input with
prs_mpi's own parallel libhdf5 (in the module prs_h5.so, which the script's process never loads)."""
import os
import signal
import subprocess
import time

import h5py
import numpy as np
import pytest

from prs_e2e import expect, expect_equal

JOB = """\
type: parallel
inputs:
  input_data: {{type: mltable, path: ./table}}
outputs:
  job_output_file: {{type: uri_file, path: ./out/predictions.txt}}
input_data: ${{{{inputs.input_data}}}}
{batch}
retry_settings: {{max_retries: 0, timeout: 60}}
{extra}task:
  type: run_function
  code: ./src
  entry_script: score.py
  program_arguments: --data {data}
  append_row_to: ${{{{outputs.job_output_file}}}}
"""

# One line per DataFrame row: its values as Python sees them, their types, the batch's length and dtypes.
ROWS_SCRIPT = """
    import pandas as pd
    def run(mini_batch):
        assert isinstance(mini_batch, pd.DataFrame), type(mini_batch)
        mini_batch.iloc[0, 0] = mini_batch.iloc[0, 0]  # writable: the frame owns its data
        dtypes = ",".join(f"{c}:{t}" for c, t in mini_batch.dtypes.items())
        return [f"{len(mini_batch)}|{dtypes}|" + "|".join(f"{v!r}" for v in row)
                for row in mini_batch.itertuples(index=False)]
"""

STR = h5py.string_dtype()  # variable-length UTF-8
ROW = np.dtype([("id", "<i8"), ("x", "<f4"), ("flag", "?"), ("u", ">u2"), ("name", "S6"), ("note", STR)])


def compound_rows(file_index, n):
    rows = np.zeros(n, dtype=ROW)
    for i in range(n):
        rows[i] = (file_index * 1000 + i, i / 4, i % 3 == 0, 65000 - i, f"n{i}".encode(), f"ünï {i} ☃" * (i % 3))
    return rows


def make_table(make_job, name, mltable, files, batch, script=ROWS_SCRIPT, extra=""):
    """A job over ./table (the MLTable and the .h5 files written by files: {name: writer(h5py.File)})."""
    job = make_job(name, script, items=0)
    os.makedirs(job.path("table"))
    for rel, writer in files.items():
        with h5py.File(job.path("table/" + rel), "w") as f:
            writer(f)
    job.write("table/MLTable", mltable)
    job.write("job.yml", JOB.format(batch=batch, extra=extra, data=job.path("table")))
    return job


def expected_lines(frames, batch_rows):
    """The lines ROWS_SCRIPT gives for serial h5py reads: (list of (columns, dtypes, rows)) per file."""
    lines = []
    for columns, dtypes, rows in frames:
        for first in range(0, len(rows), batch_rows):
            chunk = rows[first:first + batch_rows]
            head = f"{len(chunk)}|" + ",".join(f"{c}:{t}" for c, t in zip(columns, dtypes)) + "|"
            lines += [head + "|".join(f"{v!r}" for v in row) for row in chunk]
    return sorted(lines)


def py_value(v):
    """What a DataFrame cell holds for an h5py value: numpy scalars, strings decoded."""
    return v.decode() if isinstance(v, bytes) else v


def test_compound_dataset_every_row_and_dtype_against_h5py(make_job):
    sizes = {"a.h5": 17, "b.h5": 0, "c.h5": 9, "d.h5": 23}
    files = {rel: (lambda f, i=i, n=n: f.create_dataset("grp/table", data=compound_rows(i, n)))
             for i, (rel, n) in enumerate(sizes.items())}
    mltable = "paths:\n  - pattern: ./*.h5\ntransformations:\n  - read_hdf5:\n      dataset: /grp/table\n"
    job = make_table(make_job, "compound", mltable, files, "mini_batch_row_size: 4")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    frames = []
    for rel in sizes:
        with h5py.File(job.path("table/" + rel), "r") as f:
            data = f["grp/table"][:]  # h5py's serial read
        rows = [tuple(py_value(row[c]) for c in ROW.names) for row in data]
        frames.append((ROW.names, ["int64", "float32", "bool", "uint16", "object", "object"], rows))
    expect_equal(sorted(job.rows()), expected_lines(frames, 4), "every row, its values and dtypes", proc)
    expect_equal(len(job.rows()), 49, "rows", proc)
    expect_equal(job.summary()["items"], {"total": 49, "succeeded": 49, "failed": 0}, "items")
    expect_equal(job.summary()["mini_batches"]["total"], 5 + 3 + 6, "mini-batches: 4 rows each, none across files")


def write_columns(f, i, n):
    f["cols/a"] = np.arange(n, dtype="<i4") + 1000 * i
    f["cols/b"] = np.linspace(0, 1, n, dtype="<f8")
    f["flags"] = np.arange(n) % 2 == 1
    f.create_dataset("label", data=[f"l{i}-{k}" for k in range(n)], dtype=STR)
    f["code"] = np.array([f"c{k % 10}".encode() for k in range(n)], dtype="S3")


def test_columns_form_and_a_2d_dataset_against_h5py(make_job):
    sizes = {"p.h5": 11, "q.h5": 6}
    files = {rel: (lambda f, i=i, n=n: write_columns(f, i, n)) for i, (rel, n) in enumerate(sizes.items())}
    mltable = ("paths:\n  - file: ./p.h5\n  - file: ./q.h5\ntransformations:\n  - read_hdf5:\n"
               "      columns: [/cols/a, /cols/b, /flags, /label, /code]\n")
    job = make_table(make_job, "columns", mltable, files, 'mini_batch_size: "5"')  # a plain count: rows
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    frames = []
    for rel in sizes:
        with h5py.File(job.path("table/" + rel), "r") as f:
            cols = [f[p][:] for p in ("cols/a", "cols/b", "flags", "label", "code")]
        frames.append((["a", "b", "flags", "label", "code"], ["int32", "float64", "bool", "object", "object"],
                       [tuple(py_value(v) for v in row) for row in zip(*cols)]))
    expect_equal(sorted(job.rows()), expected_lines(frames, 5), "every row of the columns form", proc)
    expect_equal(job.summary()["mini_batches"]["total"], 3 + 2, "mini-batches of 5 rows")

    matrix = make_table(make_job, "matrix", "paths:\n  - file: ./m.h5\ntransformations:\n  - read_hdf5:\n"
                        "      dataset: /m\n", {"m.h5": lambda f: f.create_dataset(
                            "m", data=np.arange(30, dtype=">i2").reshape(10, 3))}, "mini_batch_row_size: 3")
    proc = matrix.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    with h5py.File(matrix.path("table/m.h5"), "r") as f:
        rows = [tuple(r) for r in f["m"][:]]
    expected = expected_lines([(["Column1", "Column2", "Column3"], ["int16"] * 3, rows)], 3)
    expect_equal(sorted(matrix.rows()), expected, "a 2-D dataset: Column1..3", proc)


def test_dry_run_prints_the_hdf5_plan(make_job):
    files = {"a.h5": lambda f: f.create_dataset("t", data=compound_rows(0, 10)),
             "b.h5": lambda f: f.create_dataset("t", data=compound_rows(1, 3))}
    mltable = "paths:\n  - pattern: ./*.h5\ntransformations:\n  - read_hdf5:\n      dataset: t\n"
    job = make_table(make_job, "dry", mltable, files, "mini_batch_row_size: 4")
    proc = job.run(np=0, args=["--dry-run"])
    expect_equal(proc.returncode, 0, "exit code", proc)
    d = job.path("table")
    plan = proc.stdout[proc.stdout.index("table: "):].splitlines()
    sizes = [os.path.getsize(f"{d}/{n}") for n in ("a.h5", "b.h5")]
    expect_equal(plan, [
        f"table: {d}/MLTable (read_hdf5 dataset /t), 2 files, {sum(sizes)} bytes, 13 rows",
        "columns: id int64, x float32, flag bool, u uint16, name object, note object",
        "plan: 4 mini-batches of 4 rows",
        f"  file {d}/a.h5: {sizes[0]} bytes, 10 rows, 3 mini-batches",
        f"  file {d}/b.h5: {sizes[1]} bytes, 3 rows, 1 mini-batch",
        f"  mini-batch 0: {d}/a.h5 rows 0..4 (4 rows)",
        f"  mini-batch 1: {d}/a.h5 rows 4..8 (4 rows)",
        f"  mini-batch 2: {d}/a.h5 rows 8..10 (2 rows)",
        f"  mini-batch 3: {d}/b.h5 rows 0..3 (3 rows)",
    ], "the plan", proc)


CANNOT = ("has a type a DataFrame column cannot hold (supported: integer, float, bool (h5py's enum), fixed- and "
          "variable-length string), got ")


def refs(f):
    f["x"] = np.arange(3)
    f.create_dataset("r", data=[f["x"].ref] * 3, dtype=h5py.ref_dtype)


@pytest.mark.parametrize("option, writer, message", [
    ("dataset: /nope", lambda f: f.create_dataset("t", data=np.arange(3)),
     "{m}:5: read_hdf5.dataset: no such dataset in {d}/a.h5, got /nope"),
    ("columns: [/a, /b]", lambda f: (f.create_dataset("a", data=np.arange(4)), f.create_dataset("b", data=np.arange(3))),
     "{m}:5: read_hdf5.columns: /b has 3 rows in {d}/a.h5 but /a has 4; the columns must have the same length, got 3"),
    ("dataset: /cube", lambda f: f.create_dataset("cube", data=np.zeros((2, 3, 4))),
     "{m}:5: read_hdf5.dataset: /cube in {d}/a.h5 must be a 1-D or 2-D dataset, got 3 dimensions (2 x 3 x 4)"),
    ("dataset: /r", refs, "{m}:5: read_hdf5.dataset: /r in {d}/a.h5 " + CANNOT + "reference"),
    ("dataset: /o", lambda f: f.create_dataset("o", data=np.zeros(3, dtype="V2")),
     "{m}:5: read_hdf5.dataset: /o in {d}/a.h5 " + CANNOT + "opaque"),
    ("dataset: /e", lambda f: f.create_dataset("e", data=np.arange(3, dtype="i1"),
                                               dtype=h5py.enum_dtype({"RED": 0, "GREEN": 1, "BLUE": 2}, "i1")),
     "{m}:5: read_hdf5.dataset: /e in {d}/a.h5 " + CANNOT + "enum other than h5py's bool (FALSE = 0, TRUE = 1)"),
    ("dataset: /n", lambda f: f.create_dataset("n", shape=(2,), dtype=[("a", "i4"), ("b", [("c", "f4")])]),
     "{m}:5: read_hdf5.dataset: /n field b in {d}/a.h5 " + CANNOT + "nested compound"),
    ("dataset: /v", lambda f: f.create_dataset("v", shape=(2,), dtype=[("a", "i4"), ("v", "f4", (3,))]),
     "{m}:5: read_hdf5.dataset: /v field v in {d}/a.h5 " + CANNOT + "array"),
    ("dataset: /c2", lambda f: f.create_dataset("c2", shape=(2, 2), dtype=[("a", "i4")]),
     "{m}:5: read_hdf5.dataset: /c2 in {d}/a.h5 is a compound dataset, which must be 1-D, got 2 dimensions (2 x 2)"),
], ids=["missing-dataset", "lengths", "rank3", "reference", "opaque", "enum", "nested", "array", "compound-2d"])
def test_each_bad_table_is_one_line_exit_2_nothing_started(make_job, option, writer, message):
    mltable = f"paths:\n  - file: ./a.h5\ntransformations:\n  - read_hdf5:\n      {option}\n"
    job = make_table(make_job, "bad", mltable, {"a.h5": writer}, "mini_batch_row_size: 2")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    d = job.path("table")
    lines = [line for line in proc.stderr.splitlines() if line.startswith("prs_mpi:")]
    expect_equal(lines, ["prs_mpi: error: " + message.format(m=d + "/MLTable", d=d)], "the one error line", proc)
    expect(not job.exists("out/predictions.txt") and not job.exists("out/logs"), "nothing started", proc)


def test_files_that_are_not_hdf5_or_disagree_on_columns(make_job):
    mltable = "paths:\n  - pattern: ./*\ntransformations:\n  - read_hdf5:\n      dataset: /t\n"
    job = make_table(make_job, "mixed", mltable, {"a.h5": lambda f: f.create_dataset("t", data=np.arange(3)),
                                                  "b.h5": lambda f: f.create_dataset("t", data=np.zeros(3))},
                     "mini_batch_row_size: 2")
    d = job.path("table")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect_equal([x for x in proc.stderr.splitlines() if x.startswith("prs_mpi:")],
                 [f"prs_mpi: error: {d}/MLTable:5: read_hdf5.dataset: every file must have the same columns; "
                  f"{d}/a.h5 has t int64, got t float64 in {d}/b.h5"], "columns differ", proc)
    job.write("table/b.h5", "not HDF5\n")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect_equal([x for x in proc.stderr.splitlines() if x.startswith("prs_mpi:")],
                 [f"prs_mpi: error: {d}/MLTable:5: read_hdf5.dataset: not an HDF5 file, got {d}/b.h5"],
                 "not HDF5", proc)
    expect(not job.exists("out/predictions.txt"), "nothing started", proc)


def test_without_the_hdf5_module_planning_is_one_line_naming_its_path_exit_2(make_job):
    job = make_table(make_job, "nomodule", "paths:\n  - file: ./a.h5\ntransformations:\n  - read_hdf5:\n"
                     "      dataset: /t\n", {"a.h5": lambda f: f.create_dataset("t", data=np.arange(3))},
                     "mini_batch_row_size: 2")
    gone = job.path("elsewhere/prs_h5.so")
    proc = job.run(np=2, env={"PRS_H5_MODULE": gone})
    expect_equal(proc.returncode, 2, "exit code", proc)
    d = job.path("table")
    expect_equal([x for x in proc.stderr.splitlines() if x.startswith("prs_mpi:")],
                 [f"prs_mpi: error: {d}/MLTable:5: read_hdf5.dataset: cannot load the HDF5 module {gone} that reads "
                  "HDF5 tables (it is built beside prs_mpi; $PRS_H5_MODULE names another): "
                  f"{gone}: cannot open shared object file: No such file or directory"], "the one error line", proc)
    expect(not job.exists("out/predictions.txt") and not job.exists("out/logs"), "nothing started", proc)


def test_prs_mpi_itself_links_no_libhdf5():
    # every HDF5 call is in prs_h5.so, which only the ranks dlopen: the entry script's process (the same executable)
    # starts without one
    prs_mpi = os.environ["PRS_MPI"]
    needed = subprocess.run(["ldd", prs_mpi], capture_output=True, text=True, check=True).stdout
    expect_equal([x.split()[0] for x in needed.splitlines() if "libhdf5" in x], [], "libhdf5 in ldd " + prs_mpi)
    module = os.path.join(os.path.dirname(prs_mpi), "prs_h5.so")
    linked = subprocess.run(["ldd", module], capture_output=True, text=True, check=True).stdout
    expect("libhdf5_openmpi.so" in linked, f"the module links the parallel libhdf5: {linked}")


# init() imports h5py; run() writes and reads back its own .h5 file and reads the same rows of the input with h5py
# while the worker rank (which loaded prs_h5.so and libhdf5_openmpi) read them for the DataFrame; it says which h5py
# build and which libhdf5 libraries are in its process.
H5PY_SCRIPT = """
    import argparse, os, tempfile
    import numpy as np
    h5py = None
    def init():
        global h5py, args
        import h5py
        parser = argparse.ArgumentParser()
        parser.add_argument("--data")
        args, _ = parser.parse_known_args()
    def run(mini_batch):
        own = os.path.join(os.environ["AZUREML_BI_OUTPUT_PATH"], f"own_{os.getpid()}.h5")
        with h5py.File(own, "a") as f:
            name = f"b{len(f)}"
            f[name] = mini_batch["id"].to_numpy()
        with h5py.File(own, "r") as f:
            assert (f[name][:] == mini_batch["id"].to_numpy()).all()
        first = int(mini_batch["id"].iloc[0])
        with h5py.File(os.path.join(args.data, f"{'abc'[first // 1000]}.h5"), "r") as f:
            rows = f["t"][first % 1000:first % 1000 + len(mini_batch)]
        same = all(rows["id"] == mini_batch["id"]) and all(rows["x"] == mini_batch["x"]) and \\
            [n.decode() for n in rows["note"]] == list(mini_batch["note"])
        maps = open("/proc/self/maps").read()
        libs = ",".join(n for n in ("libhdf5_openmpi.so", "libhdf5_serial.so") if n in maps)
        return [f"{i}|{same}|mpi={h5py.get_config().mpi}|{libs}" for i in mini_batch["id"]]
"""


@pytest.mark.parametrize("variant", ["serial", "mpi"])
def test_entry_script_that_imports_h5py(make_job, variant):
    if variant == "mpi" and not os.path.isdir("/usr/lib/python3/dist-packages/h5py/_debian_h5py_mpi"):
        pytest.skip("python3-h5py-mpi is not installed (scripts/install_deps.sh installs it)")
    sizes = {"a.h5": 9, "b.h5": 5, "c.h5": 7}
    files = {rel: (lambda f, i=i, n=n: f.create_dataset("t", data=compound_rows(i, n)))
             for i, (rel, n) in enumerate(sizes.items())}
    extra = "environment_variables: {H5PY_ALWAYS_USE_MPI: \"1\"}\n" if variant == "mpi" else ""
    job = make_table(make_job, "h5py_" + variant, "paths:\n  - pattern: ./*.h5\ntransformations:\n  - read_hdf5:\n"
                     "      dataset: /t\n", files, "mini_batch_row_size: 3", script=H5PY_SCRIPT, extra=extra)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    # the MPI build loads libhdf5_openmpi itself; beside the serial one, no libhdf5 of prs_mpi's is in the process
    libs = "libhdf5_openmpi.so" if variant == "mpi" else "libhdf5_serial.so"
    mpi = variant == "mpi"
    if not mpi:
        expect(all("libhdf5_openmpi" not in row for row in job.rows()),
               "no libhdf5_openmpi in the script's process (only h5py's serial libhdf5)", proc)
    expected = sorted(f"{i * 1000 + k}|True|mpi={mpi}|{libs}" for i, n in enumerate(sizes.values()) for k in range(n))
    expect_equal(sorted(job.rows()), expected, "h5py inside run(), next to prs_mpi's own HDF5 reads", proc)


# init() takes c.h5 away after rank 0 planned it: the worker rank cannot read those rows.
VANISH_SCRIPT = """
    import os
    def init():
        path = os.path.join(os.path.dirname(os.environ["AZUREML_BI_OUTPUT_PATH"]), "table", "c.h5")
        try:
            os.rename(path, path + ".gone")
        except FileNotFoundError:  # the other worker was first
            pass
    def run(mini_batch):
        return [str(i) for i in mini_batch["id"]]
"""


def test_a_file_gone_after_planning_fails_its_attempts_not_the_worker(make_job):
    files = {"a.h5": lambda f: f.create_dataset("t", data=compound_rows(0, 5)),
             "c.h5": lambda f: f.create_dataset("t", data=compound_rows(2, 4))}
    job = make_table(make_job, "vanish", "paths:\n  - pattern: ./*.h5\ntransformations:\n  - read_hdf5:\n"
                     "      dataset: /t\n", files, "mini_batch_row_size: 2", script=VANISH_SCRIPT)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code (no threshold set)", proc)
    expect_equal(sorted(job.rows()), ["0", "1", "2", "3", "4"], "the rows of a.h5", proc)
    d = job.path("table")
    failures = sorted(line.split("attempt 1 failed: ")[1].split(" (traceback")[0] for line in proc.stderr.splitlines()
                      if "attempt 1 failed" in line)
    expect_equal(failures, [f"{d}/c.h5: rows {r}: {d}/MLTable:5: read_hdf5.dataset: cannot read {d}/c.h5: "
                            "No such file or directory" for r in ("0..2", "2..4")], "the two failed attempts", proc)
    expect_equal(job.summary()["mini_batches"], {"total": 5, "succeeded": 3, "failed": 2, "unconfirmed": 0}, "mini-batches")
    expect_equal(job.summary()["workers"]["python_restarts"], 0, "the workers went on")


def test_resume_checks_the_hdf5_plan(make_job):
    files = {"a.h5": lambda f: f.create_dataset("t", data=compound_rows(0, 6), maxshape=(None,))}
    job = make_table(make_job, "resume", "paths:\n  - file: ./a.h5\ntransformations:\n  - read_hdf5:\n"
                     "      dataset: /t\n", files, "mini_batch_row_size: 4")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    proc = job.run(np=2, args=["--resume"])
    expect_equal(proc.returncode, 0, "an unchanged table resumes (nothing to do)", proc)
    job.write("job.yml", job.read("job.yml").replace("mini_batch_row_size: 4", "mini_batch_row_size: 3"))
    proc = job.run(np=2, args=["--resume"])
    expect_equal(proc.returncode, 2, "other rows per mini-batch", proc)
    expect_equal([x for x in proc.stderr.splitlines() if x.startswith("prs_mpi:")],
                 ["prs_mpi: error: job.yml: cannot --resume: the mini-batches (mini_batch_size, mini_batch_row_size or "
                  "partition_keys) changed since the interrupted run; use "
                  "--overwrite to start over"], "refused", proc)
    job.write("job.yml", job.read("job.yml").replace("mini_batch_row_size: 3", "mini_batch_row_size: 4"))
    with h5py.File(job.path("table/a.h5"), "a") as f:
        f["t"].resize((7,))
    proc = job.run(np=2, args=["--resume"])
    expect_equal(proc.returncode, 2, "a grown dataset", proc)
    expect_equal([x for x in proc.stderr.splitlines() if x.startswith("prs_mpi:")],
                 ["prs_mpi: error: job.yml: cannot --resume: the input files (added, removed or modified) and "
                  "the mini-batches (mini_batch_size, mini_batch_row_size or partition_keys) changed since the "
                  "interrupted run; use --overwrite to start over"], "refused", proc)


def test_kill_9_then_resume_gives_every_hdf5_row_once_in_order(make_job):
    script = """
        import random, time
        def run(mini_batch):
            time.sleep(random.uniform(0.02, 0.06))
            return [f"{i} {n}" for i, n in zip(mini_batch["id"], mini_batch["note"])]
    """
    files = {f"{rel}.h5": (lambda f, i=i: f.create_dataset("t", data=compound_rows(i, 100)))
             for i, rel in enumerate("ab")}
    mltable = "paths:\n  - pattern: ./*.h5\ntransformations:\n  - read_hdf5:\n      dataset: /t\n"
    job = make_table(make_job, "killed", mltable, files, "mini_batch_row_size: 2", script=script,
                     extra="ordered: true\n")
    job.write("job.yml", job.read("job.yml").replace("max_retries: 0", "max_retries: 5"))  # in flight at the kill
    proc = job.start()
    out = job.path("out/predictions.txt")
    deadline = time.time() + 30
    while time.time() < deadline and (not os.path.exists(out) or os.path.getsize(out) < 300):  # some rows written
        time.sleep(0.02)
    killed = proc.poll() is None
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    expect(killed, "the kill hit a running job")
    for _ in range(8):
        final = job.run(np=3, args=["--resume"])
        if final.returncode == 0:
            break
    expect_equal(final.returncode, 0, "resumed to the end", final)
    expect("prs_mpi: resuming:" in final.stdout, "the run resumed", final)
    expected = [f"{r['id']} {r['note']}".rstrip() for i in range(2) for r in compound_rows(i, 100)]
    expect_equal([r.rstrip() for r in job.rows()], expected, "every row once, in input order", final)


# The entry script hands its DataFrame back: an HDF5 input written to a .h5 output, every value as h5py reads it.
PASS_THROUGH = """
    def run(mini_batch):
        return mini_batch[["id", "x", "flag", "note"]]
"""


def test_an_hdf5_input_to_a_h5_output_keeps_every_row_once(make_job):
    job = make_table(make_job, "h5toh5", "paths:\n  - pattern: ./*.h5\ntransformations:\n  - read_hdf5: {dataset: /t}\n",
                     {"a.h5": lambda f: f.create_dataset("t", data=compound_rows(0, 9)),
                      "b.h5": lambda f: f.create_dataset("t", data=compound_rows(1, 4))},
                     "mini_batch_row_size: 4", script=PASS_THROUGH)
    job.write("job.yml", job.read("job.yml").replace("./out/predictions.txt", "./out/rows.h5"))
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    with h5py.File(job.path("out/rows.h5"), "r") as f:
        g = f["rows"]
        expect_equal([c.decode() for c in g.attrs["columns"]], ["id", "x", "flag", "note"], "columns", proc)
        got = sorted(zip(g["id"][()].tolist(), g["x"][()].tolist(), g["flag"][()].tolist(), g["note"].asstr()[()]))
    want = sorted((int(r["id"]), float(r["x"]), bool(r["flag"]), str(r["note"]))
                  for r in np.concatenate([compound_rows(0, 9), compound_rows(1, 4)]))
    expect_equal(got, want, "every row once, as stored in the input", proc)
