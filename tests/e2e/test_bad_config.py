"""Bad job files and command lines: one clear line on stderr, exit 2, nothing written, no worker started."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from prs_e2e import Job, expect, expect_equal, run_tests  # noqa: E402

SCRIPT = "def run(mini_batch):\n    return mini_batch\n"

# (what the job file gets wrong: text replaced -> replacement, the exact error line after "prs_mpi: error: ")
CASES = [
    ("timeout: 60", "timeout: -5", "job.yml:8: retry_settings.timeout: must be in (0, 259200], got -5"),
    ("max_retries: 2", "max_retries: -1", "job.yml:8: retry_settings.max_retries: must be in [0, 2147483647], got -1"),
    ('mini_batch_size: "3"', 'mini_batch_size: "10kb"',
     "job.yml:7: mini_batch_size: must be a count of files for a file list input (sizes such as 10kb are for "
     "tabular input), got 10kb"),
    ("task:", "mini_batch_error_threshold: -2\ntask:",
     "job.yml:9: mini_batch_error_threshold: must be in [-1, 2147483647], got -2"),
    ("task:", "logging_level: LOUD\ntask:", "job.yml:9: logging_level: must be INFO, WARNING or DEBUG, got LOUD"),
    ("task:", "mini_batch_sise: 3\ntask:", "job.yml:9: mini_batch_sise: unknown key; did you mean mini_batch_size?"),
    ("${{inputs.input_data}}", "${{inputs.input_dat}}",
     "job.yml:6: input_data: ${{inputs.input_dat}}: no input named input_dat; declared inputs: input_data"),
    ("path: ./data", "path: ./missing", "job.yml:3: inputs.input_data.path: {dir}/missing does not exist"),
    ("entry_script: score.py", "entry_script: scor.py", "job.yml:12: task.entry_script: {dir}/src/scor.py does not exist"),
    ("type: uri_folder, path: ./data", "type: mltable, path: ./data",
     "job.yml:3: inputs.input_data.type: tabular input (type: mltable) is not supported yet; use uri_folder or uri_file"),
    ("program_arguments: --x 1", "program_arguments: --x 1 --allowed_failed_percent 101",
     "job.yml:13: task.program_arguments: --allowed_failed_percent: must be in [0, 100], got 101"),
    ("type: parallel", "type: command", "job.yml:1: type: must be parallel, got command"),
    ("retry_settings: {", "retry_settings: {{", "job.yml:8:18: invalid YAML: end of map flow not found"),
]


def check_refused(job, proc, message):
    expect_equal(proc.returncode, 2, "exit code", proc)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("prs_mpi:")]
    expect_equal(len(lines), 1, "one error line", proc)
    if message:
        expect_equal(lines[0], "prs_mpi: error: " + message, "error line", proc)
    expect(not job.exists("out"), "nothing written")
    expect(not job.exists("logs"), "no logs folder")


def test_each_bad_setting_is_named_with_its_line():
    failures = []
    for old, new, message in CASES:
        job = Job("bad", SCRIPT, items=3, batch=3)
        yml = job.read("job.yml")
        assert old in yml, old
        job.write("job.yml", yml.replace(old, new, 1))
        proc = job.run(np=2)
        try:
            check_refused(job, proc, message.replace("{dir}", job.dir))
        except AssertionError as e:
            failures.append(f"{new!r}: {e}")
        job.remove()
    expect(not failures, "\n\n".join(failures))


def test_bad_set_override():
    job = Job("badset", SCRIPT, items=3, batch=3)
    proc = job.run(np=2, args=["--set", "retry_settings.timeout=0"])
    check_refused(job, proc, "--set retry_settings.timeout=0: retry_settings.timeout: must be in (0, 259200], got 0")
    job.remove()


def test_missing_job_file():
    job = Job("nojob", SCRIPT)
    proc = job.run(np=2, job="nojob.yml")
    check_refused(job, proc, "nojob.yml: cannot read the job file: No such file or directory")
    job.remove()


def test_bad_command_line():
    job = Job("badcli", SCRIPT)
    proc = job.run(np=0, args=["--frobnicate"])
    check_refused(job, proc, None)
    expect("--frobnicate" in proc.stderr and "prs_mpi --help" in proc.stderr, "names the option", proc)
    job.remove()


def test_empty_input_folder():
    job = Job("empty", SCRIPT, items=0)
    os.makedirs(job.path("data"), exist_ok=True)
    proc = job.run(np=2)
    check_refused(job, proc, f"{job.path('data')}: the input folder holds no file")
    job.remove()


if __name__ == "__main__":
    run_tests(globals())
