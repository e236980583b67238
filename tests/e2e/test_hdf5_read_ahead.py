"""read_hdf5 read ahead: while a worker's Python process runs a mini-batch, its rank reads the next queued one's rows
(one mini-batch ahead at most). Every row reaches run() once and in full; a read ahead that fails (the file gone
since planning) fails its attempt at its turn with the text a read then gives; a Python process killed in run() and
a worker quarantined with rows read ahead lose and duplicate no row. The sys log's DEBUG line "rows read ahead" shows
the reads were made ahead."""
import os
import re

from prs_e2e import expect, expect_equal
from test_hdf5_input import ROW, ROWS_SCRIPT, compound_rows, expected_lines, make_table, py_value

import h5py
import numpy as np

PATTERN = "paths:\n  - pattern: ./*.h5\ntransformations:\n  - read_hdf5:\n      dataset: /t\n"
DEBUG = "logging_level: DEBUG\n"


def sys_log(job, rank):
    host = os.listdir(job.path("out/logs/sys/node"))[0]
    return job.read(f"out/logs/sys/node/{host}/process{rank:03d}.txt")


def read_ahead(job, rank=1):
    """(batch, attempt) of each mini-batch whose rows this rank read ahead."""
    return [(int(b), int(a)) for b, a in re.findall(r"mini-batch (\d+) attempt (\d+): rows read ahead",
                                                    sys_log(job, rank))]


def attempt_lines(job, rank=1):
    """(batch, attempt, status) of the rank's attempt lines, in the order it logged them."""
    return [(int(b), int(a), s) for b, a, s in re.findall(r"mini-batch (\d+) attempt (\d+): ([a-z ]+), items",
                                                          sys_log(job, rank))]


def test_every_row_reaches_run_once_and_in_full_with_read_ahead(make_job):
    sizes = {"a.h5": 1000, "b.h5": 730}
    files = {rel: (lambda f, i=i, n=n: f.create_dataset("t", data=compound_rows(i, n)))
             for i, (rel, n) in enumerate(sizes.items())}
    script = ROWS_SCRIPT.replace("    def run(mini_batch):\n",
                                 "    import time\n    def run(mini_batch):\n        time.sleep(0.02)\n")
    job = make_table(make_job, "ahead", PATTERN, files, "mini_batch_row_size: 50", script=script, extra=DEBUG)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    frames = []
    for rel in sizes:
        with h5py.File(job.path("table/" + rel), "r") as f:
            data = f["t"][:]
        rows = [tuple(py_value(row[c]) for c in ROW.names) for row in data]
        frames.append((ROW.names, ["int64", "float32", "bool", "uint16", "object", "object"], rows))
    expect_equal(sorted(job.rows()), expected_lines(frames, 50), "every row once, its values and dtypes", proc)
    expect_equal(job.summary()["mini_batches"], {"total": 35, "succeeded": 35, "failed": 0, "unconfirmed": 0}, "mini-batches")
    ahead = read_ahead(job)
    expect(len(ahead) == len(set(ahead)) and len(ahead) >= 17, f"most mini-batches read ahead, each once: {ahead}")
    expect(all(a == 1 and 0 < b < 35 for b, a in ahead), f"only first attempts, never the first handed: {ahead}")
    expect_equal([line for line in attempt_lines(job) if line[2] != "ok"], [], "no attempt failed")


# init() takes c.h5 away after rank 0 planned it; a.h5's mini-batches take long enough for c.h5's first to be read
# ahead (and fail) while the last of a.h5 runs.
VANISH_SCRIPT = """
    import os, time
    def init():
        path = os.path.join(os.path.dirname(os.environ["AZUREML_BI_OUTPUT_PATH"]), "table", "c.h5")
        os.rename(path, path + ".gone")
    def run(mini_batch):
        time.sleep(0.3)
        return [str(i) for i in mini_batch["id"]]
"""


def test_a_read_ahead_that_fails_fails_its_attempt_at_its_turn_as_today(make_job):
    files = {"a.h5": lambda f: f.create_dataset("t", data=compound_rows(0, 6)),
             "c.h5": lambda f: f.create_dataset("t", data=compound_rows(2, 4))}
    job = make_table(make_job, "vanish_ahead", PATTERN, files, "mini_batch_row_size: 2", script=VANISH_SCRIPT,
                     extra=DEBUG)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code (no threshold set)", proc)
    expect_equal(sorted(job.rows()), ["0", "1", "2", "3", "4", "5"], "the rows of a.h5", proc)
    d = job.path("table")
    failures = [line.split("attempt 1 failed: ")[1].split(" (traceback")[0] for line in proc.stderr.splitlines()
                if "attempt 1 failed" in line]
    expect_equal(failures, [f"{d}/c.h5: rows {r}: {d}/MLTable:5: read_hdf5.dataset: cannot read {d}/c.h5: "
                            "No such file or directory" for r in ("0..2", "2..4")], "the two failed attempts", proc)
    expect("mini-batch 3 attempt 1: rows read ahead failed; the attempt fails at its turn" in sys_log(job, 1),
           f"c.h5's first mini-batch was read ahead: {read_ahead(job)}", proc)
    expect_equal(attempt_lines(job), [(0, 1, "ok"), (1, 1, "ok"), (2, 1, "ok"), (3, 1, "failed"), (4, 1, "failed")],
                 "the attempts in input order, the failed ones after the last of a.h5", proc)
    expect_equal(job.summary()["mini_batches"], {"total": 5, "succeeded": 3, "failed": 2, "unconfirmed": 0}, "mini-batches")
    expect_equal(job.summary()["workers"]["python_restarts"], 0, "the worker went on")


