"""Job files brought from the cloud service, run under mpiexec: the seed's pipeline YAML as documented, a v1-style
job (ParallelRunConfig names), a glob input, a path-list input, and a pipeline with two parallel jobs (--job)."""
import os

import pytest

from prs_e2e import expect, expect_equal

# The pipeline YAML of the seed's v2 how-to (seeds/003, lines 58-121), line for line (two lines end with a space).
SEED_PIPELINE_LINES = [
    "$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json",
    "type: pipeline",
    "",
    "display_name: iris-batch-prediction-using-parallel",
    "description: The hello world pipeline job with inline parallel job",
    "tags:",
    "  tag: tagvalue",
    "  owner: sdkteam",
    "",
    "settings:",
    "  default_compute: azureml:cpu-cluster",
    "",
    "jobs:",
    "  batch_prediction:",
    "    type: parallel",
    "    compute: azureml:cpu-cluster",
    "    inputs:",
    "      input_data: ",
    "        type: mltable",
    "        path: ./neural-iris-mltable",
    "        mode: direct",
    "      score_model: ",
    "        type: uri_folder",
    "        path: ./iris-model",
    "        mode: download",
    "    outputs:",
    "      job_output_file:",
    "        type: uri_file",
    "        mode: rw_mount",
    "",
    "    input_data: ${{inputs.input_data}}",
    '    mini_batch_size: "10kb"',
    "    resources:",
    "        instance_count: 2",
    "    max_concurrency_per_instance: 2",
    "",
    '    logging_level: "DEBUG"',
    "    mini_batch_error_threshold: 5",
    "    retry_settings:",
    "      max_retries: 2",
    "      timeout: 60",
    "",
    "    task:",
    "      type: run_function",
    '      code: "./script"',
    "      entry_script: iris_prediction.py",
    "      environment:",
    '        name: "prs-env"',
    "        version: 1",
    "        image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04",
    "        conda_file: ./environment/environment_parallel.yml",
    "      program_arguments: >-",
    "        --model ${{inputs.score_model}}",
    "        --error_threshold 5",
    "        --allowed_failed_percent 30",
    "        --task_overhead_timeout 1200",
    "        --progress_update_timeout 600",
    "        --first_task_creation_timeout 600",
    "        --copy_logs_to_parent True",
    "        --resource_monitor_interva 20",
    "      append_row_to: ${{outputs.job_output_file}}",
    "",
]

# Tabular input (type: mltable, mode: direct) is a later issue: here input_data is a uri_folder of small files, the
# only change to the seed's text. Its mini_batch_size "10kb" is a size for tabular input, so the runs below give a
# file count with --set (which overrides the job file) instead of editing that line.
SEED_PIPELINE = "\n".join(SEED_PIPELINE_LINES).replace(
    "        type: mltable\n        path: ./neural-iris-mltable\n        mode: direct\n",
    "        type: uri_folder\n        path: ./neural-iris-mltable\n        mode: ro_mount\n")

SEED_IGNORED = ("ignored (cloud-only): $schema (job.yml:1), display_name (job.yml:4), description (job.yml:5), "
                "tags (job.yml:6), settings (job.yml:10), compute (job.yml:16), inputs.input_data.mode (job.yml:21), "
                "inputs.score_model.mode (job.yml:25), outputs.job_output_file.mode (job.yml:29), "
                "task.environment (job.yml:47)")

# The seed's entry script, as a user of the service writes it: argparse with parse_known_args for --model.
IRIS_PREDICTION = """\
import argparse
import os

factor = None


def init():
    global factor
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=str, required=True)
    args, _ = parser.parse_known_args()
    with open(os.path.join(args.model, "model.txt")) as f:
        factor = int(f.read())


def run(mini_batch):
    rows = []
    for path in mini_batch:
        with open(path) as f:
            rows.append(f"{os.path.basename(path)} {int(f.read()) * factor}")
    return rows
"""

# One row per file: "NAME CONTENT".
NAME_AND_CONTENT = """
    import os
    def run(mini_batch):
        return [os.path.basename(p) + " " + open(p).read().strip() for p in mini_batch]
"""


@pytest.fixture
def seed_job(make_job):
    """The seed's pipeline job folder: its job file, data, model and entry script."""
    job = make_job("seed", NAME_AND_CONTENT, items=0)
    for i in range(11):
        job.write(f"neural-iris-mltable/iris_{i:02d}.csv", f"{i}\n")
    job.write("iris-model/model.txt", "3\n")
    job.write("script/iris_prediction.py", IRIS_PREDICTION)
    job.write("job.yml", SEED_PIPELINE)
    return job


