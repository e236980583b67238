"""The Python package knows the keys the YAML loader knows: its tables are config_keys.cpp's, its cloud-only
arguments are keys the loader ignores, and its "did you mean" answers as the built prs_mpi does."""
import os
import re

import pytest
from conftest import SOURCE_DIR, dry_run, error_line, read, settings_of, write

import prs_mpi
from prs_mpi import _job, _keys, _pipeline, _ports, _task, _v1_config
from prs_mpi.azureml.pipeline.steps import ParallelRunConfig

CONFIG_KEYS = os.path.join(SOURCE_DIR, "src", "config", "config_keys.cpp")
ROLES = {"leaf": "leaf", "ignored": "ignored", "Role::transparent": "transparent", "Role::unsupported": "unsupported",
         "Role::section": "section"}


def cpp_table(name):
    """The entries of a Pattern table of config_keys.cpp as tuples (pattern, role, expected, alias, tries, v1,
    fallback), in order."""
    body = re.search(r"const Pattern " + name + r"\[\] = \{(.*?)\n\};", read(CONFIG_KEYS), re.S).group(1)
    string = r'(nullptr|"(?:[^"\\]|\\.)*")'
    entry = (r'\{\s*"([^"]*)",\s*([\w:]+),\s*' + string + r',\s*' + string +
             r',\s*(true|false),\s*(true|false),\s*(true|false)\s*\}')
    rows = []
    for pattern, role, expected, alias, tries, v1, fallback in re.findall(entry, body):
        rows.append((pattern, ROLES[role], None if expected == "nullptr" else expected[1:-1],
                     None if alias == "nullptr" else alias[1:-1], tries == "true", v1 == "true", fallback == "true"))
    assert len(rows) == body.count('{"'), f"an entry of {name} was not read"
    return rows


def cpp_patterns(name):
    return [_keys.Pattern(*row) for row in cpp_table(name)]


def test_the_key_tables_are_config_keys_cpps():
    assert [p.as_tuple() for p in _keys.JOB_PATTERNS] == cpp_table("job_patterns")
    assert [p.as_tuple() for p in _keys.PIPELINE_PATTERNS] == cpp_table("pipeline_patterns")
    knobs = re.search(r"const char\* const knobs\[\] = \{(.*?)\};", read(CONFIG_KEYS), re.S).group(1)
    assert _keys.KNOBS == re.findall(r'"(\w+)"', knobs)


def test_closest_follows_the_loaders_rule():  # the cases of tests/unit/test_config_v1.cpp
    assert _keys.closest("abcdefghi", ["abcdefxyz"]) == "abcdefxyz"  # 3 edits in 9 characters: close
    assert _keys.closest("abcdefghij", ["abcdwxyzij"]) == ""        # 4 edits in 10: not close
    assert _keys.closest("abcdefghi", ["abcwvxyzi", "abcdefxyz"]) == "abcdefxyz"
    assert _keys.closest("ab", ["xy"]) == "xy"
    assert _keys.closest("abc", ["xyz"]) == ""
    assert _keys.closest("ab", ["ax", "xb"]) == "ax"  # a tie: the first
    assert _keys.edit_distance("kitten", "sitting") == 3


def role_in_cpp(key, table="job_patterns"):
    return _keys.classify(key, cpp_patterns(table)).role


