"""Arguments and job files without running a job: wrong arguments raise naming them, the YAML written reads back
as the same job (load of dump), relative paths stay right wherever the file goes, and what needs the cloud says so."""
import os

import pytest
from conftest import dry_run, read, settings_of, write

import prs_mpi
from prs_mpi.azure.ai.ml import MLClient, load_component
from prs_mpi.azure.ai.ml.constants import AssetTypes, InputOutputModes
from prs_mpi.azure.ai.ml.dsl import pipeline
from prs_mpi.azure.ai.ml.entities import Environment
from prs_mpi.azureml.core import Dataset, Workspace
from prs_mpi.azureml.pipeline.core import Pipeline, PipelineData, PipelineParameter
from prs_mpi.azureml.pipeline.steps import ParallelRunConfig, ParallelRunStep
from prs_mpi import Input, Output, RunFunction, parallel_run_function


def component():
    """A component with every v2 argument given."""
    return parallel_run_function(
        name="score", display_name="Score", description="scores", tags={"team": "a"}, compute="cpu-cluster",
        experiment_name="exp", properties={"p": "1"}, identity={"type": "managed"}, is_deterministic=True,
        instance_type="Standard_D2", shm_size="2g", docker_args="--ipc=host",
        inputs=dict(data=Input(type=AssetTypes.URI_FOLDER, description="the data"),
                    model=Input(type=AssetTypes.URI_FOLDER, path="./model", mode=InputOutputModes.DOWNLOAD)),
        outputs=dict(scores=Output(type=AssetTypes.URI_FOLDER, mode=InputOutputModes.RW_MOUNT)),
        input_data="${{inputs.data}}", instance_count=2, max_concurrency_per_instance=3, mini_batch_size="4",
        mini_batch_error_threshold=2, error_threshold=5, retry_settings=dict(max_retries=1, timeout=30),
        logging_level="WARNING", environment_variables={"OMP_NUM_THREADS": "1", "SCALE": 2}, ordered=True,
        task=RunFunction(code="./src", entry_script="score.py", program_arguments="--model ${{inputs.model}}",
                         append_row_to="${{outputs.scores}}",
                         environment=Environment(image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04")))


def files():
    write("data/a.txt", "1\n")
    write("model/m.txt", "m\n")
    write("src/score.py", "def run(mini_batch):\n    return mini_batch\n")


@pytest.mark.parametrize("call, message", [
    (lambda: parallel_run_function("x"), "parallel_run_function: argument 1: takes keyword arguments only"),
    (lambda: parallel_run_function(instance_count="two"),
     "parallel_run_function: instance_count: must be a whole number (int), got 'two' (str)"),
    (lambda: parallel_run_function(instance_count=True),
     "parallel_run_function: instance_count: must be a whole number (int), got True (bool)"),
    (lambda: parallel_run_function(mini_batch_size=1.5),
     "parallel_run_function: mini_batch_size: must be a count (str or int), got 1.5 (float)"),
    (lambda: parallel_run_function(inputs=[Input()]),
     "parallel_run_function: inputs: must be a dict, got [Input(type='uri_folder')] (list)"),
    (lambda: parallel_run_function(inputs={"d": "./data"}),
     "parallel_run_function: inputs.d: must be an Input(...), a pipeline input or a step's output, got './data' (str)"),
    (lambda: parallel_run_function(outputs={"o": Input()}),
     "parallel_run_function: outputs.o: must be an Output(...), got Input(type='uri_folder') (Input)"),
    (lambda: parallel_run_function(task="score.py"),
     "parallel_run_function: task: must be a RunFunction(...), got 'score.py' (str)"),
    (lambda: parallel_run_function(retry_settings={"timeout": "60"}),
     "parallel_run_function: retry_settings.timeout: must be a whole number (int), got '60' (str)"),
    (lambda: parallel_run_function(environment_variables={"A": [1]}),
     "parallel_run_function: environment_variables.A: must be a string or a number, got [1] (list)"),
    (lambda: parallel_run_function(partition_keys="store"),
     "parallel_run_function: partition_keys: must be a list of strings, got 'store' (str)"),
    (lambda: parallel_run_function(task=RunFunction(append_row_to="a.txt"), append_row_to="b.txt"),
     "parallel_run_function: append_row_to: 'b.txt', but task gives 'a.txt'; keep one of them"),
    (lambda: RunFunction(code=["./src"]), "RunFunction: code: must be a string, got ['./src'] (list)"),
    (lambda: Input(optional="no"), "Input: optional: must be True or False, got 'no' (str)"),
    (lambda: Output(path=3), "Output: path: must be a string, got 3 (int)"),
    (lambda: ParallelRunConfig(node_count="2"),
     "ParallelRunConfig: node_count: must be a whole number (int), got '2' (str)"),
    (lambda: ParallelRunConfig(run_max_try=PipelineParameter(name="tries", default_value="3")),
     "ParallelRunConfig: run_max_try: must be a whole number (int), got '3' (str)"),
    (lambda: ParallelRunConfig(None, "s.py", 1, "append_row", None, 1, 2, "5", ".", "d", "INFO", 60, 3, None, None,
                               None, None, None, "extra"),
     "ParallelRunConfig: argument 19: takes at most 18 positional arguments, got 19"),
    (lambda: ParallelRunConfig("env", environment="env"),
     "ParallelRunConfig: environment: given twice, by position and by name"),
    (lambda: ParallelRunStep(name="s", parallel_run_config="config", inputs=[]),
     "ParallelRunStep: parallel_run_config: must be a ParallelRunConfig(...), got 'config' (str)"),
    (lambda: ParallelRunStep(name="s", parallel_run_config=ParallelRunConfig(), inputs=[
        Dataset.File.from_files("a"), Dataset.File.from_files("b")]),
     "ParallelRunStep: inputs: prs_mpi splits one dataset into mini-batches, got 2; pass the others as side_inputs"),
    (lambda: ParallelRunStep(name="s", parallel_run_config=ParallelRunConfig(), inputs=["./data"]),
     "ParallelRunStep: inputs[0]: must be a file dataset (Dataset.File.from_files(...)), got './data' (str)"),
    (lambda: ParallelRunStep(name="s", parallel_run_config=ParallelRunConfig(), inputs=[Dataset.File.from_files("a")],
                             allow_reuse="yes"),
     "ParallelRunStep: allow_reuse: must be True or False, got 'yes' (str)"),
    (lambda: pipeline(computee="c"), "pipeline: computee: unknown argument; did you mean compute?"),
    (lambda: Dataset.Tabular.from_delimited_files("x.csv"),
     "Dataset.Tabular: from_delimited_files: tabular input is not supported yet; use Dataset.File"),
])
def test_a_wrong_argument_raises_naming_it(call, message):
    with pytest.raises(prs_mpi.ArgumentError) as raised:
        call()
    assert str(raised.value) == message
    assert isinstance(raised.value, TypeError)


def test_attributes_are_checked_as_the_arguments_are():
    job = component()
    with pytest.raises(prs_mpi.ArgumentError, match=r"^parallel_run_function: instance_cont: unknown attribute; "
                                                    r"did you mean instance_count\?$"):
        job.instance_cont = 3
    with pytest.raises(AttributeError, match=r"^parallel_run_function: inputs.dat: unknown input; did you mean "
                                             r"data\?$"):
        job.inputs.dat
    with pytest.raises(prs_mpi.ArgumentError, match=r"^Output: typ: unknown argument; did you mean type\?$"):
        job.outputs.scores.typ = AssetTypes.URI_FILE
    with pytest.raises(prs_mpi.ArgumentError, match=r"^score: dta: unknown input; did you mean data\?$"):
        job(dta=Input(path="./data"))
    with pytest.raises(prs_mpi.ArgumentError, match=r"^score: argument 1: takes its inputs by name"):
        job(Input(path="./data"))
    job.instance_count = 4
    job.outputs.scores.type = AssetTypes.URI_FILE
    assert job.to_dict()["resources"] == {"instance_count": 4, "instance_type": "Standard_D2", "shm_size": "2g",
                                          "docker_args": "--ipc=host"}
    assert job.to_dict()["outputs"] == {"scores": {"type": "uri_file", "mode": "rw_mount"}}
    assert getattr(job.inputs.data, "name", "none") == "none"  # an unknown attribute is an AttributeError too


def test_a_component_called_with_inputs_is_a_new_job():
    made = component()
    job = made(data=Input(path="./data", mode=InputOutputModes.RO_MOUNT))
    assert made.to_dict()["inputs"]["data"] == {"type": "uri_folder", "description": "the data"}
    assert job.to_dict(os.getcwd())["inputs"]["data"] == {"type": "uri_folder", "path": "./data", "mode": "ro_mount"}
    job.outputs.scores.path = "./out"
    assert "path" not in made.to_dict()["outputs"]["scores"]


def test_load_of_dump_gives_the_same_job(in_tmp):
    files()
    job = component()(data=Input(path="./data"))
    job.dump("job.yml")
    loaded = prs_mpi.load("job.yml")
    assert loaded == job
    assert isinstance(loaded, prs_mpi.ParallelJob)
    loaded.dump("again.yml")
    assert read("again.yml") == read("job.yml")
    assert dry_run("job.yml").returncode == 0


def test_load_of_dump_of_a_pipeline_and_of_a_v1_step(in_tmp):
    files()
    score = component()

    @pipeline(name="p", description="two steps", default_compute="cpu-cluster")
    def two_steps(items: Input, model: Input):
        first = score(data=items, model=model)
        first.inputs.data.mode = InputOutputModes.DIRECT
        second = score(data=items, model=model)
        second.instance_count = 1
        return {"first_scores": first.outputs.scores}

    job = two_steps(items=Input(path="./data"), model=Input(path="./model"))
    assert list(job.jobs) == ["first", "second"]
    job.settings.default_compute = "gpu-cluster"
    job.dump("pipeline.yml")
    loaded = prs_mpi.load("pipeline.yml")
    assert loaded == job
    tree = loaded.to_dict(os.getcwd())
    assert tree["settings"] == {"default_compute": "gpu-cluster"}
    assert tree["jobs"]["first"]["inputs"]["data"] == {"type": "uri_folder", "path": "./data", "mode": "direct"}
    assert tree["jobs"]["second"]["inputs"]["data"] == "${{parent.inputs.items}}"
    assert tree["jobs"]["first"]["outputs"] == {"scores": "${{parent.outputs.first_scores}}"}
    assert tree["jobs"]["second"]["outputs"] == {"scores": {"type": "uri_folder", "mode": "rw_mount"}}
    assert [tree["jobs"][s]["resources"]["instance_count"] for s in ("first", "second")] == [2, 1]
    assert settings_of(dry_run("pipeline.yml", "--job", "second").stdout)["pipeline job"] == "second"

    step = ParallelRunStep(
        name="v1", parallel_run_config=ParallelRunConfig(source_directory="./src", entry_script="score.py",
                                                          mini_batch_size=PipelineParameter("size", "2")),
        inputs=[Dataset.File.from_files("./data").as_named_input("items").as_mount()],
        side_inputs=[Dataset.File.from_files("./model").as_named_input("model").as_download()],
        output=PipelineData("scores", output_mode="mount"), arguments=["--model", "--x y", 3], allow_reuse=False)
    step.dump("v1.yml")
    assert prs_mpi.load("v1.yml") == step
    assert isinstance(prs_mpi.load("v1.yml"), ParallelRunStep)
    assert prs_mpi.load("v1.yml").to_dict()["task"]["program_arguments"] == "--model '--x y' 3"
    Pipeline(workspace=None, steps=[step], description="v1").dump("v1_pipeline.yml")
    loaded = prs_mpi.load("v1_pipeline.yml")
    assert isinstance(loaded.jobs["v1"], ParallelRunStep) and loaded.jobs["v1"] == step
    assert settings_of(dry_run("v1_pipeline.yml").stdout)["pipeline job"] == "v1"


def test_relative_paths_stay_right_wherever_the_file_goes(in_tmp):
    files()
    job = component()(data=Input(path="./data"))
    job.dump("elsewhere/deeper/job.yml")
    tree = prs_mpi.load("elsewhere/deeper/job.yml").to_dict(os.path.abspath("elsewhere/deeper"))
    assert tree["inputs"]["data"]["path"] == os.path.abspath("data")
    assert tree["task"]["code"] == os.path.abspath("src")
    job.dump("job.yml")
    there, here = settings_of(dry_run("elsewhere/deeper/job.yml").stdout), settings_of(dry_run("job.yml").stdout)
    assert there["settings"]["input_data"] == os.path.abspath("data")
    assert there["settings"]["task.entry_script"] == os.path.abspath("src/score.py")
    # An output without a path goes beside the job file (outputs/NAME), as in any job file; the rest is the same.
    assert there["settings"].pop("outputs.scores.path") == os.path.abspath("elsewhere/deeper/outputs/scores")
    assert here["settings"].pop("outputs.scores.path") == os.path.abspath("outputs/scores")
    for settings in (there, here):
        del settings["settings"]["task.append_row_to"]
    assert there["settings"] == here["settings"]
    assert prs_mpi.load("elsewhere/deeper/job.yml") == job  # the same job: the same absolute paths


def test_what_needs_a_workspace_says_what_to_use_instead():
    for call in (lambda: MLClient(credential=None), lambda: MLClient.from_config(credential=None),
                 lambda: Workspace.from_config()):
        with pytest.raises(prs_mpi.CloudOnlyError, match=r"connects to an Azure ML workspace; prs_mpi runs jobs on "
                                                         r"this machine or cluster: prs_mpi.run\(.*, np=N\)"):
            call()
    with pytest.raises(prs_mpi.CloudOnlyError, match=r"^Dataset.get_by_name\('mnist'\): a registered dataset"):
        Dataset.get_by_name(None, "mnist")


def test_load_component_reads_a_parallel_component_and_refuses_others(in_tmp):
    files()
    write("component.yml", """\
        $schema: https://azuremlschemas.azureedge.net/latest/parallelComponent.schema.json
        type: parallel
        name: score
        inputs:
          data: {type: uri_folder}
        input_data: ${{inputs.data}}
        mini_batch_size: "2"
        task: {type: run_function, code: ./src, entry_script: score.py}
    """)
    score = load_component(source="component.yml")
    job = score(data=Input(path="./data"))
    job.dump("job.yml")
    assert settings_of(dry_run("job.yml").stdout)["settings"]["mini_batch_size"] == "2"
    write("prepare.yml", "type: command\nname: prepare\ncommand: python prepare.py\n")
    with pytest.raises(prs_mpi.ArgumentError) as raised:
        load_component(source="prepare.yml")
    assert str(raised.value) == "prepare.yml: type: prs_mpi runs parallel components (type: parallel), got 'command'"


def test_run_never_replaces_a_job_file_it_did_not_write(in_tmp):
    files()
    job = component()(data=Input(path="./data"))
    write("score.prs_mpi.yml", "type: parallel\n# mine\n")
    with pytest.raises(FileExistsError, match=r"score.prs_mpi.yml exists and was not written by prs_mpi's Python "
                                              r"package; pass job_file="):
        prs_mpi.dry_run(job)
    assert read("score.prs_mpi.yml") == "type: parallel\n# mine\n"
    os.remove("score.prs_mpi.yml")
    assert "plan: 1 files in 1 mini-batches" in prs_mpi.dry_run(job)
    assert "plan: 1 files in 1 mini-batches" in prs_mpi.dry_run(job)  # its own file: replaced
