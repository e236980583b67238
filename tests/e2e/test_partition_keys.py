"""partition_keys (hive-style folders: file lists and DataFrames with the keys added; table columns: one mini-batch
per key through the workers' index pass), mini_batch_row_size, read_delimited dtype, and every bad case with its
message. Rows are checked one by one against an independent read of what the generator wrote."""
import io
import json
import os
import random

import pandas as pd

from prs_e2e import expect, expect_equal

JOB = """\
type: parallel
inputs:
  input_data: {{type: {kind}, path: ./{path}}}
outputs:
  job_output_file: {{type: uri_file, path: ./out/predictions.txt}}
input_data: ${{{{inputs.input_data}}}}
{division}retry_settings: {{max_retries: 0, timeout: 60}}
task:
  type: run_function
  code: ./src
  entry_script: score.py
  append_row_to: ${{{{outputs.job_output_file}}}}
"""

# One row per input row: the batch's key (all rows of a batch must share it) and the row as JSON.
KEYED_ROWS = """
    def run(mini_batch):
        keys = {tuple(map(str, t)) for t in mini_batch[KEYS].itertuples(index=False)}
        assert len(keys) == 1, keys
        key = "|".join(next(iter(keys)))
        return [key + "\\t" + line for line in mini_batch.to_json(orient="records", lines=True).splitlines()]
"""


def make(make_job, name, script, kind, path, division, files):
    job = make_job(name, script, items=0)
    job.write("job.yml", JOB.format(kind=kind, path=path, division=division))
    for rel, data in files.items():
        full = job.path(rel)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
    return job


def error_line(proc):
    lines = [line for line in proc.stderr.splitlines() if line.startswith("prs_mpi:")]
    return lines[0] if len(lines) == 1 else proc.stderr


def mltable(read="read_delimited: {}", paths="  - folder: .\n"):
    return f"paths:\n{paths}transformations:\n  - {read}\n"


# ---- folders ----

def test_folders_file_list_one_mini_batch_per_key_combination(make_job):
    files = {f"data/Store={s}/Brand={b}/f{i}.txt": "x\n" for i, (s, b) in
             enumerate([(1, "a"), (1, "a"), (1, "b"), (2, "a"), (10, "b")])}
    script = """
    import os
    def run(mini_batch):
        names = "+".join(os.path.relpath(p, os.path.join(os.getcwd(), "data")) for p in mini_batch)
        return [names] * len(mini_batch)
    """
    job = make(make_job, "files", script, "uri_folder", "data", "partition_keys: [Store, Brand]\n", files)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    groups = ["Store=1/Brand=a/f0.txt+Store=1/Brand=a/f1.txt"] * 2 + ["Store=1/Brand=b/f2.txt",
                                                                     "Store=10/Brand=b/f4.txt", "Store=2/Brand=a/f3.txt"]
    expect_equal(sorted(job.rows()), sorted(groups), "each key combination's files together", proc)
    expect_equal(job.summary()["mini_batches"]["total"], 4, "one mini-batch per combination", proc)
    dry = job.run(np=0, args=["--dry-run"])
    data = job.path("data")
    expect(f"plan: 5 files in 4 mini-batches (key groups), one per combination of partition_keys [Store, Brand]"
           in dry.stdout, "plan line", dry)
    shown = [line for line in dry.stdout.splitlines() if line.startswith("  mini-batch ")]
    expect_equal(shown, [f"  mini-batch 0: Store=1, Brand=a: 2 files, {data}/Store=1/Brand=a/f0.txt .. "
                         f"{data}/Store=1/Brand=a/f1.txt",
                         f"  mini-batch 1: Store=1, Brand=b: 1 file, {data}/Store=1/Brand=b/f2.txt",
                         f"  mini-batch 2: Store=10, Brand=b: 1 file, {data}/Store=10/Brand=b/f4.txt",
                         f"  mini-batch 3: Store=2, Brand=a: 1 file, {data}/Store=2/Brand=a/f3.txt"],
                 "groups sorted by their values as text", dry)


