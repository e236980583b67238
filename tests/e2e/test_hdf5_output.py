"""The .h5 output: an append_row_to ending in .h5 stores the returned DataFrames column by column, built at the end
from row records committed exactly once (the staging file <out>.h5.rows and the journal); read back with h5py and
pandas, every row checked. Also ordered: true, kill -9 then --resume, a rebuild, unstorable columns and schema
changes with the messages that name them."""
import os
import signal
import time

import h5py
import pandas as pd

from prs_e2e import expect, expect_equal, resume_until_done

OUT = "out/predictions.h5"

# Every storable kind: int64, int16, float64, bool, fixed- and variable-length strings (UTF-8), bytes, datetime64[ns].
SCRIPT = """
    import os, time
    import numpy as np, pandas as pd
    def run(mini_batch):
        time.sleep(float(os.environ.get("SLEEP", "0")))
        n = [int(os.path.basename(p)[5:8]) for p in mini_batch]
        return pd.DataFrame({
            "i": n,
            "small": np.array(n, dtype="int16") * -1,
            "x": [v * 0.25 for v in n],
            "even": [v % 2 == 0 for v in n],
            "code": ["c%03d" % v for v in n],
            "text": ["\\u00e9" * (v % 7) + str(v) for v in n],
            "raw": [bytes([65 + v % 26]) * (v % 3 + 1) for v in n],
            "when": pd.to_datetime(n, unit="s"),
        })
"""
COLUMNS = ["i", "small", "x", "even", "code", "text", "raw", "when"]


def expected_row(v):
    return {"i": v, "small": -v, "x": v * 0.25, "even": v % 2 == 0, "code": "c%03d" % v, "text": "\u00e9" * (v % 7) + str(v),
            "raw": bytes([65 + v % 26]) * (v % 3 + 1), "when": v * 10**9}


def h5_job(make_job, name, script=SCRIPT, **settings):
    job = make_job(name, script, **settings)
    job.write("job.yml", job.read("job.yml").replace("./out/predictions.txt", "./" + OUT))
    return job


def read_frame(path):
    """The README's h5py -> pandas snippet (strings decoded; other columns as stored)."""
    with h5py.File(path, "r") as f:
        g = f["rows"]
        return pd.DataFrame({c: g[c].asstr()[()] if g[c].attrs["dtype"] == b"str" else g[c][()]
                             for c in [c.decode() for c in g.attrs["columns"]]})


def check_every_row(job, expected_ids, proc=None):
    """Each expected row exactly once, every value as the script returned it; returns the ids in file order."""
    __tracebackhide__ = True
    frame = read_frame(job.path(OUT))
    expect_equal(list(frame.columns), COLUMNS, "the column order attribute", proc)
    ids = frame["i"].tolist()
    expect_equal(sorted(ids), sorted(expected_ids), "every row exactly once", proc)
    for row in frame.to_dict("records"):
        expect_equal(row, expected_row(row["i"]), f"row {row['i']}", proc)
    with h5py.File(job.path(OUT), "r") as f:
        g = f["rows"]
        types = {c: (g[c].dtype.str, g[c].attrs["dtype"].decode()) for c in COLUMNS}
    width = {c: max(len(v.encode() if isinstance(v, str) else v) for v in (expected_row(i)[c] for i in expected_ids))
             for c in ("code", "text", "raw")}  # fixed-length strings as wide as the longest value, in bytes
    expect_equal(types, {"i": ("<i8", "int64"), "small": ("<i2", "int16"), "x": ("<f8", "float64"),
                         "even": ("|b1", "bool"), "code": (f"|S{width['code']}", "str"),
                         "text": (f"|S{width['text']}", "str"), "raw": (f"|S{width['raw']}", "bytes"),
                         "when": ("<i8", "datetime64[ns]")}, "stored types", proc)
    return ids


def test_dataframes_of_every_kind_read_back_with_h5py_and_pandas(make_job):
    job = h5_job(make_job, "kinds", items=40, batch=3)
    proc = job.run(np=4)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect(f"prs_mpi: built {job.path(OUT)}: 40 rows in /rows" in proc.stdout, "says what it built", proc)
    check_every_row(job, range(40), proc)
    expect(job.exists(OUT + ".rows") and not job.exists(OUT + ".tmp"), "staging kept, no temporary left", proc)
    expect(f"output: {job.path(OUT)}\n" in job.read("out/logs/job_result.txt"), "job_result names the .h5", proc)
    frame = read_frame(job.path(OUT))
    expect_equal(pd.to_datetime(frame["when"]).iloc[0], pd.Timestamp(frame["i"].iloc[0], unit="s"), "datetime")


