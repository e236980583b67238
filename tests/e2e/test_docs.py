"""The documentation a user reads before trusting prs_mpi: every example in README.md and docs/ (but
docs/python_jobs.md, which tests/jobs_py runs) is run with the built prs_mpi and its rows checked; commands for a
cluster are checked for syntax and for the repository paths they name; every fenced block is one of those or a
marked fragment; the key tables of docs/user_guide.md are config_keys.cpp's keys with the defaults --dry-run shows;
the ignored keys of docs/migration.md are the loader's.

Markers (an HTML comment on the line before a fenced block):
    <!-- example: NAME/PATH -->   the block is the file PATH of example NAME
    <!-- run: NAME -->            the commands that run example NAME (bash -e, in its folder, prs_mpi on PATH)
    <!-- rows: NAME/PATH -->      the lines PATH must hold after the run, in any order
    <!-- shell -->                commands for a cluster or a fresh machine: bash -n, and the paths they name exist
    <!-- fragment -->             a part of a file or console output: YAML must parse, Python must compile
"""
import collections
import os
import re
import subprocess
import textwrap

import pytest
import yaml

from prs_e2e import PRS_MPI, SOURCE_DIR, expect, expect_equal

DOCS = ["README.md", "docs/user_guide.md", "docs/entry_scripts.md", "docs/migration.md", "docs/development.md"]
CONFIG_KEYS = os.path.join(SOURCE_DIR, "src", "config", "config_keys.cpp")
MARKER = re.compile(r"<!-- (example|run|rows): (\S+) -->|<!-- (shell|fragment) -->")
FENCE = re.compile(r"^( *)```(\w*)\s*$")

Block = collections.namedtuple("Block", "doc line kind name lang text")


def read(rel):
    with open(os.path.join(SOURCE_DIR, rel), encoding="utf-8") as f:
        return f.read()


def blocks_of(doc):
    """Every fenced block of a doc with the marker on the last non-blank line before it (kind None if none)."""
    lines = read(doc).splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, lang, start = m.group(1), m.group(2), i
        i += 1
        while i < len(lines) and lines[i].strip() != "```":
            i += 1
        text = textwrap.dedent("\n".join(lines[start + 1:i])) + "\n"
        before = next((lines[j].strip() for j in range(start - 1, -1, -1) if lines[j].strip()), "")
        marker = MARKER.fullmatch(before)
        kind = (marker.group(1) or marker.group(3)) if marker else None
        blocks.append(Block(doc, start + 1, kind, marker.group(2) if marker else None, lang, text))
        i += 1
    return blocks


ALL_BLOCKS = [b for doc in DOCS for b in blocks_of(doc)]


def examples():
    """{NAME: {"files": {PATH: text}, "run": text, "rows": {PATH: text}}} in document order."""
    found = collections.OrderedDict()
    for b in ALL_BLOCKS:
        if b.kind not in ("example", "run", "rows"):
            continue
        name, _, path = b.name.partition("/")
        ex = found.setdefault(name, {"files": {}, "run": None, "rows": {}, "where": f"{b.doc}:{b.line}"})
        if b.kind == "run":
            assert ex["run"] is None, f"{b.doc}:{b.line}: a second run block for {name}"
            ex["run"] = b.text
        else:
            ex["files" if b.kind == "example" else "rows"][path] = b.text
    return found


EXAMPLES = examples()


def test_every_block_is_marked():
    unmarked = [f"{b.doc}:{b.line}" for b in ALL_BLOCKS if b.kind is None]
    expect_equal(unmarked, [], "fenced blocks without a marker (see this file's docstring)")
    for name, ex in EXAMPLES.items():
        expect(ex["run"] is not None and ex["rows"], f"example {name} ({ex['where']}) has a run and a rows block")