def test_folders_mltable_one_dataframe_per_key_with_key_columns(make_job):
    files = {"tbl/MLTable": mltable(), "tbl/Store=1/a.csv": "v,w\n1,x\n2,y\n", "tbl/Store=1/b.csv": "v,w\n3,z\n",
             "tbl/Store=2/c.csv": "v,w\n4,\"q,r\"\n"}
    script = """
    def run(mini_batch):
        return [f"{r.Store}|{r.v}|{r.w}|{len(mini_batch)}|{mini_batch.Store.dtype}|{type(r.Store).__name__}"
                for r in mini_batch.itertuples()]
    """
    job = make(make_job, "frames", script, "mltable", "tbl", "partition_keys: [Store]\n", files)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), ["1|1|x|3|object|str", "1|2|y|3|object|str", "1|3|z|3|object|str",
                                      "2|4|q,r|1|object|str"], "rows with the key column, a string", proc)


def test_a_file_without_the_key_folder_is_named(make_job):
    files = {"data/Store=1/a.txt": "x\n", "data/other/b.txt": "y\n"}
    job = make(make_job, "missing", "def run(b):\n    return b\n", "uri_folder", "data",
               "partition_keys: [Store]\n", files)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect_equal(error_line(proc), f"prs_mpi: error: job.yml:7: partition_keys: {job.path('data/other/b.txt')}: no "
                 "folder Store=VALUE in its path for the partition key Store; every input file must lie below a "
                 "folder KEY=VALUE for every key (hive style)", "error", proc)
    expect(not job.exists("out/predictions.txt"), "nothing written")


# ---- columns ----

def keyed_csv(rng, rows):
    """A CSV (CRLF, quoted keys with the delimiter, quoted text with quotes) and each key's own lines."""
    header = "k,n,v,t\r\n"
    lines, by_key = [], {}
    for i in range(rows):
        k = rng.choice(["x", '"q,1"', "z", "y"])
        n = rng.choice(["1", "2"])
        v = "" if (k == "y" and i % 50 == 0) else str(i)  # NaN only in key y's rows
        line = f'{k},{n},{v},"text {i}, ""quoted"""\r\n'
        lines.append(line)
        by_key.setdefault((k.strip('"'), n), []).append(line)
    return header, header + "".join(lines), by_key


def test_columns_every_key_one_mini_batch_rows_typed_by_their_own_rows(make_job):
    rng = random.Random(11)
    header, data, by_key = keyed_csv(rng, 36000)  # ~1.6 MB: two index ranges of 1 MiB
    files = {"tbl/MLTable": mltable(paths="  - file: ./t.csv\n"), "tbl/t.csv": data}
    job = make(make_job, "columns", KEYED_ROWS.replace("KEYS", '["k", "n"]'), "mltable", "tbl",
               "partition_keys: [k, n]\n", files)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    got = {}
    for row in job.rows():
        key, record = row.split("\t")
        got.setdefault(key, []).append(record)
    expected = {}
    for (k, n), lines in by_key.items():
        frame = pd.read_csv(io.StringIO(header + "".join(lines)))  # pandas on that key's rows alone
        expected[f"{k}|{n}"] = frame.to_json(orient="records", lines=True).splitlines()
    expect_equal(sorted(got), sorted(expected), "one mini-batch per key, every key", proc)
    for key in expected:
        expect_equal(sorted(got[key]), sorted(expected[key]), f"rows of {key}: none lost, none twice", proc)
    s = job.summary()
    expect_equal(s["mini_batches"]["total"], len(expected), "mini-batches", proc)
    expect_equal(s["items"], {"total": 36000, "succeeded": 36000, "failed": 0}, "items are rows", proc)
    dry = job.run(np=0, args=["--dry-run"])
    expect(f"plan: {len(expected)} mini-batches (key groups), one per combination of the columns partition_keys "
           "[k, n], indexed over 2 ranges\n" in dry.stdout, "plan line", dry)
    shown = [line.split(":")[1] for line in dry.stdout.splitlines() if line.startswith("  mini-batch ")]
    expect_equal(shown[0], " k=q,1, n=1", "first group", dry)
    expect_equal(shown[-1], " k=z, n=2", "last group", dry)


