"""pytest support for the tests of python/prs_mpi: the built prs_mpi, a fresh working directory per test, dry runs
read back as settings, and the example blocks of docs/python_jobs.md.

    def test_something(in_tmp):                 # the working directory is a fresh tmp_path
        done = dry_run("job.yml")               # prs_mpi job.yml --dry-run, a CompletedProcess
        assert settings_of(done.stdout) == ...
"""
import os
import re
import shlex
import subprocess
import sys
import textwrap

import pytest

SOURCE_DIR = os.environ.get("PRS_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(SOURCE_DIR, "python"))  # as the README's PYTHONPATH, for a run outside ctest
# prs_mpi.run finds it here too; absolute, as the tests change the working directory
PRS_MPI = os.environ["PRS_MPI"] = os.path.abspath(os.environ.get("PRS_MPI") or
                                                  os.path.join(SOURCE_DIR, "build", "prs_mpi"))
os.environ.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")  # 3 ranks on a 2-core machine
DOC = os.path.join(SOURCE_DIR, "docs", "python_jobs.md")
SEEDS_DIR = os.environ.get("PRS_SEEDS_DIR", "/work/shared/seeds")


def pytest_configure(config):
    config.addinivalue_line("markers", "slurm: needs a real local Slurm (tests/slurm/start-local-slurm.sh) and root")


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    """A fresh folder as the working directory (Python jobs' relative paths are relative to it)."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(path, text):
    """Writes a file (its folders made), the text dedented."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))


def read(path):
    with open(path) as f:
        return f.read()


def dry_run(job_file, *args):
    """prs_mpi JOB_FILE --dry-run ARGS (one process, no MPI)."""
    return subprocess.run([PRS_MPI, job_file, "--dry-run", *args], capture_output=True, text=True, timeout=60)


def error_line(stderr):
    """prs_mpi's one error line, without "prs_mpi: error: "."""
    lines = [line for line in stderr.splitlines() if line.startswith("prs_mpi: error: ")]
    assert len(lines) == 1, stderr
    return lines[0][len("prs_mpi: error: "):]


def settings_of(text, prefix_of_ignored=""):
    """What a dry run resolved, as values: {"settings": {key: value}, "ignored": [key, ...], "plan": [...]}.

    Origins (job.yml:12, default) and line numbers are left out: two files giving the same job compare equal;
    task.program_arguments is compared as the arguments it splits into (quoting aside).
    Ignored keys lose prefix_of_ignored ("parallel_run_config.", where a v1 job's cloud-only keys sit)."""
    result = {"settings": {}, "ignored": [], "plan": [], "pipeline job": None}
    section = None
    for line in text.splitlines():
        setting = re.match(r"^  (\S+) += (.*)  \((.*)\)$", line)
        if line == "settings:":
            section = "settings"
        elif section == "settings" and setting:
            key, value = setting.group(1), setting.group(2).strip()
            result["settings"][key] = str(shlex.split(value)) if key == "task.program_arguments" else value
        elif line.startswith("ignored (cloud-only): "):
            section = None
            for key in line[len("ignored (cloud-only): "):].split(", "):
                name = re.sub(r" \([^()]*:\d+\)$", "", key)
                result["ignored"].append(name[len(prefix_of_ignored):] if name.startswith(prefix_of_ignored) else name)
        elif line.startswith("pipeline job: "):
            result["pipeline job"] = line[len("pipeline job: "):]
        elif line.startswith(("output: ", "logs: ", "plan: ", "  mini-batch ")):
            section = None
            result["plan"].append(line)
    result["ignored"].sort()
    return result


def same_settings(python_file, yaml_file, *args, prefix_of_ignored="", aliases=None):
    """Asserts that two job files resolve to the same settings, ignored keys and plan; returns the settings."""
    python_run, yaml_run = dry_run(python_file, *args), dry_run(yaml_file, *args)
    assert python_run.returncode == 0, python_run.stderr
    assert yaml_run.returncode == 0, yaml_run.stderr
    python_settings = settings_of(python_run.stdout, prefix_of_ignored)
    yaml_settings = settings_of(yaml_run.stdout)
    for alias, name in (aliases or {}).items():
        python_settings["ignored"] = sorted(name if key == alias else key for key in python_settings["ignored"])
    assert python_settings == yaml_settings
    assert len(python_settings["settings"]) >= 20 and python_settings["plan"]
    return python_settings


# ---- docs/python_jobs.md ----

def doc_blocks():
    """{"NAME/PART": code} for every block the doc marks with <!-- example: NAME/PART -->."""
    text = read(DOC)
    blocks = {}
    for name, body in re.findall(r"<!-- example: (\S+) -->\n```\w+\n(.*?)\n```", text, re.S):
        assert name not in blocks, f"{name} marked twice"
        blocks[name] = body + "\n"
    return blocks


def port(code):
    """The doc's porting rule: `prs_mpi.` in front of every azure / azureml import; azure.identity lines go."""
    lines = []
    for line in code.splitlines():
        if re.match(r"\s*from azure\.identity import ", line):
            continue
        lines.append(re.sub(r"^(\s*)(from|import) (azure|azureml)\.", r"\1\2 prs_mpi.\3.", line))
    return "\n".join(lines) + "\n"


def apply_diff(code, diff):
    """Applies a doc's diff block: each run of "-" lines, found exactly once, becomes the "+" lines after it."""
    hunks = []
    for line in diff.splitlines():
        sign, text = line[:1], line[1:]
        assert sign in "+-", f"not a diff line: {line!r}"
        if sign == "-" and (not hunks or hunks[-1][1]):
            hunks.append(([], []))
        hunks[-1][0 if sign == "-" else 1].append(text)
    for removed, added in hunks:
        old = "\n".join(removed) + "\n"
        assert code.count(old) == 1, f"the diff's lines are not in the code once: {old!r}"
        code = code.replace(old, "\n".join(added) + "\n" if added else "")
    return code


def run_code(code):
    """Runs code as a script in the working directory; returns its variables."""
    namespace = {"__name__": "__example__"}
    exec(compile(code, "<docs/python_jobs.md example>", "exec"), namespace)
    return namespace
