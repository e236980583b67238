"""SDK v1's ParallelRunStep and what it takes: file datasets, PipelineData / OutputFileDatasetConfig, a Pipeline of
steps; the v1 Environment, and Workspace / Experiment (which need the cloud and say so).

A ParallelRunStep is written as a v2 job file: its dataset is inputs.NAME and input_data, its output outputs.NAME
and task.append_row_to, its arguments task.program_arguments, its ParallelRunConfig the parallel_run_config map.
"""
import os
import re
import shlex

from . import _yamlio
from ._args import ArgumentError, CloudOnlyError, bind, check, shown
from ._v1_config import ParallelRunConfig, from_map, plain

WHERE = "ParallelRunStep"
MODES = {"mount": "ro_mount", "download": "download", "direct": "direct"}  # v1 mode -> the v2 mode written
OUTPUT_MODES = {"mount": "rw_mount", "upload": "upload"}


class FileDataset:
    """A file dataset: Dataset.File.from_files(path) with a local path (a folder, a file or a glob)."""

    def __init__(self, path):
        self.path = path

    def as_named_input(self, name):
        return DatasetConsumptionConfig(name, self)

    def as_mount(self, path_on_compute=None):
        return DatasetConsumptionConfig(None, self, "mount")

    def as_download(self, path_on_compute=None):
        return DatasetConsumptionConfig(None, self, "download")


class _Files:
    @staticmethod
    def from_files(path, validate=True, partition_format=None, is_file=False):
        if isinstance(path, (list, tuple)) and len(path) == 1:
            path = path[0]
        check("Dataset.File.from_files", "path", path, "str")
        return FileDataset(path)


class _Tabular:
    def __getattr__(self, name):
        raise ArgumentError("Dataset.Tabular", name, "tabular input is not supported yet; use Dataset.File")


class Dataset:
    """azureml.core.Dataset: Dataset.File.from_files(path) for a local folder, file or glob."""
    File = _Files
    Tabular = _Tabular()

    @staticmethod
    def get_by_name(workspace, name, version="latest"):
        raise CloudOnlyError(f"Dataset.get_by_name({name!r}): a registered dataset lives in an Azure ML workspace; "
                             "use Dataset.File.from_files(path) with a local path")


class DatasetConsumptionConfig:
    """A dataset as a step's input: dataset.as_named_input(NAME), .as_mount(), .as_download()."""

    def __init__(self, name, dataset, mode="direct", path_on_compute=None):
        self.name = check("DatasetConsumptionConfig", "name", name, "str")
        self.dataset = plain(dataset)
        self.mode = mode

    def as_mount(self, path_on_compute=None):
        return DatasetConsumptionConfig(self.name, self.dataset, "mount")

    def as_download(self, path_on_compute=None):
        return DatasetConsumptionConfig(self.name, self.dataset, "download")

    def _to_dict(self, base_path):
        path = self.dataset.path
        is_file = os.path.isfile(os.path.join(base_path, path))
        port = {"type": "uri_file" if is_file else "uri_folder", "path": path}
        if self.mode in MODES and self.mode != "direct":
            port["mode"] = MODES[self.mode]
        return port


class PipelineData:
    """A step's output folder (azureml.pipeline.core.PipelineData); without a datastore it goes under
    outputs/NAME beside the job file."""

    def __init__(self, name, datastore=None, output_name=None, output_mode=None, output_path_on_compute=None,
                 output_overwrite=None, data_type=None, is_directory=None, pipeline_output_name=None,
                 training_output=None):
        self.name = check("PipelineData", "name", name, "str")
        self.datastore = datastore
        self.output_mode = output_mode

    def _to_dict(self):
        port = {"type": "uri_folder"}
        if self.output_mode is not None:
            port["mode"] = OUTPUT_MODES.get(self.output_mode, self.output_mode)
        if self.datastore is not None:
            port["datastore"] = str(getattr(self.datastore, "name", self.datastore))
        return port


