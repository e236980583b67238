"""Tabular input (type: mltable): the service's iris example, header modes, encodings, JSON lines, the property test
(random files and sizes: the union of all mini-batches is a serial pandas read of each file, row for row) and every
bad MLTable and bad record with its message."""
import io
import os
import random

import pandas as pd
import pytest

from prs_e2e import expect, expect_equal

TABLE_JOB = """\
type: parallel
inputs:
  input_data: {{type: mltable, path: ./neural-iris-mltable, mode: direct}}
outputs:
  job_output_file: {{type: uri_file, path: ./out/predictions.txt}}
input_data: ${{{{inputs.input_data}}}}
mini_batch_size: "{batch}"
mini_batch_error_threshold: {threshold}
retry_settings: {{max_retries: {retries}, timeout: 60}}
task:
  type: run_function
  code: ./src
  entry_script: score.py
  append_row_to: ${{{{outputs.job_output_file}}}}
"""

# The seed's iris scoring script, shape kept: a DataFrame in, the same DataFrame with a prediction column out.
IRIS_SCRIPT = """
    import pandas as pd
    def init():
        pass
    def run(mini_batch):
        assert isinstance(mini_batch, pd.DataFrame), type(mini_batch)
        out = mini_batch.copy()
        out["prediction"] = (out["petal_length"] > 2.5).map({True: "versicolor-or-virginica", False: "setosa"})
        return out
"""

ECHO_SCRIPT = """
    def run(mini_batch):
        return mini_batch
"""

REPR_SCRIPT = """
    def run(mini_batch):
        return [f"{r.name}|{r.note!r}|{r.Path}" for r in mini_batch.itertuples()]
"""

COLUMNS_SCRIPT = """
    def run(mini_batch):
        out = mini_batch.copy()
        out["columns"] = "|".join(map(str, mini_batch.columns))
        out["dtypes"] = "|".join(str(t) for t in mini_batch.dtypes)
        return out
"""


def table_job(make_job, name, script, mltable, files, batch="10kb", threshold=-1, retries=0):
    job = make_job(name, script, items=0)
    job.write("job.yml", TABLE_JOB.format(batch=batch, threshold=threshold, retries=retries))
    job.write("neural-iris-mltable/MLTable", mltable)
    for rel, data in files.items():
        path = job.path("neural-iris-mltable/" + rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode())
    return job


def error_line(proc):
    """The prs_mpi line of stderr (mpiexec adds its own lines after a non-zero exit)."""
    lines = [line for line in proc.stderr.splitlines() if line.startswith("prs_mpi:")]
    return lines[0] if len(lines) == 1 else proc.stderr


def expected_cuts(data, start, size):
    """The cuts of the rule: at each multiple of size after start, moved to the next line start."""
    ends = []
    for target in range(start + size, len(data), size):
        nl = data.find("\n", target - 1)
        end = len(data) if nl < 0 else nl + 1
        if not ends or ends[-1] != end:
            ends.append(end)
    if not ends or ends[-1] != len(data):
        ends.append(len(data))
    return list(zip([start] + ends[:-1], ends))


def rows_of(frame):
    return frame.to_csv(sep=" ", header=False, index=False).splitlines()


def delimited(**options):
    text = "".join(f"      {k}: {v}\n" for k, v in options.items())
    return "paths:\n  - pattern: ./*.csv\ntransformations:\n  - read_delimited:\n" + (text or "      {}\n")


def iris_csv(rows):
    rng = random.Random(7)
    lines = ["sepal_length,sepal_width,petal_length,petal_width,species"]
    for _ in range(rows):
        setosa = rng.random() < 0.33
        lines.append(f"{rng.uniform(4, 8):.1f},{rng.uniform(2, 4.5):.1f},{rng.uniform(1, 1.9) if setosa else rng.uniform(3, 7):.1f},"
                     f"{rng.uniform(0.1, 2.5):.1f},{'setosa' if setosa else 'versicolor'}")
    return "\n".join(lines) + "\n"


def test_iris_example_every_row_scored(make_job):
    data = iris_csv(1500)
    job = table_job(make_job, "iris", IRIS_SCRIPT,
                    "paths:\n  - file: ./iris.csv\ntransformations:\n  - read_delimited:\n      delimiter: ','\n"
                    "      encoding: utf8\n      header: all_files_same_headers\n", {"iris.csv": data})
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    serial = pd.read_csv(io.StringIO(data))
    serial["prediction"] = (serial["petal_length"] > 2.5).map({True: "versicolor-or-virginica", False: "setosa"})
    expect_equal(sorted(job.rows()), sorted(rows_of(serial)), "rows")
    s = job.summary()
    batches = len(expected_cuts(data, len(data.splitlines()[0]) + 1, 10240))
    expect_equal(s["mini_batches"]["total"], batches, "mini-batches (about 10 KiB of whole rows each)", proc)
    expect_equal(s["items"], {"total": 1500, "succeeded": 1500, "failed": 0}, "items are rows", proc)