def test_ordered_rows_are_in_mini_batch_order(make_job):
    script = SCRIPT.replace('time.sleep(float(os.environ.get("SLEEP", "0")))',
                            "import random; time.sleep(random.uniform(0, 0.05))")
    job = h5_job(make_job, "ordered", script, items=60, batch=2, extra="ordered: true\n")
    proc = job.run(np=4)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(check_every_row(job, range(60), proc), list(range(60)), "rows in input order", proc)


def test_lists_of_tuples_and_of_values_become_columns(make_job):
    tuples = """
        import os
        def run(mini_batch):
            return [(os.path.basename(p), len(p), 0.5, True) for p in mini_batch]
    """
    job = h5_job(make_job, "tuples", tuples, items=7, batch=3, extra="ordered: true\n")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    frame = read_frame(job.path(OUT))
    expect_equal(list(frame.columns), ["Column1", "Column2", "Column3", "Column4"], "columns", proc)
    expect_equal(frame["Column1"].tolist(), job.items, "first column", proc)
    expect_equal(frame["Column2"].tolist(), [len(job.path(f"data/{i}")) for i in job.items], "ints", proc)
    expect_equal(frame["Column4"].tolist(), [True] * 7, "bools", proc)
    values = """
        def run(mini_batch):
            return [len(p) for p in mini_batch]
    """
    job = h5_job(make_job, "values", values, items=5, batch=2, extra="ordered: true\n")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(read_frame(job.path(OUT)).to_dict("list"), {"Column1": [len(job.path(f"data/{i}")) for i in job.items]},
                 "one column, a row per value", proc)


def test_kill_9_then_resume_keeps_every_row_exactly_once(make_job):
    job = h5_job(make_job, "killed", items=150, batch=2, retries=20)
    proc = job.start(np=3, env={"SLEEP": "0.05"})
    journal = job.path("out/logs/journal.bin")
    while proc.poll() is None and (not os.path.exists(journal) or os.path.getsize(journal) < 3000):
        time.sleep(0.05)
    expect(proc.poll() is None, "killed while running")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    expect(not job.exists(OUT), "no .h5 before the job ends")
    _, final = resume_until_done(job, limit=8)
    expect("prs_mpi: resuming:" in final.stdout, "the last run resumed", final)
    check_every_row(job, range(150), final)


def test_resume_of_an_ended_job_rebuilds_the_h5_and_a_stale_temporary_is_ignored(make_job):
    job = h5_job(make_job, "rebuild", items=12, batch=5, extra="ordered: true\n")
    expect_equal(job.run(np=3).returncode, 0, "first run")
    os.remove(job.path(OUT))
    job.write(OUT + ".tmp", "the remains of a build killed half-way")
    proc = job.run(np=3, args=["--resume"])
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect("nothing to resume: every mini-batch of this job already ended; the output is " + job.path(OUT)
           in proc.stdout, "says so", proc)
    expect_equal(check_every_row(job, range(12), proc), list(range(12)), "rebuilt, in order", proc)
    expect(not job.exists(OUT + ".tmp"), "the temporary became the .h5", proc)


def test_an_earlier_h5_is_refused_without_resume_or_overwrite_and_a_foreign_one_always(make_job):
    job = h5_job(make_job, "refuse", items=4, batch=2)
    expect_equal(job.run(np=3).returncode, 0, "first run")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect(f"{job.path(OUT + '.rows')} already exists (from an earlier run); use --resume to continue that run or "
           "--overwrite to replace it" in proc.stderr, "refused", proc)
    proc = job.run(np=3, args=["--overwrite"])
    expect_equal(proc.returncode, 0, "--overwrite", proc)
    check_every_row(job, range(4), proc)
    other = h5_job(make_job, "foreign", items=4, batch=2)
    other.write(OUT, "a user's own file")
    proc = other.run(np=3, args=["--overwrite"])
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect(f"{other.path(OUT)} already exists and is not an output of an earlier run of this job: no journal of an "
           "earlier run is at" in proc.stderr, "a foreign .h5 is never replaced", proc)
    expect_equal(other.read(OUT), "a user's own file", "untouched")