def test_the_seed_pipeline_runs_as_documented(seed_job):
    job = seed_job
    proc = job.run(np=3, args=["--set", "mini_batch_size=2"])
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows("outputs/job_output_file")), [f"iris_{i:02d}.csv {i * 3}" for i in range(11)],
                 "rows: one per file, the model's factor applied", proc)
    expect_equal(job.summary("outputs/logs")["mini_batches"], {"total": 6, "succeeded": 6, "failed": 0, "unconfirmed": 0},
                 "mini-batches")
    expect_equal(proc.stdout.count("prs_mpi: " + SEED_IGNORED + "\n"), 1, "ignored keys listed once", proc)
    expect(SEED_IGNORED in job.read("outputs/logs/sys/master_role.txt"), "and in the logs")


def test_the_seed_pipeline_dry_run_lists_the_ignored_keys(seed_job):
    job = seed_job
    proc = job.run(np=0, args=["--dry-run", "--set", "mini_batch_size=2"])
    expect_equal(proc.returncode, 0, "exit code", proc)
    lines = proc.stdout.splitlines()
    expect_equal([line for line in lines if line.startswith("ignored")], [SEED_IGNORED], "one ignored line", proc)
    expect("pipeline job: batch_prediction" in lines, "the job run", proc)
    expect(any(line.split() == ["resource_monitor_interval", "=", "20", "(program_arguments", "(job.yml:52))"]
               for line in lines), "--resource_monitor_interva read as a prefix", proc)
    expect("plan: 11 files in 6 mini-batches of up to 2 files" in proc.stdout, "plan", proc)
    expect(not job.exists("outputs"), "a dry run writes nothing")


V1_JOB = """\
type: parallel
inputs:
  input_data: {type: uri_folder, path: ./data}
input_data: ${{inputs.input_data}}
mini_batch_size: "2"
node_count: 1
process_count_per_node: 2
run_invocation_timeout: 30
run_max_try: 2
allowed_failed_count: 0
error_threshold: -1
output_action: append_row
append_row_file_name: scores.txt
source_directory: ./src
entry_script: score.py
environment_variables: {SCORE_PREFIX: v1}
description: a ParallelRunConfig made into a job file
compute_target: cpu-cluster
task:
  append_row_to: ./out/
"""

# Fails the first attempt of every mini-batch holding item_003.txt (a marker file remembers it), then succeeds.
FAILS_ONCE_ON_3 = """
    import os
    def run(mini_batch):
        names = [os.path.basename(p) for p in mini_batch]
        marker = os.path.join(os.path.dirname(mini_batch[0]), "..", "failed_once")
        if "item_003.txt" in names and not os.path.exists(marker):
            open(marker, "w").close()
            raise RuntimeError("first try of item_003.txt fails")
        return [os.environ["SCORE_PREFIX"] + " " + n for n in names]
"""


def test_a_v1_job_file_runs_with_v1_semantics(make_job):
    job = make_job("v1", FAILS_ONCE_ON_3, items=7)
    job.write("job.yml", V1_JOB)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code: run_max_try 2 allows one retry", proc)
    expect_equal(sorted(job.rows("out/scores.txt")), [f"v1 item_{i:03d}.txt" for i in range(7)], "rows", proc)
    s = job.summary("out/logs")
    expect_equal(s["attempts"]["retried"], 1, "one retry")
    expect_equal(s["mini_batches"], {"total": 4, "succeeded": 4, "failed": 0, "unconfirmed": 0}, "mini-batches")
    os.remove(job.path("failed_once"))
    proc = job.run(np=3, args=["--overwrite", "--set", "run_max_try=1"])
    expect_equal(proc.returncode, 1, "exit code: one try, allowed_failed_count 0", proc)


def test_a_v1_conflict_is_refused_naming_both_places(make_job):
    job = make_job("v1conflict", FAILS_ONCE_ON_3, items=2)
    job.write("job.yml", V1_JOB + "retry_settings: {max_retries: 3}\n")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect_equal([line for line in proc.stderr.splitlines() if line.startswith("prs_mpi:")],
                 ["prs_mpi: error: job.yml:21: retry_settings.max_retries: gives retry_settings.max_retries = 3, "
                  "but job.yml:9 (run_max_try) gives 1; keep one of them"], "error line", proc)
    expect(not job.exists("out"), "nothing written")


GLOB_JOB = """\
type: parallel
inputs:
  input_data:
    type: uri_folder
    path: ./images/**/*.png
input_data: ${{inputs.input_data}}
mini_batch_size: 2
task:
  code: ./src
  entry_script: score.py
  append_row_to: ./out/rows.txt
"""