def test_columns_json_lines_keys_as_text(make_job):
    records = [{"k": "a", "n": 1, "v": 1.5}, {"k": 7, "v": 2}, {"k": "a", "n": 1, "v": 3}, {"n": 2, "v": 4},
               {"k": 7, "v": None}, {"k": "b", "n": 1, "v": 6}]
    data = "".join(json.dumps(r) + "\n" for r in records)
    files = {"tbl/MLTable": mltable("read_json_lines: {}", "  - file: ./t.jsonl\n"), "tbl/t.jsonl": data}
    script = """
    def run(mini_batch):
        return [f"{len(mini_batch)}:" + mini_batch.to_json(orient="records")] * len(mini_batch)
    """
    job = make(make_job, "json", script, "mltable", "tbl", "partition_keys: [k]\n", files)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    groups = {}
    for r in records:
        groups.setdefault("" if r.get("k") is None else str(r["k"]), []).append(json.dumps(r))
    expected = [f"{len(lines)}:" + pd.read_json(io.StringIO("\n".join(lines)), lines=True).to_json(orient="records")
                for _, lines in sorted(groups.items()) for _ in lines]
    expect_equal(sorted(job.rows()), sorted(expected), "one DataFrame per key: '' (missing), '7', 'a', 'b'", proc)
    again = job.run(np=3, args=["--resume"])
    expect_equal((again.returncode, "prs_mpi: nothing to resume" in again.stdout), (0, True),
                 "the index is the same on a second pass: the plan's fingerprint holds", again)
    job.write("job.yml", JOB.format(kind="mltable", path="tbl", division="partition_keys: [n]\n"))
    changed = job.run(np=3, args=["--resume"])
    expect_equal(changed.returncode, 2, "exit code", changed)
    expect_equal(error_line(changed), "prs_mpi: error: job.yml: cannot --resume: the mini-batches (mini_batch_size, "
                 "mini_batch_row_size or partition_keys) changed since the interrupted run; use --overwrite to start "
                 "over", "other keys: another plan", changed)


def test_an_unknown_key_column_is_named_with_the_columns(make_job):
    files = {"tbl/MLTable": mltable(paths="  - file: ./t.csv\n"), "tbl/t.csv": "a,b\n1,2\n"}
    job = make(make_job, "unknown", "def run(b):\n    return b\n", "mltable", "tbl", "partition_keys: [Store]\n",
               files)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect_equal(error_line(proc), f"prs_mpi: error: job.yml:7: partition_keys: Store is not a column of "
                 f"{job.path('tbl/t.csv')} (columns: a, b) nor a folder Store=VALUE in its path", "error", proc)


def test_a_bad_json_line_found_by_the_index_pass_is_exit_2(make_job):
    files = {"tbl/MLTable": mltable("read_json_lines: {}", "  - file: ./t.jsonl\n"),
             "tbl/t.jsonl": '{"k": 1}\n{"k": [1]}\n'}
    job = make(make_job, "nested", "def run(b):\n    return b\n", "mltable", "tbl", "partition_keys: [k]\n", files)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect_equal(error_line(proc), f"prs_mpi: error: {job.path('tbl/t.jsonl')}: byte 9: partition_keys: k holds an "
                 "object or a list; a key must hold a string, a number, a boolean or null", "error", proc)


def test_partition_keys_with_mini_batch_size_is_refused(make_job):
    job = make(make_job, "both", "def run(b):\n    return b\n", "uri_folder", "data",
               'mini_batch_size: "2"\npartition_keys: [Store]\n', {"data/Store=1/a.txt": "x\n"})
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect_equal(error_line(proc), "prs_mpi: error: job.yml:8: partition_keys: cannot be given with mini_batch_size "
                 "(job.yml:7): a mini-batch is either one combination of the keys' values or a size; remove one of "
                 "them", "error", proc)


# ---- mini_batch_row_size ----

def test_row_size_n_rows_per_mini_batch_but_the_last_of_each_file(make_job):
    a = "v\n" + "".join(f"{i}\n" for i in range(23))
    b = "v\n" + "".join(f"{100 + i}\n" + ("\n" if i == 3 else "") for i in range(10))  # a blank line is no row
    files = {"tbl/MLTable": mltable(paths="  - pattern: ./*.csv\n"), "tbl/a.csv": a, "tbl/b.csv": b}
    script = """
    def run(mini_batch):
        return [f"{len(mini_batch)}|{mini_batch.v.iloc[0]}"] * len(mini_batch)
    """
    job = make(make_job, "rows", script, "mltable", "tbl", "mini_batch_row_size: 7\n", files)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expected = [f"{n}|{first}" for n, first in [(7, 0), (7, 7), (7, 14), (2, 21), (7, 100), (3, 107)] for _ in
                range(n)]
    expect_equal(sorted(job.rows()), sorted(expected), "7 rows a mini-batch, restarting per file", proc)
    expect_equal(job.summary()["items"], {"total": 33, "succeeded": 33, "failed": 0}, "every row once", proc)
    dry = job.run(np=0, args=["--dry-run"])
    expect("plan: 6 mini-batches of 7 records\n" in dry.stdout, "plan line", dry)