def test_an_unstorable_column_fails_the_attempt_naming_the_column(make_job):
    script = """
        import os
        import pandas as pd
        def run(mini_batch):
            n = [int(os.path.basename(p)[5:8]) for p in mini_batch]
            bad = [[v] for v in n] if 4 in n else n  # nested lists in the mini-batch holding item 4
            return pd.DataFrame({"i": n, "nested": bad})
    """
    job = h5_job(make_job, "unstorable", script, items=9, batch=3, retries=1, extra="mini_batch_error_threshold: 0\n")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 1, "exit code", proc)
    message = ("RowRecordError: column 'nested' holds list values, which cannot be stored; a .h5 output stores "
               "columns of numbers, booleans, strings, bytes or datetime64[ns], one type per column (convert it, "
               "and fill missing values first)")
    errors = job.read("out/logs/user/error.txt")
    expect_equal(errors.count(message), 2, "both attempts of mini-batch 1 in user/error.txt", proc)
    expect("mini-batch 1, attempt 2" in errors, "the last attempt named", proc)
    expect(f"mini-batch 1, attempt 2 failed: _prs_runner.{message}" in proc.stderr, "on the console", proc)
    result = job.read("out/logs/job_result.txt").splitlines()
    expect_equal(result[:2], ["failed: mini_batch_error_threshold exceeded: 1 mini-batches failed, more than the 0 "
                              "allowed", "mini-batches: 3 in all, 2 succeeded, 1 failed, 0 not processed"],
                 "job_result: the failed mini-batch ended the job", proc)
    # The rows that succeeded are stored; those of the failed mini-batch are not.
    expect_equal(sorted(read_frame(job.path(OUT))["i"].tolist()), [0, 1, 2, 6, 7, 8], "rows of the others", proc)


def test_a_schema_change_between_mini_batches_is_an_error_naming_the_batch_and_column(make_job):
    script = """
        import os
        import pandas as pd
        def run(mini_batch):
            n = [int(os.path.basename(p)[5:8]) for p in mini_batch]
            return pd.DataFrame({"i": n, "v": [float(v) for v in n] if 4 in n else n})
    """
    job = h5_job(make_job, "schema", script, items=9, batch=3, extra="ordered: true\n")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 1, "exit code", proc)
    message = (f"{job.path(OUT)}: mini-batch 1 returned the column 'v' as float64, mini-batch 0 as int64; every "
               "mini-batch of a .h5 output must return the same columns with the same types")
    expect(f"prs_mpi: error: {message}\n" in proc.stderr, "the error", proc)
    result = job.read("out/logs/job_result.txt")
    expect_equal(result.splitlines()[0], "failed: the .h5 output: " + message, "job_result says why", proc)
    expect(not job.exists(OUT) and not job.exists(OUT + ".tmp"), "no .h5 written", proc)


def test_the_entry_scripts_process_never_loads_libhdf5_and_may_import_h5py_itself(make_job):
    script = """
        import os
        import h5py, numpy as np
        def run(mini_batch):
            with open("/proc/self/maps") as f:
                hdf5 = sorted({line.split()[-1] for line in f if "libhdf5" in line})
            name = os.path.join(os.environ["AZUREML_BI_OUTPUT_PATH"], os.path.basename(mini_batch[0]) + ".h5")
            with h5py.File(name, "w") as f:  # the script's own serial h5py works beside prs_mpi's .h5 output
                f["v"] = np.arange(3)
            with h5py.File(name, "r") as f:
                total = int(f["v"][()].sum())
            return [(os.path.basename(p), " ".join(hdf5), total) for p in mini_batch]
    """
    job = h5_job(make_job, "isolated", script, items=4, batch=2, extra="ordered: true\n")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    frame = read_frame(job.path(OUT))
    expect_equal(frame["Column1"].tolist(), job.items, "every row", proc)
    expect_equal(frame["Column3"].tolist(), [3] * 4, "the script's own h5py read its file", proc)
    loaded = set(" ".join(frame["Column2"]).split())
    expect(loaded and all("openmpi" not in path for path in loaded), f"only h5py's serial libhdf5: {loaded}", proc)