@pytest.fixture
def tool_path(tmp_path):
    """A PATH with the built prs_mpi first (mpirun and mpiexec are Debian's)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    os.symlink(PRS_MPI, bin_dir / "prs_mpi")
    return f"{bin_dir}:{os.environ['PATH']}"


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_example_runs_and_writes_its_rows(tmp_path, tool_path, name):
    ex = EXAMPLES[name]
    folder = tmp_path / name
    for path, text in ex["files"].items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    folder.mkdir(exist_ok=True)
    proc = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", ex["run"]], cwd=folder, capture_output=True,
                          text=True, timeout=300, env=dict(os.environ, PATH=tool_path))
    expect_equal(proc.returncode, 0, f"example {name} ({ex['where']}): exit code of its run block", proc)
    for path, text in ex["rows"].items():
        actual = (folder / path).read_text().splitlines()
        expect_equal(sorted(actual), sorted(text.splitlines()), f"example {name}: the rows of {path}", proc)


REPO_PATH = re.compile(r"(?<![\w/.])((?:slurm|scripts|examples|benchmarks|docs)/[\w./-]*\w)")


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if b.kind == "shell"], ids=lambda b: f"{b.doc}:{b.line}")
def test_shell_block_parses_and_names_existing_paths(block):
    proc = subprocess.run(["bash", "-n"], input=block.text, capture_output=True, text=True)
    expect_equal(proc.returncode, 0, f"{block.doc}:{block.line}: bash -n", proc)
    missing = [p for p in REPO_PATH.findall(block.text) if not os.path.exists(os.path.join(SOURCE_DIR, p))]
    expect_equal(missing, [], f"{block.doc}:{block.line}: repository paths that do not exist")


@pytest.mark.parametrize("block", [b for b in ALL_BLOCKS if b.kind == "fragment"], ids=lambda b: f"{b.doc}:{b.line}")
def test_fragment_parses(block):
    if block.lang == "yaml":
        yaml.safe_load(block.text)
    elif block.lang == "python":
        compile(block.text, f"{block.doc}:{block.line}", "exec")
    else:
        expect(block.lang in ("text", ""), f"{block.doc}:{block.line}: a fragment is yaml, python or text")


# ---- the key tables ----

def cpp_patterns(table):
    """(pattern, role) of a Pattern table of config_keys.cpp."""
    body = re.search(r"const Pattern " + table + r"\[\] = \{(.*?)\n\};", read(CONFIG_KEYS), re.S).group(1)
    return re.findall(r'\{"([^"]*)",\s*([\w:]+),', body)


def cpp_knobs():
    body = re.search(r"const char\* const knobs\[\] = \{(.*?)\};", read(CONFIG_KEYS), re.S).group(1)
    return re.findall(r'"(\w+)"', body)


def doc_table(doc, marker):
    """The rows of the table between <!-- marker --> and <!-- /marker -->: (key with NAME as *, cells)."""
    text = read(doc)
    section = re.search(f"<!-- {marker} -->\n(.*?)<!-- /{marker} -->", text, re.S)
    assert section, f"{doc}: no <!-- {marker} --> table"
    rows = []
    for line in section.group(1).splitlines()[2:]:  # the header and its rule
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        key = re.fullmatch(r"`([^`]+)`", cells[0]).group(1)
        rows.append((re.sub(r"\b[A-Z]+\b", "*", key), cells))
    return rows


def test_the_key_table_has_every_key_of_the_loader():
    documented = [key for key, _ in doc_table("docs/user_guide.md", "keys")]
    known = [p for p, role in cpp_patterns("job_patterns") if role in ("leaf", "Role::unsupported")]
    expect_equal(sorted(documented), sorted(known), "docs/user_guide.md's keys vs config_keys.cpp's job_patterns")
    knobs = [key.lstrip("-") for key, _ in doc_table("docs/user_guide.md", "knobs")]
    expect_equal(knobs, cpp_knobs(), "docs/user_guide.md's program-argument settings vs config_keys.cpp's knobs")


def test_the_documented_defaults_are_what_dry_run_shows(tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "a.txt").write_text("1\n")
    (tmp_path / "score.py").write_text("def run(mini_batch):\n    return mini_batch\n")
    (tmp_path / "job.yml").write_text("type: parallel\ninputs:\n  data: {type: uri_folder, path: ./data}\n"
                                      "input_data: ${{inputs.data}}\ntask:\n  entry_script: score.py\n"
                                      "  append_row_to: ./out/rows.txt\n")
    proc = subprocess.run([PRS_MPI, "job.yml", "--dry-run"], cwd=tmp_path, capture_output=True, text=True)
    expect_equal(proc.returncode, 0, "dry run", proc)
    shown = dict(re.findall(r"^  (\S+) += (.*?)  \(default\)$", proc.stdout, re.M))
    checked = 0
    for marker in ("keys", "knobs"):
        for key, cells in doc_table("docs/user_guide.md", marker):
            default = re.search(r"`([^`]*)`", cells[1])
            key = key.lstrip("-")
            if default is None or key not in shown:
                continue
            checked += 1
            expect_equal(default.group(1), shown[key], f"the documented default of {key}", proc)
    expect(checked >= 20, f"only {checked} defaults compared", proc)


def test_the_ignored_keys_of_the_migration_guide_are_the_loaders():
    text = read("docs/migration.md")
    for marker, table in (("ignored", "job_patterns"), ("ignored-pipeline", "pipeline_patterns")):
        section = re.search(f"<!-- {marker} -->\n(.*?)<!-- /{marker} -->", text, re.S)
        assert section, f"docs/migration.md: no <!-- {marker} --> list"
        documented = [re.sub(r"\b[A-Z]+\b", "*", k) for k in re.findall(r"`([^`]+)`", section.group(1))]
        known = [p for p, role in cpp_patterns(table) if role == "ignored"]
        expect_equal(sorted(documented), sorted(known), f"docs/migration.md's {marker} keys vs {table}")