def test_row_size_json_lines(make_job):
    data = "".join(json.dumps({"i": i}) + "\n" for i in range(10))
    files = {"tbl/MLTable": mltable("read_json_lines: {}", "  - file: ./t.jsonl\n"), "tbl/t.jsonl": data}
    script = """
    def run(mini_batch):
        return [",".join(map(str, mini_batch.i))]
    """
    job = make(make_job, "rowsjson", script, "mltable", "tbl", "mini_batch_row_size: 4\n", files)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), ["0,1,2,3", "4,5,6,7", "8,9"], "rows", proc)


def test_row_size_refused_with_a_size_and_for_file_lists(make_job):
    files = {"tbl/MLTable": "paths:\n  - file: ./t.csv\n", "tbl/t.csv": "a\n1\n"}
    job = make(make_job, "rowsbad", "def run(b):\n    return b\n", "mltable", "tbl", "mini_batch_row_size: 4\n",
               files)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect_equal(error_line(proc), f"prs_mpi: error: job.yml:7: mini_batch_row_size: is for tables read by "
                 f"read_delimited or read_json_lines; {job.path('tbl/MLTable')} has no read transformation (a file "
                 "list)", "error", proc)
    job.write("job.yml", JOB.format(kind="mltable", path="tbl", division='mini_batch_size: "1kb"\n'
                                                                          "mini_batch_row_size: 4\n"))
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect_equal(error_line(proc), "prs_mpi: error: job.yml:8: mini_batch_row_size: cannot be given with "
                 "mini_batch_size (job.yml:7): a mini-batch is either a number of rows or a size; remove one of them",
                 "error", proc)


# ---- dtype ----

DTYPES = """
    def run(mini_batch):
        return [f"{mini_batch.id.iloc[0]}|{mini_batch.v.dtype}"]
"""


def test_dtype_pins_a_type_that_per_batch_inference_changes(make_job):
    # v is an integer column with one empty field late in the file: the batch holding it infers float64, the
    # others int64 (a whole-file read would make every row float64); dtype: {v: Int64} pins them all.
    data = "id,v\n" + "".join(f"{i},{'' if i == 150 else i}\n" for i in range(200))
    for case, (dtype, expected) in enumerate([(None, {"float64": 1, "int64": None}), ("{v: Int64}", {"Int64": None}),
                            ("{v: str}", {"object": None})]):
        read = "read_delimited: {dtype: " + dtype + "}" if dtype else "read_delimited: {}"
        files = {"tbl/MLTable": mltable(read, "  - file: ./t.csv\n"), "tbl/t.csv": data}
        job = make(make_job, f"dtype{case}", DTYPES, "mltable", "tbl",
                   'mini_batch_size: "256"\n', files)
        proc = job.run(np=3)
        expect_equal(proc.returncode, 0, f"{dtype}: exit code", proc)
        types = [row.split("|")[1] for row in job.rows()]
        batches = job.summary()["mini_batches"]["total"]
        expect(batches > 3, f"{dtype}: several mini-batches ({batches})", proc)
        counts = {t: types.count(t) for t in set(types)}
        want = {t: (n if n is not None else batches - sum(m or 0 for m in expected.values())) for t, n in
                expected.items()}
        expect_equal(counts, want, f"{dtype}: dtypes per mini-batch", proc)


def test_converters_and_unknown_dtypes_are_refused(make_job):
    for read, message in [
        ("read_delimited: {converters: {v: int}}", ":4: transformations[0].read_delimited.converters: is not "
         "supported: converters are Python functions, which YAML cannot hold; pin a column's type with dtype: "
         "{column: type} and convert further in run()"),
        ("read_delimited: {dtype: {v: int}}", ":4: transformations[0].read_delimited.dtype.v: must be a pandas "
         "dtype: str, string, object, bool, boolean, category, int8..int64, uint8..uint64, Int8..Int64 (nullable), "
         "UInt8..UInt64, float32, float64, Float32 or Float64, got int"),
    ]:
        files = {"tbl/MLTable": mltable(read, "  - file: ./t.csv\n"), "tbl/t.csv": "v\n1\n"}
        job = make(make_job, f"refused{len(message)}", DTYPES, "mltable", "tbl", "", files)
        proc = job.run(np=0, args=["--dry-run"])
        expect_equal(proc.returncode, 2, "exit code", proc)
        expect_equal(error_line(proc), f"prs_mpi: error: {job.path('tbl/MLTable')}{message}", "error", proc)