def test_dry_run_prints_the_tabular_plan(make_job):
    data = iris_csv(1500)
    job = table_job(make_job, "dry", IRIS_SCRIPT, delimited(), {"a.csv": data, "b.csv": data[:data.index("\n") + 1]})
    proc = job.run(np=0, args=["--dry-run"])
    expect_equal(proc.returncode, 0, "exit code", proc)
    folder = job.path("neural-iris-mltable")
    size = len(data)
    expect(f"table: {folder}/MLTable (read_delimited), 2 files, {size + data.index(chr(10)) + 1} bytes\n" in proc.stdout,
           "table line", proc)
    cuts = expected_cuts(data, 58, 10240)
    expect(f"plan: {len(cuts)} mini-batches of about 10240 bytes of whole records\n" in proc.stdout, "plan line", proc)
    expect(f"  file {folder}/a.csv: {size} bytes, {len(cuts)} mini-batches, header 58 bytes\n" in proc.stdout,
           "file a", proc)
    expect(f"  file {folder}/b.csv: 58 bytes, 0 mini-batches, header 58 bytes\n" in proc.stdout, "header only", proc)
    shown = [line for line in proc.stdout.splitlines() if line.startswith("  mini-batch ")]
    expect_equal(shown, [f"  mini-batch {i}: {folder}/a.csv bytes {a}..{b} ({b - a} bytes)" for i, (a, b) in
                         enumerate(cuts)], "every cut (fewer than 7: all shown)", proc)


def test_header_modes_over_several_files(make_job):
    files = {"a.csv": "x,y\n1,2\n3,4\n", "b.csv": "x,y\n5,6\n"}
    for mode, expected in [
        ("all_files_same_headers", ["1 2 x|y", "3 4 x|y", "5 6 x|y"]),
        ("from_first_file", ["1 2 x|y", "3 4 x|y", "x y x|y", "5 6 x|y"]),
        ("no_header", ["x y Column1|Column2"] * 2 + ["1 2 Column1|Column2", "3 4 Column1|Column2",
                                                     "5 6 Column1|Column2"]),
    ]:
        job = table_job(make_job, mode, COLUMNS_SCRIPT.replace('out["dtypes"]', 'out["_"]').replace(
            'out["_"] = "|".join(str(t) for t in mini_batch.dtypes)', 'pass'), delimited(header=mode), files)
        proc = job.run(np=3)
        expect_equal(proc.returncode, 0, f"{mode}: exit code", proc)
        expect_equal(sorted(job.rows()), sorted(expected), f"{mode}: rows", proc)
    files["b.csv"] = "z\n7\n"
    job = table_job(make_job, "different", COLUMNS_SCRIPT, delimited(header="all_files_different_headers"), files)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "different headers: exit code", proc)
    expect_equal(sorted(job.rows()), sorted(["1 2 x|y int64|int64", "3 4 x|y int64|int64", "7 z int64"]), "rows", proc)
    job = table_job(make_job, "same-refused", COLUMNS_SCRIPT, delimited(), files)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 2, "exit code", proc)
    folder = job.path("neural-iris-mltable")
    expect_equal(error_line(proc), f"prs_mpi: error: {folder}/MLTable: header: all_files_same_headers, but the header "
                 f"of {folder}/b.csv differs from the first file's ({folder}/a.csv); use header: "
                 "all_files_different_headers", "error", proc)


def test_options_encodings_and_path_column(make_job):
    text = "name;note\nJos\u00e9;\nZo\u00eb;caf\u00e9\n"
    cases = [("latin1", text.encode("latin-1")), ("windows1252", text.encode("cp1252")),
             ("utf8bom", b"\xef\xbb\xbf" + text.encode()), ("utf16", text.encode("utf-16"))]
    for encoding, data in cases:
        job = table_job(make_job, encoding, REPR_SCRIPT,
                        delimited(delimiter="';'", encoding=encoding, empty_as_string="true",
                                  include_path_column="true"), {"t.csv": data}, batch="1")
        proc = job.run(np=3)
        expect_equal(proc.returncode, 0, f"{encoding}: exit code", proc)
        path = job.path("neural-iris-mltable/t.csv")
        expect_equal(sorted(job.rows()), sorted([f"Jos\u00e9|''|{path}", f"Zo\u00eb|'caf\u00e9'|{path}"]),
                     f"{encoding}: rows (empty_as_string keeps the empty note as \"\")", proc)
        expect_equal(job.summary()["mini_batches"]["total"], 2, f"{encoding}: one record per mini-batch", proc)


