"""Helpers for the end-to-end tests: a job folder in a temp dir, prs_mpi run under mpiexec, exact checks.

Each test script defines test_* functions and ends with `run_tests(globals())`, which runs them, prints one line
per test and the closing line "N passed, N failed", and exits non-zero if any failed.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import traceback

PRS_MPI = os.environ["PRS_MPI"]
MPIEXEC = os.environ.get("PRS_MPIEXEC") or "mpiexec"
SOURCE_DIR = os.environ.get("PRS_SOURCE_DIR", os.path.dirname(os.path.dirname(os.path.dirname(__file__))))

JOB_YAML = """\
type: parallel
inputs:
  input_data: {{type: uri_folder, path: ./data}}
outputs:
  job_output_file: {{type: uri_file, path: ./out/predictions.txt}}
input_data: ${{{{inputs.input_data}}}}
mini_batch_size: "{batch}"
retry_settings: {{max_retries: {retries}, timeout: {timeout}}}
{extra}task:
  type: run_function
  code: ./src
  entry_script: score.py
  program_arguments: {arguments}
  append_row_to: ${{{{outputs.job_output_file}}}}
"""


class Job:
    """A job folder: data/, src/score.py, job.yml; runs prs_mpi from the folder."""

    def __init__(self, name, script, items=10, batch=3, retries=2, timeout=60, extra="", arguments="--x 1",
                 root=None):
        if root is None:
            self.dir = tempfile.mkdtemp(prefix=f"prs_e2e_{name}_")
        else:
            self.dir = os.path.join(str(root), name)
            os.makedirs(self.dir)
        self.items = [f"item_{i:03d}.txt" for i in range(items)]
        for i, item in enumerate(self.items):
            self.write(f"data/{item}", f"{i}\n")
        self.write("src/score.py", textwrap.dedent(script))
        self.write("job.yml", JOB_YAML.format(batch=batch, retries=retries, timeout=timeout, extra=extra,
                                              arguments=arguments))

    def path(self, rel):
        return os.path.join(self.dir, rel)

    def write(self, rel, text):
        os.makedirs(os.path.dirname(self.path(rel)), exist_ok=True)
        with open(self.path(rel), "w") as f:
            f.write(text)

    def run(self, np=4, args=(), timeout=300, job="job.yml"):
        """Runs prs_mpi under mpiexec (np > 0) or alone (np == 0); returns the CompletedProcess."""
        cmd = [PRS_MPI, job, *args]
        if np:
            cmd = [MPIEXEC, "--oversubscribe", "-np", str(np), *cmd]
        return subprocess.run(cmd, cwd=self.dir, capture_output=True, text=True, timeout=timeout)

    def read(self, rel):
        with open(self.path(rel)) as f:
            return f.read()

    def rows(self, rel="out/predictions.txt"):
        return self.read(rel).splitlines()

    def summary(self, logs="out/logs"):
        return json.loads(self.read(f"{logs}/job_summary.json"))

    def exists(self, rel):
        return os.path.exists(self.path(rel))

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def expect(condition, message, proc=None):
    """Fails the test with a message (and the process's output) unless condition holds."""
    if condition:
        return
    if proc is not None:
        message += f"\n--- exit {proc.returncode}\n--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}"
    raise AssertionError(message)


def expect_equal(actual, expected, what, proc=None):
    expect(actual == expected, f"{what}: expected {expected!r}, got {actual!r}", proc)


def run_tests(namespace):
    tests = [(name, fn) for name, fn in namespace.items() if name.startswith("test_") and callable(fn)]
    only = sys.argv[1:]
    passed = failed = 0
    for name, fn in tests:
        if only and name not in only:
            continue
        try:
            fn()
            passed += 1
            print(f"PASS {name}", flush=True)
        except Exception:
            failed += 1
            print(f"FAIL {name}\n{traceback.format_exc()}", flush=True)
    print(f"{passed} passed, {failed} failed")
    sys.exit(1 if failed or not passed else 0)