def test_a_python_process_killed_with_rows_read_ahead_loses_and_duplicates_nothing(make_job):
    script = """
        import os, time
        def run(mini_batch):
            time.sleep(0.1)
            marker = os.path.join(os.path.dirname(os.environ["AZUREML_BI_OUTPUT_PATH"]), "killed")
            if mini_batch["id"].iloc[0] == 300 and not os.path.exists(marker):
                open(marker, "w").close()
                os.kill(os.getpid(), 9)
            return [str(i) for i in mini_batch["id"]]
    """
    files = {"a.h5": lambda f: f.create_dataset("t", data=compound_rows(0, 1000))}
    job = make_table(make_job, "killed_ahead", PATTERN, files, "mini_batch_row_size: 100", script=script,
                     extra=DEBUG)
    job.write("job.yml", job.read("job.yml").replace("max_retries: 0", "max_retries: 1"))
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows(), key=int), [str(i) for i in range(1000)], "every row once", proc)
    s = job.summary()
    expect_equal(s["mini_batches"], {"total": 10, "succeeded": 10, "failed": 0, "unconfirmed": 0}, "mini-batches", proc)
    expect_equal(s["workers"]["python_restarts"], 1, "one Python process killed", proc)
    expect((4, 1) in read_ahead(job), f"the mini-batch after the killed one was read ahead: {read_ahead(job)}", proc)
    lines = attempt_lines(job)
    expect_equal(sorted((b, st) for b, _, st in lines if st != "ok"), [(3, "failed")], "only the killed attempt "
                 "failed; the one read ahead went back unrun", proc)
    expect_equal(sorted(b for b, _, st in lines if st == "ok"), list(range(10)), "each mini-batch ran once", proc)


def test_a_quarantined_worker_drops_its_rows_read_ahead_and_the_rows_go_elsewhere(make_job):
    script = """
        import os, time
        def init():
            time.sleep(0.3 if os.environ["PRS_RANK"] != "1" else 0)  # the bad worker is ready first
        def run(mini_batch):
            time.sleep(0.05)  # long enough to read the next mini-batch ahead, and for every worker to take a share
            if os.environ["PRS_RANK"] == "1":
                raise RuntimeError("this node's GPU is broken")
            return [str(i) for i in mini_batch["id"]]
    """
    files = {"a.h5": lambda f: f.create_dataset("t", data=compound_rows(0, 200))}
    job = make_table(make_job, "quarantined_ahead", PATTERN, files, "mini_batch_row_size: 5", script=script,
                     extra=DEBUG + "quarantine_after_failures: 3\n")
    job.write("job.yml", job.read("job.yml").replace("max_retries: 0", "max_retries: 1"))
    proc = job.run(np=4)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows(), key=int), [str(i) for i in range(200)], "every row once, from the others", proc)
    s = job.summary()
    expect_equal(s["mini_batches"], {"total": 40, "succeeded": 40, "failed": 0, "unconfirmed": 0}, "mini-batches", proc)
    expect_equal(s["workers"]["quarantined"], 1, "the bad worker quarantined", proc)
    expect(len(read_ahead(job, 1)) >= 1, f"the bad worker read rows ahead: {read_ahead(job, 1)}", proc)
    expect_equal([st for _, _, st in attempt_lines(job, 1) if st != "failed"], [], "the bad worker ran none", proc)


# Each value's repr, fixed and variable-length strings: the ASCII mini-batches are decoded in one go, the others
# value by value (UTF-8, surrogateescape); both give the same str values as h5py's bytes decoded.
STRINGS_SCRIPT = """
    def run(mini_batch):
        return [f"{c!r} {l!r}" for c, l in zip(mini_batch["code"], mini_batch["label"])]
"""


def test_ascii_and_other_strings_decode_as_before(make_job):
    codes = [b"a\0b", b"x\0", b"", b"plain", b"\xc3\xa9t\xc3\xa9", b"\xff!", b"ok"]  # S8: NUL padded, trailing dropped
    labels = ["l0", "", "l2 long", "m3", "été ☃", "", "x6"]

    def write(f):
        f.create_dataset("code", data=np.array(codes, dtype="S8"))
        f.create_dataset("label", data=labels, dtype=h5py.string_dtype())
    job = make_table(make_job, "strings_ahead", "paths:\n  - file: ./s.h5\ntransformations:\n  - read_hdf5:\n"
                     "      columns: [/code, /label]\n", {"s.h5": write}, "mini_batch_row_size: 2",
                     script=STRINGS_SCRIPT)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    decoded = [c.rstrip(b"\0").decode("utf-8", "surrogateescape") for c in codes]
    expected = [f"{c!r} {label!r}" for c, label in zip(decoded, labels)]
    expect_equal(sorted(job.rows()), sorted(expected), "every value as h5py's bytes decoded", proc)
    rows = job.rows()
    expect("'été' 'été ☃'" in rows and "'\\udcff!' ''" in rows, f"non-ASCII values: {rows}", proc)