def test_infer_column_types_false_pins_strings(make_job):
    job = table_job(make_job, "strings", COLUMNS_SCRIPT, delimited(infer_column_types="false"),
                    {"t.csv": "a,b\n007,1.50\n"})
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(job.rows(), ["007 1.50 a|b object|object"], "strings kept as written", proc)


# ---- the property test ----

def random_field(rng, multi_line):
    plain = "ab1 .-\u00e9"
    if rng.random() < 0.6:
        return "".join(rng.choice(plain) for _ in range(rng.randrange(6)))
    inside = "ab,\";x\n" if multi_line else "ab,\";x"
    body = "".join(rng.choice(inside) for _ in range(rng.randrange(8)))
    return '"' + body.replace('"', '""') + '"'


def random_csv(rng, multi_line, header):
    newline = rng.choice(["\n", "\r\n"])
    kind = rng.random()
    if kind < 0.08:
        return b""
    lines = ["h1,h2,h3"] if header else []
    if kind > 0.12:  # else a header only
        for _ in range(rng.randrange(1, 60)):
            lines.append("" if rng.random() < 0.1 else ",".join(random_field(rng, multi_line) for _ in range(3)))
    text = newline.join(lines) + (newline if rng.random() < 0.7 else "")
    data = text.encode()
    return b"\xef\xbb\xbf" + data if rng.random() < 0.2 else data


def serial_rows(path, header):
    with open(path, "rb") as f:
        data = f.read()
    if not data.strip(b"\xef\xbb\xbf\r\n"):
        return []
    frame = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str, header=0 if header else None)
    return rows_of(frame)


@pytest.mark.parametrize("multi_line", [False, True], ids=["lines", "multi_line"])
@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_property_random_files_and_sizes_union_is_the_serial_read(make_job, seed, multi_line):
    rng = random.Random(seed * 2 + multi_line)
    header = rng.random() < 0.7
    files = {f"f{i:02d}.csv": random_csv(rng, multi_line, header) for i in range(rng.randrange(3, 9))}
    batch = rng.choice([1, 7, 40, 200, 5000])
    mltable = delimited(header="all_files_same_headers" if header else "no_header", infer_column_types="false",
                        support_multi_line="true" if multi_line else "false")
    job = table_job(make_job, f"prop{seed}{multi_line}", ECHO_SCRIPT, mltable, files, batch=str(batch))
    proc = job.run(np=3)
    context = f"seed {seed}, multi_line {multi_line}, mini_batch_size {batch}"
    expect_equal(proc.returncode, 0, f"{context}: exit code", proc)
    expected = []
    for name in sorted(files):
        expected += serial_rows(job.path("neural-iris-mltable/" + name), header)
    # Rows, each once: the output is the rows of every mini-batch; compared as a multiset of lines.
    expect_equal(sorted(job.rows()), sorted(expected), f"{context}: rows", proc)
    s = job.summary()
    expect_equal(s["items"]["failed"], 0, f"{context}: failed items", proc)


def random_json_lines(rng):
    newline = rng.choice(["\n", "\r\n"])
    lines = []
    for i in range(rng.randrange(1, 50)):
        if rng.random() < 0.1:
            lines.append("")
            continue
        text = "".join(rng.choice('ab "\\\n\u00e9,{}') for _ in range(rng.randrange(6)))
        lines.append(pd.Series([{"a": i, "b": text, "c": i + 0.5}]).to_json(orient="records", lines=True).strip())
    return (newline.join(lines) + (newline if rng.random() < 0.7 else "")).encode()


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_property_json_lines_union_is_the_serial_read(make_job, seed):
    rng = random.Random(100 + seed)
    files = {f"f{i}.jsonl": random_json_lines(rng) for i in range(rng.randrange(2, 6))}
    batch = rng.choice([1, 30, 300, 4000])
    job = table_job(make_job, f"json{seed}", ECHO_SCRIPT,
                    "paths:\n  - pattern: ./*.jsonl\ntransformations:\n  - read_json_lines\n", files, batch=str(batch))
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, f"seed {seed}: exit code", proc)
    expected = []
    for name in sorted(files):
        expected += rows_of(pd.read_json(job.path("neural-iris-mltable/" + name), lines=True))
    expect_equal(sorted(job.rows()), sorted(expected), f"seed {seed}, mini_batch_size {batch}: rows", proc)