class OutputFileDatasetConfig(PipelineData):
    """azureml.data.OutputFileDatasetConfig(name=..., destination=...): as PipelineData."""

    def __init__(self, name=None, destination=None, source=None, partition_format=None):
        super().__init__(name or "output", datastore=destination[0] if destination else None)


def _dataset(where, value):
    value = plain(value)
    if isinstance(value, FileDataset):
        return DatasetConsumptionConfig("input_data", value)
    if isinstance(value, DatasetConsumptionConfig):
        return value if value.name else DatasetConsumptionConfig("input_data", value.dataset, value.mode)
    raise ArgumentError(WHERE, where, f"must be a file dataset (Dataset.File.from_files(...)), got {shown(value)}")


class ParallelRunStep:
    """azureml.pipeline.steps.ParallelRunStep(name, parallel_run_config, inputs, output, side_inputs, arguments,
    allow_reuse). prs_mpi cuts one input into mini-batches: inputs holds one dataset (others go in side_inputs)."""

    def __init__(self, *args, **kwargs):
        names = ["name", "parallel_run_config", "inputs", "output", "side_inputs", "arguments", "allow_reuse"]
        values = bind(WHERE, names, args, kwargs)
        self.name = check(WHERE, "name", plain(values.get("name")), "str")
        self.parallel_run_config = values.get("parallel_run_config")
        if not isinstance(self.parallel_run_config, ParallelRunConfig):
            raise ArgumentError(WHERE, "parallel_run_config",
                                f"must be a ParallelRunConfig(...), got {shown(self.parallel_run_config)}")
        inputs = list(values.get("inputs") or [])
        if len(inputs) != 1:
            raise ArgumentError(WHERE, "inputs", f"prs_mpi splits one dataset into mini-batches, got {len(inputs)}; "
                                                 "pass the others as side_inputs")
        self.inputs = [_dataset("inputs[0]", inputs[0])]
        self.side_inputs = [_dataset(f"side_inputs[{i}]", s) for i, s in enumerate(values.get("side_inputs") or [])]
        self.output = plain(values.get("output"))
        if self.output is not None and not isinstance(self.output, PipelineData):
            raise ArgumentError(WHERE, "output", f"must be a PipelineData or OutputFileDatasetConfig, got "
                                                 f"{shown(self.output)}")
        self.arguments = list(values.get("arguments") or [])
        self.allow_reuse = check(WHERE, "allow_reuse", values.get("allow_reuse"), "bool")
        self._base_path = os.getcwd()

    def _argument(self, value):
        value = plain(value)
        if isinstance(value, (DatasetConsumptionConfig, FileDataset)):
            named = [d for d in self.inputs + self.side_inputs if d is value or d.dataset is value]
            if not named:
                raise ArgumentError(WHERE, "arguments", "a dataset in arguments must be one of inputs or side_inputs")
            return "${{inputs.%s}}" % named[0].name
        if isinstance(value, PipelineData):
            return "${{outputs.%s}}" % value.name
        check(WHERE, "arguments", value, "scalar")
        return str(value)

    def to_dict(self, base_dir=None):
        tree = {"type": "parallel"}
        if self.name is not None:
            tree["name"] = self.name
        if self.allow_reuse is not None:
            tree["is_deterministic"] = self.allow_reuse
        tree["inputs"] = {d.name: d._to_dict(self._base_path) for d in self.inputs + self.side_inputs}
        if self.output is not None:
            tree["outputs"] = {self.output.name: self.output._to_dict()}
        tree["input_data"] = "${{inputs.%s}}" % self.inputs[0].name
        task = {"type": "run_function"}
        if self.arguments:
            task["program_arguments"] = " ".join(shlex.quote(self._argument(a)) for a in self.arguments)
        if self.output is not None:
            task["append_row_to"] = "${{outputs.%s}}" % self.output.name
        tree["task"] = task
        tree = _yamlio.rebase_tree(tree, self._base_path, base_dir)
        tree["parallel_run_config"] = self.parallel_run_config._to_dict(base_dir)
        return tree

    def dump(self, path):
        """Writes the job file prs_mpi reads: mpirun -np N prs_mpi PATH."""
        _yamlio.write(path, self.to_dict(os.path.dirname(os.path.abspath(path))))

    def __eq__(self, other):
        return isinstance(other, ParallelRunStep) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"ParallelRunStep(name={self.name!r})"


