"""SDK v1: a ParallelRunConfig with every documented argument, in a ParallelRunStep, resolves (prs_mpi --dry-run)
to the same settings as the v1 YAML form of the job; save_to_yaml and load_yaml; partition_keys refused alike."""
import os
import pytest
from conftest import dry_run, error_line, read, same_settings, write

import prs_mpi
from prs_mpi.azureml.core import Dataset, Environment
from prs_mpi.azureml.pipeline.core import PipelineData, PipelineParameter
from prs_mpi.azureml.pipeline.steps import ParallelRunConfig, ParallelRunStep

# The same job in YAML, with the v1 names at the top level (as tests/e2e/test_job_files.py writes a v1 job).
V1_YAML = """\
type: parallel
name: every-argument
is_deterministic: false
inputs:
  items: {type: uri_folder, path: ./data, mode: ro_mount}
  model: {type: uri_folder, path: ./model, mode: download}
outputs:
  scores: {type: uri_folder}
input_data: ${{inputs.items}}
environment: {name: batch-env}
entry_script: score.py
error_threshold: 5
output_action: append_row
compute_target: cpu-cluster
node_count: 3
process_count_per_node: 2
mini_batch_size: "4"
source_directory: ./src
description: every documented argument
logging_level: WARNING
run_invocation_timeout: 30
run_max_try: 4
append_row_file_name: scores.txt
allowed_failed_count: 2
allowed_failed_percent: 25
environment_variables: {SCORE_PREFIX: v1, THREADS: "1"}
task:
  program_arguments: --model ${{inputs.model}} --threads 2
  append_row_to: ${{outputs.scores}}
"""


def files():
    for i in range(9):
        write(f"data/item_{i}.txt", f"{i}\n")
    write("model/m.txt", "m\n")
    write("src/score.py", "import os\ndef run(mini_batch):\n    return [os.environ['SCORE_PREFIX'] + p[-5] "
                          "for p in mini_batch]\n")


def every_argument(**changes):
    """The v1 step with every documented ParallelRunConfig argument (partition_keys aside: not supported yet)."""
    model = Dataset.File.from_files(path="./model").as_named_input("model").as_download()
    arguments = dict(
        environment=Environment(name="batch-env"), entry_script="score.py", error_threshold=5,
        output_action="append_row", compute_target="cpu-cluster", node_count=3,
        process_count_per_node=PipelineParameter(name="process_count_param", default_value=2),
        mini_batch_size=PipelineParameter(name="batch_size_param", default_value="4"), source_directory="./src",
        description="every documented argument", logging_level="WARNING", run_invocation_timeout=30, run_max_try=4,
        append_row_file_name="scores.txt", allowed_failed_count=2, allowed_failed_percent=25,
        environment_variables={"SCORE_PREFIX": "v1", "THREADS": "1"})
    arguments.update(changes)
    config = ParallelRunConfig(**arguments)
    return ParallelRunStep(name="every-argument", parallel_run_config=config,
                           inputs=[Dataset.File.from_files(path="./data").as_named_input("items").as_mount()],
                           output=PipelineData(name="scores"), side_inputs=[model],
                           arguments=["--model", model, "--threads", 2], allow_reuse=False)


def test_every_documented_argument_resolves_as_the_v1_yaml_form(in_tmp):
    files()
    every_argument().dump("python.yml")
    write("job.yml", V1_YAML)
    settings = same_settings("python.yml", "job.yml", prefix_of_ignored="parallel_run_config.",
                             aliases={"compute_target_name": "compute_target"})
    values = settings["settings"]
    assert {key: values[key] for key in [
        "mini_batch_size", "resources.instance_count", "max_concurrency_per_instance", "mini_batch_error_threshold",
        "retry_settings.max_retries", "retry_settings.timeout", "logging_level", "error_threshold",
        "allowed_failed_percent", "append_row_file_name", "output_action", "environment_variables.SCORE_PREFIX"]} == {
        "mini_batch_size": "4", "resources.instance_count": "3", "max_concurrency_per_instance": "2",
        "mini_batch_error_threshold": "2", "retry_settings.max_retries": "3", "retry_settings.timeout": "30",
        "logging_level": "WARNING", "error_threshold": "5", "allowed_failed_percent": "25",
        "append_row_file_name": "scores.txt", "output_action": "append_row", "environment_variables.SCORE_PREFIX": "v1"}
    assert values["task.program_arguments"] == str(["--model", f"{in_tmp}/model", "--threads", "2"])
    assert values["task.append_row_to"] == f"{in_tmp}/outputs/scores/scores.txt"
    assert settings["ignored"] == ["compute_target", "description", "environment", "inputs.items.mode",
                                   "inputs.model.mode", "is_deterministic"]