# ---- bad records and bad MLTables ----

def test_bad_records_fail_their_mini_batch_naming_file_and_offset(make_job):
    files = {"a.csv": "x,y\n1,2\n3,4,5\n", "b.csv": b"x,y\n6,\xff\n", "c.csv": "x,y\n7,8\n"}
    job = table_job(make_job, "bad", ECHO_SCRIPT, delimited(), files, batch="1")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code (no threshold)", proc)
    expect_equal(sorted(job.rows()), ["1 2", "7 8"], "the good rows", proc)
    folder = job.path("neural-iris-mltable")
    errors = job.read("out/logs/user/error.txt")
    expect(f"{folder}/a.csv: byte 8: bad record: 3 fields, the header has 2" in errors, errors, proc)
    expect(f"{folder}/b.csv: byte 6: cannot be decoded as utf8: invalid start byte" in errors, errors, proc)
    s = job.summary()
    expect_equal(s["mini_batches"], {"total": 4, "succeeded": 2, "failed": 2, "unconfirmed": 0}, "mini-batches", proc)


def test_json_lines_invalid_lines_error_or_drop(make_job):
    files = {"a.jsonl": '{"a": 1}\n{oops\n{"a": 3}\n'}
    mltable = "paths:\n  - file: a.jsonl\ntransformations:\n  - read_json_lines:\n      invalid_lines: {}\n"
    job = table_job(make_job, "json-error", ECHO_SCRIPT, mltable.format("error"), files)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(job.rows(), [], "no rows: the only mini-batch failed", proc)
    errors = job.read("out/logs/user/error.txt")
    expect(f"{job.path('neural-iris-mltable/a.jsonl')}: byte 9: invalid JSON line (" in errors, errors, proc)
    job = table_job(make_job, "json-drop", ECHO_SCRIPT, mltable.format("drop"), files)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(job.rows(), ["1", "3"], "the valid lines", proc)


@pytest.mark.parametrize("mltable, message", [
    ("paths:\n  - file: a.csv\ntransformations:\n  - read_parquet\n",
     "{m}:4: transformations[0]: read_parquet is not supported: this platform's packages have no Parquet reader; "
     "supported: read_delimited, read_json_lines, read_hdf5, or paths without a transformation (a file list)"),
    ("paths:\n  - file: a.csv\ntransformations:\n  - read_delta_lake: {}\n",
     "{m}:4: transformations[0]: read_delta_lake is not supported: this platform's packages have no Parquet reader; "
     "supported: read_delimited, read_json_lines, read_hdf5, or paths without a transformation (a file list)"),
    ("paths:\n  - file: a.csv\ntransformations:\n  - read_delimited\n  - take: 5\n",
     "{m}:5: transformations[1]: take: only one transformation is supported "
     "(one read_delimited, read_json_lines or read_hdf5)"),
    ("paths:\n  - file: nothere.csv\ntransformations:\n  - read_delimited\n",
     "{m}:2: paths[0].file: {d}/nothere.csv is not a file"),
    ("paths:\n  - pattern: ./*.tsv\ntransformations:\n  - read_delimited\n",
     "{m}:2: paths[0].pattern: ./*.tsv matches no file"),
    ("transformations:\n  - read_delimited\n", "{m}:1: paths: is required: the files of the table, e.g. - file: ./iris.csv"),
], ids=["parquet", "delta", "take", "missing-file", "no-match", "no-paths"])
def test_bad_mltable_is_one_line_exit_2(make_job, mltable, message):
    job = table_job(make_job, "badml", ECHO_SCRIPT, mltable, {"a.csv": "x\n1\n"})
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    d = job.path("neural-iris-mltable")
    expect_equal(error_line(proc), "prs_mpi: error: " + message.format(m=d + "/MLTable", d=d), "error", proc)
    expect(not job.exists("out/predictions.txt"), "nothing written", proc)


