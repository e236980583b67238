"""Helpers for the end-to-end tests: a job folder, prs_mpi run under mpiexec, exact checks that show the output.

The paths come from the environment, which tests/conftest.py completes before any test module is imported
(PRS_MPI, PRS_MPIEXEC, PRS_SOURCE_DIR); tests get a Job from its `make_job` fixture.
"""
import json
import os
import subprocess
import textwrap

PRS_MPI = os.environ["PRS_MPI"]
MPIEXEC = os.environ["PRS_MPIEXEC"]
SOURCE_DIR = os.environ["PRS_SOURCE_DIR"]

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


def prs_mpi_command(np, args):
    """The command line of prs_mpi with args, under mpiexec with np ranks (np > 0) or alone (np == 0)."""
    cmd = [PRS_MPI, *args]
    return [MPIEXEC, "--oversubscribe", "-np", str(np), *cmd] if np else cmd


class Job:
    """A job folder root/name: data/, src/score.py, job.yml; runs prs_mpi from the folder."""

    def __init__(self, root, name, script, items=10, batch=3, retries=2, timeout=60, extra="", arguments="--x 1"):
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

    def run(self, np=4, args=(), timeout=300, job="job.yml", env=None):
        """Runs prs_mpi under mpiexec (np > 0) or alone (np == 0), with env added to the environment; returns the
        CompletedProcess."""
        return subprocess.run(prs_mpi_command(np, [job, *args]), cwd=self.dir, capture_output=True, text=True,
                              timeout=timeout, env=dict(os.environ, **(env or {})))

    def start(self, np=3, args=(), env=None):
        """Starts prs_mpi under mpiexec in a session of its own (for signals and os.killpg); returns the Popen."""
        return subprocess.Popen(prs_mpi_command(np, ["job.yml", *args]), cwd=self.dir, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True, start_new_session=True,
                                env=dict(os.environ, **(env or {})))

    def read(self, rel):
        with open(self.path(rel)) as f:
            return f.read()

    def rows(self, rel="out/predictions.txt"):
        return self.read(rel).splitlines()

    def summary(self, logs="out/logs"):
        return json.loads(self.read(f"{logs}/job_summary.json"))

    def exists(self, rel):
        return os.path.exists(self.path(rel))


def resume_until_done(job, limit, np=3):
    """Runs --resume until the job exits 0; returns the number of runs it took and the last CompletedProcess."""
    __tracebackhide__ = True
    for runs in range(1, limit + 1):
        proc = job.run(np=np, args=["--resume"])
        if proc.returncode == 0:
            return runs, proc
    expect(False, f"--resume still failing after {limit} runs", proc)


def expect(condition, message, proc=None):
    """Fails the test with a message (and the process's output) unless condition holds."""
    __tracebackhide__ = True  # pytest shows the failure at the test's line
    if condition:
        return
    if proc is not None:
        message += f"\n--- exit {proc.returncode}\n--- stdout:\n{proc.stdout}\n--- stderr:\n{proc.stderr}"
    raise AssertionError(message)


def expect_equal(actual, expected, what, proc=None):
    __tracebackhide__ = True
    expect(actual == expected, f"{what}: expected {expected!r}, got {actual!r}", proc)
