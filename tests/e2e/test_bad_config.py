"""Bad job files and command lines: one clear line on stderr, exit 2, nothing written, no worker started."""
import os

import pytest

from prs_e2e import expect, expect_equal

SCRIPT = "def run(mini_batch):\n    return mini_batch\n"

# What the job file gets wrong (text replaced -> replacement) and the exact error line after "prs_mpi: error: ".
CASES = [
    pytest.param("timeout: 60", "timeout: -5",
                 "job.yml:8: retry_settings.timeout: must be in (0, 259200], got -5", id="negative-timeout"),
    pytest.param("max_retries: 2", "max_retries: -1",
                 "job.yml:8: retry_settings.max_retries: must be in [0, 2147483647], got -1",
                 id="negative-max_retries"),
    pytest.param('mini_batch_size: "3"', 'mini_batch_size: "10kb"',
                 "job.yml:7: mini_batch_size: must be a count of files for a file list input (sizes such as 10kb are "
                 "for tabular input), got 10kb", id="size-for-a-file-list"),
    pytest.param("task:", "mini_batch_error_threshold: -2\ntask:",
                 "job.yml:9: mini_batch_error_threshold: must be in [-1, 2147483647], got -2",
                 id="mini_batch_error_threshold-below-minus-1"),
    pytest.param("task:", "logging_level: LOUD\ntask:",
                 "job.yml:9: logging_level: must be DEBUG, INFO, WARNING or ERROR, got LOUD", id="unknown-logging_level"),
    pytest.param("task:", "mini_batch_sise: 3\ntask:",
                 "job.yml:9: mini_batch_sise: unknown key; did you mean mini_batch_size?", id="misspelt-key"),
    pytest.param("${{inputs.input_data}}", "${{inputs.input_dat}}",
                 "job.yml:6: input_data: ${{inputs.input_dat}}: no input named input_dat; declared inputs: input_data",
                 id="unknown-input-binding"),
    pytest.param("path: ./data", "path: ./missing",
                 "job.yml:3: inputs.input_data.path: {dir}/missing does not exist", id="missing-input-path"),
    pytest.param("entry_script: score.py", "entry_script: scor.py",
                 "job.yml:12: task.entry_script: {dir}/src/scor.py does not exist", id="missing-entry_script"),
    pytest.param("type: uri_folder, path: ./data", "type: mltable, path: ./data",
                 "job.yml:3: inputs.input_data.path: {dir}/data holds no MLTable file; a type: mltable input is a "
                 "folder holding an MLTable file (paths and transformations)", id="mltable-input-without-MLTable"),
    pytest.param("program_arguments: --x 1", "program_arguments: --x 1 --allowed_failed_percent 101",
                 "job.yml:13: task.program_arguments: --allowed_failed_percent: must be in [0, 100], got 101",
                 id="allowed_failed_percent-above-100"),
    pytest.param("type: parallel", "type: command", "job.yml:1: type: must be parallel, got command",
                 id="command-job"),
    pytest.param("retry_settings: {", "retry_settings: {{", "job.yml:8:18: invalid YAML: end of map flow not found",
                 id="invalid-yaml"),
]


def check_refused(job, proc, message):
    expect_equal(proc.returncode, 2, "exit code", proc)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("prs_mpi:")]
    expect_equal(len(lines), 1, "one error line", proc)
    if message:
        expect_equal(lines[0], "prs_mpi: error: " + message, "error line", proc)
    expect(not job.exists("out"), "nothing written")
    expect(not job.exists("logs"), "no logs folder")


@pytest.mark.parametrize("old, new, message", CASES)
def test_each_bad_setting_is_named_with_its_line(make_job, old, new, message):
    job = make_job("bad", SCRIPT, items=3, batch=3)
    yml = job.read("job.yml")
    assert old in yml, old
    job.write("job.yml", yml.replace(old, new, 1))
    proc = job.run(np=2)
    check_refused(job, proc, message.replace("{dir}", job.dir))


def test_bad_set_override(make_job):
    job = make_job("badset", SCRIPT, items=3, batch=3)
    proc = job.run(np=2, args=["--set", "retry_settings.timeout=0"])
    check_refused(job, proc, "--set retry_settings.timeout=0: retry_settings.timeout: must be in (0, 259200], got 0")


def test_missing_job_file(make_job):
    job = make_job("nojob", SCRIPT)
    proc = job.run(np=2, job="nojob.yml")
    check_refused(job, proc, "nojob.yml: cannot read the job file: No such file or directory")


def test_bad_command_line(make_job):
    job = make_job("badcli", SCRIPT)
    proc = job.run(np=0, args=["--frobnicate"])
    check_refused(job, proc, None)
    expect("--frobnicate" in proc.stderr and "prs_mpi --help" in proc.stderr, "names the option", proc)


def test_empty_input_folder(make_job):
    job = make_job("empty", SCRIPT, items=0)
    os.makedirs(job.path("data"), exist_ok=True)
    proc = job.run(np=2)
    check_refused(job, proc, f"{job.path('data')}: the input folder holds no file")