def test_the_arguments_by_position_as_the_sdk_orders_them(in_tmp):
    files()
    by_name = every_argument()
    config = by_name.parallel_run_config
    by_position = ParallelRunConfig(*[config._values.get(name) for name in prs_mpi._v1_config.ARGUMENTS])
    assert by_position == config


def test_save_to_yaml_and_load_yaml(in_tmp):
    files()
    step = every_argument()
    step.parallel_run_config.save_to_yaml("saved/parallel_run_config.yml")
    loaded = ParallelRunConfig.load_yaml(None, "saved/parallel_run_config.yml")
    assert loaded == step.parallel_run_config
    assert loaded.node_count == 3 and loaded.mini_batch_size == "4"
    step.dump("python.yml")  # the job file holds the same map
    assert loaded._to_dict() == prs_mpi.load("python.yml").parallel_run_config._to_dict()
    assert f"  source_directory: {in_tmp}/src\n" in read("saved/parallel_run_config.yml")  # right from saved/ too
    # A file as the SDK writes it: empty values for what was not given.
    write("sdk.yml", """\
        parallel_run_config:
          mini_batch_size: '5'
          error_threshold: 10
          output_action: append_row
          logging_level: INFO
          compute_target_name: cpu-cluster
          node_count: 2
          process_count_per_node:
          entry_script: score.py
          source_directory: src
          description:
          run_invocation_timeout: 60
          run_max_try: 3
          append_row_file_name:
    """)
    sdk = ParallelRunConfig.load_yaml(None, "sdk.yml")
    assert sdk._to_dict() == {"entry_script": "score.py", "error_threshold": 10, "output_action": "append_row",
                              "compute_target_name": "cpu-cluster", "node_count": 2, "mini_batch_size": "5",
                              "source_directory": f"{in_tmp}/src", "logging_level": "INFO",
                              "run_invocation_timeout": 60,
                              "run_max_try": 3}
    write("typo.yml", "parallel_run_config:\n  run_max_tries: 3\n")
    with pytest.raises(prs_mpi.ArgumentError) as raised:
        ParallelRunConfig.load_yaml(None, "typo.yml")
    assert str(raised.value) == "typo.yml: parallel_run_config.run_max_tries: unknown key; did you mean run_max_try?"
    write("job.yml", "type: parallel\ninput_data: ./data\nparallel_run_config:\n  run_max_tries: 3\n")
    assert error_line(dry_run("job.yml").stderr) == ("job.yml:4: parallel_run_config.run_max_tries: unknown key; "
                                                     "did you mean run_max_try?")


def test_partition_keys_plans_as_the_yaml_form_does(in_tmp):
    files()
    for i in range(9):
        os.remove(f"data/item_{i}.txt")  # every file of a partitioned input lies below store=VALUE
    for i in range(4):
        write(f"data/store={i % 2}/more_{i}.txt", f"{i}\n")
    every_argument(partition_keys=["store"], mini_batch_size=None).dump("python.yml")
    write("job.yml", V1_YAML.replace('mini_batch_size: "4"\n', "partition_keys: [store]\n"))
    python_run, yaml_run = dry_run("python.yml"), dry_run("job.yml")
    assert python_run.returncode == yaml_run.returncode == 0, python_run.stderr + yaml_run.stderr
    plan = [line for line in yaml_run.stdout.splitlines() if "mini-batch" in line]
    assert plan == [line for line in python_run.stdout.splitlines() if "mini-batch" in line]
    assert plan[1:] == [f"  mini-batch {i}: store={i}: 2 files, {os.getcwd()}/data/store={i}/more_{i}.txt .. "
                        f"{os.getcwd()}/data/store={i}/more_{i + 2}.txt" for i in range(2)]