def step_from_dict(tree, where, base_path):
    """A ParallelRunStep from a job file that ParallelRunStep.dump wrote."""
    extra = [k for k in tree if k not in ("type", "name", "is_deterministic", "inputs", "outputs", "input_data",
                                          "task", "parallel_run_config")]
    if extra:
        raise ArgumentError(where, extra[0], "a job file with parallel_run_config is read as a ParallelRunStep, "
                                             "which holds no such key")
    config = from_map(tree["parallel_run_config"], where, base_path)
    task = tree.get("task") or {}
    bound = re.fullmatch(r"\$\{\{\s*inputs\.(\w+)\s*\}\}", str(tree.get("input_data", "")).strip())
    if bound is None or bound.group(1) not in (tree.get("inputs") or {}):
        raise ArgumentError(where, "input_data", "must bind one of the inputs: ${{inputs.NAME}}")
    main = bound.group(1)
    datasets = {name: DatasetConsumptionConfig(name, FileDataset(port["path"]),
                                               {v: k for k, v in MODES.items()}.get(port.get("mode"), "direct"))
                for name, port in (tree.get("inputs") or {}).items()}
    outputs = [PipelineData(name, datastore=port.get("datastore"),
                            output_mode={v: k for k, v in OUTPUT_MODES.items()}.get(port.get("mode"), port.get("mode")))
               for name, port in (tree.get("outputs") or {}).items()]
    step = ParallelRunStep(name=tree.get("name"), parallel_run_config=config, inputs=[datasets.pop(main)],
                           side_inputs=list(datasets.values()), output=outputs[0] if outputs else None,
                           arguments=shlex.split(task.get("program_arguments", "")),
                           allow_reuse=tree.get("is_deterministic"))
    step._base_path = base_path  # its relative paths are relative to the job file
    return step


class Pipeline:
    """azureml.pipeline.core.Pipeline(workspace, steps): written as a pipeline file, one job per step."""

    def __init__(self, workspace=None, steps=(), description=None, **kwargs):
        self.steps = list(steps)
        self.description = check("Pipeline", "description", description, "str")
        self.name = "pipeline"
        self._base_path = os.getcwd()
        for step in self.steps:
            if not isinstance(step, ParallelRunStep):
                raise ArgumentError("Pipeline", "steps", f"prs_mpi runs ParallelRunStep steps, got {shown(step)}")

    def to_dict(self, base_dir=None):
        tree = {"type": "pipeline"}
        if self.description is not None:
            tree["description"] = self.description
        tree["jobs"] = {step.name: step.to_dict(base_dir) for step in self.steps}
        return tree

    def dump(self, path):
        _yamlio.write(path, self.to_dict(os.path.dirname(os.path.abspath(path))))


class _Anything:
    """Attributes set on a v1 Environment (python.conda_dependencies, docker.base_image, ...): kept, not used."""

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        child = _Anything()
        object.__setattr__(self, name, child)
        return child


class Environment(_Anything):
    """azureml.core.Environment(name): the cloud's environment; written as its name and listed as ignored."""

    def __init__(self, name=None, **kwargs):
        object.__setattr__(self, "name", name)

    def _to_yaml(self):
        return {"name": self.name}


def _cloud_only(what):
    class CloudOnly:
        def __init__(self, *args, **kwargs):
            raise CloudOnlyError(f"{what} connects to an Azure ML workspace; prs_mpi runs jobs on this machine or "
                                 "cluster: prs_mpi.run(step, np=N) or prs_mpi.submit(step, nodes=...)")

        @classmethod
        def from_config(cls, *args, **kwargs):
            cls()

        @classmethod
        def get(cls, *args, **kwargs):
            cls()

    CloudOnly.__name__ = CloudOnly.__qualname__ = what
    return CloudOnly


Workspace = _cloud_only("Workspace")
Experiment = _cloud_only("Experiment")