def test_cloud_only_arguments_are_keys_the_loader_ignores():
    cloud_only = {name for name, (key, _) in _job.SIMPLE.items() if role_in_cpp(key) == "ignored"}
    assert cloud_only == {"compute", "tags", "display_name", "description", "experiment_name", "identity",
                          "is_deterministic", "properties", "instance_type", "shm_size", "docker_args"}
    for name, (key, _) in _job.SIMPLE.items():
        assert role_in_cpp(key) in ("ignored", "leaf"), name
    for key in ["inputs", "outputs", "retry_settings", "environment_variables", "task"]:
        assert role_in_cpp(key) == "section"
    assert {f for f in _ports.PORT_FIELDS if role_in_cpp(f"inputs.x.{f}") == "ignored"} == {
        "mode", "description", "optional", "datastore"}
    assert {f for f in _ports.PORT_FIELDS if role_in_cpp(f"outputs.x.{f}") == "leaf"} == {"type", "path"}
    assert {f: role_in_cpp(f"task.{f}") for f in _task.RunFunction._kinds} == {
        "code": "leaf", "entry_script": "leaf", "program_arguments": "leaf", "append_row_to": "leaf",
        "environment": "ignored"}
    assert [role_in_cpp(f"retry_settings.{f}") for f in _task.RetrySettings._kinds] == ["leaf", "leaf"]
    saved = {_v1_config.SAVED_AS.get(n, n): role_in_cpp(_v1_config.SAVED_AS.get(n, n)) for n in _v1_config.ARGUMENTS}
    assert {k for k, role in saved.items() if role == "ignored"} == {"environment", "compute_target_name",
                                                                      "description"}
    assert {k for k, role in saved.items() if role not in ("ignored", "leaf")} == {"environment_variables"}
    pipeline_keys = {key.split(".")[0] for key, _ in _pipeline.ARGUMENTS.values()}
    assert {role_in_cpp(k, "pipeline_patterns") for k in pipeline_keys} == {"ignored"}


def test_every_cloud_only_argument_is_written_and_listed_by_prs_mpi(in_tmp):
    write("data/a.txt", "a\n")
    write("src/score.py", "def run(mini_batch):\n    return mini_batch\n")
    job = prs_mpi.parallel_run_function(
        name="cloud", compute="cpu-cluster", tags={"a": "b"}, display_name="Cloud", description="d",
        experiment_name="e", identity={"type": "managed"}, is_deterministic=False, properties={"p": 1},
        instance_type="Standard_D2", shm_size="2g", docker_args="--privileged",
        inputs={"data": prs_mpi.Input(path="./data", mode="ro_mount", description="x", optional=False,
                                      datastore="workspaceblobstore")},
        outputs={"out": prs_mpi.Output(mode="rw_mount", description="y", datastore="workspaceblobstore")},
        input_data="${{inputs.data}}",
        task=prs_mpi.RunFunction(code="./src", entry_script="score.py", environment="azureml:env:1"))
    job.dump("job.yml")
    done = dry_run("job.yml")
    assert done.returncode == 0, done.stderr
    assert settings_of(done.stdout)["ignored"] == sorted([
        "compute", "description", "display_name", "experiment_name", "identity", "inputs.data.datastore",
        "inputs.data.description", "inputs.data.mode", "inputs.data.optional", "is_deterministic",
        "outputs.out.datastore", "outputs.out.description", "outputs.out.mode", "properties",
        "resources.docker_args", "resources.instance_type", "resources.shm_size", "tags", "task.environment"])


prf = prs_mpi.parallel_run_function
# (the misspelt name, Python given it, the same typo at the same level of a YAML job): both suggest the same.
TYPOS = [
    ("mini_batch_sise", lambda: prf(mini_batch_sise="3"), "mini_batch_sise: 3\n"),
    ("max_concurency_per_instance", lambda: prf(max_concurency_per_instance=3), "max_concurency_per_instance: 3\n"),
    ("mini_batch_error_treshold", lambda: prf(mini_batch_error_treshold=1), "mini_batch_error_treshold: 1\n"),
    ("logging_levl", lambda: prf(logging_levl="DEBUG"), "logging_levl: DEBUG\n"),
    ("environment_variable", lambda: prf(environment_variable={}), "environment_variable: {}\n"),
    ("colour", lambda: prf(colour="blue"), "colour: blue\n"),
    ("max_retry", lambda: prf(retry_settings={"max_retry": 2}), "retry_settings: {max_retry: 2}\n"),
    ("timeot", lambda: prf(retry_settings={"timeot": 2}), "retry_settings: {timeot: 2}\n"),
    ("entry_scrpt", lambda: prs_mpi.RunFunction(entry_scrpt="x.py"), "  entry_scrpt: x.py\n"),
    ("append_row", lambda: prs_mpi.RunFunction(append_row="out.txt"), "  append_row: out.txt\n"),
    ("frobnicate", lambda: prs_mpi.RunFunction(frobnicate=1), "  frobnicate: 1\n"),
    ("paht", lambda: prs_mpi.Output(paht="x"), "outputs: {o: {paht: x}}\n"),
    ("tpye", lambda: prs_mpi.Input(tpye="uri_folder"), "outputs: {o: {tpye: uri_folder}}\n"),  # inputs' keys too
    ("run_max_tries", lambda: ParallelRunConfig(run_max_tries=3), "run_max_tries: 3\n"),
    ("proces_count_per_node", lambda: ParallelRunConfig(proces_count_per_node=2), "proces_count_per_node: 2\n"),
    ("allowed_failed_cont", lambda: ParallelRunConfig(allowed_failed_cont=2), "allowed_failed_cont: 2\n"),
]