def test_a_glob_input(make_job):
    job = make_job("glob", NAME_AND_CONTENT, items=0)
    pngs = ["images/a.png", "images/b.png", "images/2024/c.png", "images/2024/01/d.png", "images/x/y/z/e.png"]
    for path in pngs:
        job.write(path, os.path.basename(path)[0] + "\n")
    for path in ["images/notes.txt", "images/.hidden.png", "images/.cache/f.png", "images/2024/c.png.bak"]:
        job.write(path, "no\n")
    job.write("job.yml", GLOB_JOB)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows("out/rows.txt")), ["a.png a", "b.png b", "c.png c", "d.png d", "e.png e"], "rows",
                 proc)
    expect_equal(job.summary()["items"]["total"], 5, "items")
    job.write("job.yml", GLOB_JOB.replace("*.png", "*.jpg"))
    proc = job.run(np=2, args=["--overwrite"])
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect("prs_mpi: error: job.yml:5: inputs.input_data.path: ./images/**/*.jpg matches no file" in proc.stderr,
           "no match", proc)


PATH_LIST_JOB = """\
type: parallel
inputs:
  input_data: {type: path_list, path: ./lists/paths.txt}
input_data: ${{inputs.input_data}}
mini_batch_size: 2
task:
  code: ./src
  entry_script: score.py
  append_row_to: ./out/rows.txt
"""


def test_a_path_list_input(make_job):
    job = make_job("paths", NAME_AND_CONTENT, items=6)
    job.write("elsewhere/far.txt", "far\n")
    job.write("lists/paths.txt", "\n".join([
        "# the items to score",
        "../data/item_004.txt",
        "../data/item_001.txt",
        "",
        job.path("elsewhere/far.txt"),
        "  ../data/item_001.txt",
        "../data/item_002.txt",
    ]) + "\n")
    job.write("job.yml", PATH_LIST_JOB)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows("out/rows.txt")),
                 ["far.txt far", "item_001.txt 1", "item_002.txt 2", "item_004.txt 4"], "rows: each listed file once",
                 proc)
    job.write("lists/paths.txt", "../data/item_001.txt\n../data/item_009.txt\n")
    proc = job.run(np=2, args=["--overwrite"])
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect(f"prs_mpi: error: ./lists/paths.txt:2: {job.path('data/item_009.txt')} does not exist" in proc.stderr,
           "missing path with its line", proc)


TWO_JOB_PIPELINE = """\
$schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline
inputs:
  items: {type: uri_folder, path: ./data}
jobs:
  upper:
    type: parallel
    inputs:
      input_data: ${{parent.inputs.items}}
    input_data: ${{inputs.input_data}}
    mini_batch_size: 3
    task:
      code: ./src
      entry_script: upper.py
      append_row_to: ./upper/rows.txt
  lower:
    type: parallel
    inputs:
      input_data: ${{parent.inputs.items}}
    input_data: ${{inputs.input_data}}
    mini_batch_size: 2
    task:
      code: ./src
      entry_script: score.py
      append_row_to: ./lower/rows.txt
"""


def test_a_pipeline_with_two_parallel_jobs_runs_the_one_named_by_job(make_job):
    job = make_job("twojobs", "def run(mini_batch):\n    return ['lower ' + p[-7:-4] for p in mini_batch]\n", items=5)
    job.write("src/upper.py", "def run(mini_batch):\n    return ['UPPER ' + p[-7:-4] for p in mini_batch]\n")
    job.write("job.yml", TWO_JOB_PIPELINE)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "exit code without --job", proc)
    expect("prs_mpi: error: job.yml:5: jobs: 2 parallel jobs: upper, lower; choose one with --job NAME" in proc.stderr,
           "names the parallel jobs", proc)
    proc = job.run(np=3, args=["--job", "upper"])
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows("upper/rows.txt")), [f"UPPER {i:03d}" for i in range(5)], "rows of upper", proc)
    expect(not job.exists("lower"), "the other job does not run")
    proc = job.run(np=3, args=["--job", "lower"])
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows("lower/rows.txt")), [f"lower {i:03d}" for i in range(5)], "rows of lower", proc)
    proc = job.run(np=2, args=["--job", "middle"])
    expect_equal(proc.returncode, 2, "exit code with an unknown --job", proc)
    expect("prs_mpi: error: job.yml:5: jobs: --job middle: no job named middle; parallel jobs: upper, lower"
           in proc.stderr, "lists the parallel jobs", proc)