def test_each_unstorable_result_gets_its_own_message(make_job):
    script = """
        import os
        import numpy as np, pandas as pd
        def run(mini_batch):
            k = int(os.path.basename(mini_batch[0])[5:8])
            if k == 0:
                return pd.DataFrame({"grade": pd.Categorical(["a"])})
            if k == 1:
                return [(1, 2), (3,)]
            if k == 2:
                return np.zeros((1, 2, 2))
            if k == 3:
                return pd.DataFrame([[1, 2]], columns=["a", "a"])
            if k == 4:
                return pd.DataFrame({"a/b": [1]})
            if k == 5:
                return pd.DataFrame({"half": np.zeros(1, dtype="float16")})
            return pd.DataFrame({"s": ["x", None]})
    """
    job = h5_job(make_job, "variants", script, items=7, batch=1, retries=0, extra="mini_batch_error_threshold: -1\n")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    errors = job.read("out/logs/user/error.txt")
    how = "a .h5 output stores columns of numbers, booleans, strings, bytes or datetime64[ns]"
    for message in [
            f"column 'grade' has dtype category, which cannot be stored; {how}",
            "element 1 is a tuple of 1 values, element 0 of 2; a .h5 output stores a list of tuples as columns "
            "Column1..N and needs them all of one length",
            "run() returned a 3-dimensional ndarray; a .h5 output stores 1-D (one column) or 2-D (columns "
            "Column1..N) arrays",
            "column 'a' appears twice in the DataFrame; a .h5 output needs unique names",
            "column 'a/b' cannot name an HDF5 dataset (empty, '.' or with '/'); rename it",
            f"column 'half' has dtype float16, which cannot be stored; {how}",
            f"column 's' holds values of several types (NoneType, str), which cannot be stored; {how}, one type per "
            "column (convert it, and fill missing values first)"]:
        expect_equal(errors.count("_prs_runner.RowRecordError: " + message + "\n"), 1, message, proc)
    expect_equal(job.summary()["mini_batches"], {"total": 7, "succeeded": 0, "failed": 7, "unconfirmed": 0}, "all failed", proc)
    expect(f"prs_mpi: built {job.path(OUT)}: 0 rows in /rows" in proc.stdout, "no rows: an empty .h5", proc)
    with h5py.File(job.path(OUT), "r") as f:
        expect_equal((list(f["rows"]), list(f["rows"].attrs["columns"])), ([], []), "an empty /rows", proc)


def test_a_h5_output_that_is_an_input_file_is_refused(make_job):
    job = h5_job(make_job, "in_input", SCRIPT, items=3, batch=2)
    job.write("job.yml", job.read("job.yml").replace("./" + OUT, "./data/item_001.h5"))
    job.write("data/item_001.h5", "input")
    proc = job.run(np=0, args=["--dry-run"])
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect(f"{job.path('data/item_001.h5')} is one of the input files (input_data: {job.path('data')}); the rows "
           "would overwrite it: write them to a file outside the input" in proc.stderr, "refused", proc)


def test_a_short_last_attempt_keeps_its_rows_and_an_empty_one_stores_none(make_job):
    script = """
        import os
        import pandas as pd
        def run(mini_batch):
            n = [int(os.path.basename(p)[5:8]) for p in mini_batch]
            frame = pd.DataFrame({"i": n, "name": [str(v) for v in n]})
            return frame.iloc[:0] if 0 in n else frame.iloc[:1]
    """
    job = h5_job(make_job, "short", script, items=9, batch=3, retries=0, extra="mini_batch_error_threshold: -1\n"
                 "error_threshold: -1\nordered: true\n")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(read_frame(job.path(OUT)).to_dict("list"), {"i": [3, 6], "name": ["3", "6"]}, "the rows returned",
                 proc)
    errors = job.read("out/logs/user/error.txt")
    expect("run() returned 0 rows for 3 items" in errors and "RowRecordError" not in errors, "short, not broken", proc)


def test_a_damaged_staging_file_is_found_by_resume_and_its_rows_run_again(make_job):
    job = h5_job(make_job, "damaged", items=9, batch=3, extra="ordered: true\n")
    expect_equal(job.run(np=3).returncode, 0, "first run")
    with open(job.path(OUT + ".rows"), "r+b") as f:
        f.seek(os.path.getsize(job.path(OUT + ".rows")) - 1)
        f.write(b"\xff")  # a byte of the last datetime: the record still parses, only the checksum sees it
    proc = job.run(np=3, args=["--resume"])
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect("prs_mpi: the output lost the rows of 1 committed mini-batch (missing or changed since they were "
           "written); it runs again" in proc.stdout, "says so", proc)
    expect_equal(check_every_row(job, range(9), proc), list(range(9)), "every row once, in order", proc)