def test_mltable_file_list_and_sizes(make_job):
    job = table_job(make_job, "filelist", "def run(b):\n    return [p.rsplit('/', 1)[1] for p in b]\n",
                    "paths:\n  - pattern: ./*.csv\n", {"a.csv": "1\n", "b.csv": "2\n", "c.csv": "3\n"}, batch="2")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "an MLTable without a read transformation is a file list", proc)
    expect_equal(sorted(job.rows()), ["a.csv", "b.csv", "c.csv"], "paths", proc)
    job = table_job(make_job, "filelist-size", ECHO_SCRIPT, "paths:\n  - pattern: ./*.csv\n", {"a.csv": "1\n"},
                    batch="10kb")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect_equal(error_line(proc), "prs_mpi: error: job.yml:7: mini_batch_size: must be a count of files for an "
                 "MLTable without read_delimited or read_json_lines (a file list), got 10240 bytes", "error", proc)
    job = table_job(make_job, "bad-size", ECHO_SCRIPT, delimited(), {"a.csv": "x\n1\n"}, batch="10 parsecs")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect(error_line(proc).startswith("prs_mpi: error: job.yml:7: mini_batch_size: "), "size error", proc)


def test_resume_refuses_a_changed_table_file(make_job):
    data = iris_csv(300)
    job = table_job(make_job, "resume", IRIS_SCRIPT, delimited(), {"iris.csv": data}, batch="2kb")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    proc = job.run(np=2, args=["--resume"])
    expect_equal(proc.returncode, 0, "an unchanged table resumes (nothing to do)", proc)
    job.write("neural-iris-mltable/iris.csv", data + "5.0,3.0,1.5,0.2,setosa\n")
    proc = job.run(np=2, args=["--resume"])
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect(error_line(proc).startswith("prs_mpi: error: job.yml: cannot --resume: the input files (added, removed or "
                                       "modified)"), "names the change", proc)


def test_the_output_is_never_a_table_file(make_job):
    job = table_job(make_job, "own-output", ECHO_SCRIPT, "paths:\n  - folder: .\ntransformations:\n  - read_delimited\n",
                    {"a.csv": "x\n1\n"})
    job.write("job.yml", job.read("job.yml").replace("./out/predictions.txt", "./neural-iris-mltable/a.csv"))
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    out = job.path("neural-iris-mltable/a.csv")
    expect(error_line(proc).startswith(f"prs_mpi: error: job.yml:14: task.append_row_to: {out} is one of the input "
                                       "files"), "refused", proc)
    expect_equal(job.read("neural-iris-mltable/a.csv"), "x\n1\n", "the table file is untouched", proc)


def test_a_ragged_record_inside_a_range_names_its_byte(make_job):
    files = {"a.csv": "x,y\n1,2\n3,4,5\n", "b.csv": "x,y\n1,2\n\n\n6,7,8\n"}
    job = table_job(make_job, "ragged", ECHO_SCRIPT, delimited(), files, batch="1MB")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    folder = job.path("neural-iris-mltable")
    errors = job.read("out/logs/user/error.txt")
    expect(f"{folder}/a.csv: byte 8: bad record: Expected 2 fields in line 2, saw 3" in errors, errors, proc)
    expect(f"{folder}/b.csv: byte 10: bad record: Expected 2 fields in line 4, saw 3" in errors, errors, proc)
    expect_equal(job.summary()["items"], {"total": 2, "succeeded": 0, "failed": 2},
                 "a range that does not parse counts as one failed item", proc)


@pytest.mark.parametrize("batch", [1, 13, 100000])
def test_edge_files_every_case_once(make_job, batch):
    files = {"a_empty.csv": b"", "b_header_only.csv": b"h1,h2,h3\r\n", "c_header_no_newline.csv": b"h1,h2,h3",
             "d_bom.csv": b"\xef\xbb\xbfh1,h2,h3\n1,2,3\n", "e_crlf_no_final.csv": b"h1,h2,h3\r\n4,5,6\r\n7,8,9",
             "f_quoted.csv": b'h1,h2,h3\n"a\nb","c,d","e""f"\n\n\r\n"x",,\n',
             "g_long_record.csv": b"h1,h2,h3\n" + b"z" * 300 + b",1,2\nq,r,s\n"}
    job = table_job(make_job, f"edges{batch}", ECHO_SCRIPT,
                    delimited(infer_column_types="false", support_multi_line="true"), files, batch=str(batch))
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expected = []
    for name in sorted(files):
        expected += serial_rows(job.path("neural-iris-mltable/" + name), True)
    expect_equal(sorted(job.rows()), sorted(expected), f"mini_batch_size {batch}: rows", proc)
    expect_equal(job.summary()["items"]["total"], 7, "rows counted as items", proc)