MINIMAL_JOB = ("type: parallel\ninputs:\n  input_data: {type: uri_folder, path: ./data}\n"
               "input_data: ${{inputs.input_data}}\ntask:\n  entry_script: score.py\n")


def suggestion(message):
    found = re.search(r"unknown \w+; did you mean (\S+)\?$", message)
    if found:
        return found.group(1)
    assert message.endswith("; remove it or check its spelling"), message
    return None


@pytest.mark.parametrize("typo, call, yaml_line", TYPOS, ids=[typo for typo, _, _ in TYPOS])
def test_did_you_mean_answers_as_prs_mpi_does(in_tmp, typo, call, yaml_line):
    write("data/a.txt", "a\n")
    write("score.py", "def run(b):\n    return b\n")
    write("job.yml", MINIMAL_JOB + yaml_line)
    done = dry_run("job.yml")
    assert done.returncode == 2
    with pytest.raises(prs_mpi.ArgumentError) as raised:
        call()
    assert suggestion(str(raised.value)) == suggestion(error_line(done.stderr))
    assert raised.value.argument.rsplit(".", 1)[-1] == typo
    assert error_line(done.stderr).split(": ")[1].rsplit(".", 1)[-1] == typo


def test_load_reports_an_unknown_key_as_the_loader_does(in_tmp):
    write("data/a.txt", "a\n")
    write("score.py", "def run(b):\n    return b\n")
    for line, expected in [("mini_batch_sise: 3\n", "mini_batch_sise: unknown key; did you mean mini_batch_size?"),
                           ("resources: {instance_cont: 2}\n",
                            "resources.instance_cont: unknown key; did you mean instance_count?"),
                           ("colour: blue\n", "colour: unknown key; remove it or check its spelling")]:
        write("job.yml", MINIMAL_JOB + line)
        with pytest.raises(prs_mpi.ArgumentError) as raised:
            prs_mpi.load("job.yml")
        assert str(raised.value) == f"job.yml: {expected}"
        assert error_line(dry_run("job.yml").stderr) == f"job.yml:7: {expected}"
    write("job.yml", MINIMAL_JOB + "resources: {gpu_bandwidth: high}\n")  # any other resource key: cloud-only
    assert prs_mpi.load("job.yml").to_dict()["resources"] == {"gpu_bandwidth": "high"}


def test_v1_keys_at_the_top_level_load_and_write_back(in_tmp):
    write("data/a.txt", "a\n")
    write("score.py", "def run(b):\n    return b\n")
    write("job.yml", MINIMAL_JOB + "run_max_try: 4\nnode_count: 2\ncompute_target: c\n")
    job = prs_mpi.load("job.yml")
    job.dump("again.yml")
    assert settings_of(dry_run("again.yml").stdout) == settings_of(dry_run("job.yml").stdout)
    assert settings_of(dry_run("again.yml").stdout)["settings"]["retry_settings.max_retries"] == "3"
    assert prs_mpi.load("again.yml") == job
