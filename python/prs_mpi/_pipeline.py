"""@pipeline: a function whose component calls become the steps of a pipeline job (type: pipeline, jobs: ...).

prs_mpi runs one parallel step of a pipeline at a time (prs_mpi.run(pipeline_job, np=N, step=NAME) when it has
several). A step's inputs bind the pipeline's (${{parent.inputs.X}}); the outputs the function returns become the
pipeline's (${{parent.outputs.X}}). Steps are named after the variables that hold them, as in the SDK.
"""
import functools
import inspect
import os
import sys

from . import _context, _keys, _yamlio
from ._args import ArgumentError, bind, check, opaque, shown, unknown
from ._job import ParallelJob, check_keys, job_from_dict
from ._ports import Input, Output, PipelineInput
from ._v1_step import step_from_dict

WHERE = "pipeline"

# @pipeline's arguments: name -> (pipeline file key, kind); all only mean something on the cloud.
ARGUMENTS = {
    "name": ("name", "str"), "display_name": ("display_name", "str"), "description": ("description", "str"),
    "experiment_name": ("experiment_name", "str"), "tags": ("tags", "map"), "properties": ("properties", "map"),
    "compute": ("compute", "str"), "default_compute": ("settings.default_compute", "str"),
    "default_datastore": ("settings.default_datastore", "str"),
    "continue_on_step_failure": ("settings.continue_on_step_failure", "bool"),
}
# pipeline_job.settings: the SDK's PipelineJobSettings fields (all cloud-only).
SETTINGS = ["default_compute", "default_datastore", "continue_on_step_failure", "force_rerun"]


class Settings:
    """pipeline_job.settings.default_compute = ...: written under settings:, which prs_mpi lists as ignored."""

    def __init__(self):
        object.__setattr__(self, "_values", {})

    def __setattr__(self, name, value):
        if name not in SETTINGS:
            raise unknown("pipeline_job.settings", name, SETTINGS, kind="setting")
        check("pipeline_job.settings", name, value, "plain")
        self._values[name] = value

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in SETTINGS:
            raise unknown("pipeline_job.settings", name, SETTINGS, kind="setting")
        return self._values.get(name)


class _Named(dict):
    """A pipeline's inputs or outputs by name, also as attributes: pipeline_job.outputs.NAME.type = ..."""

    def __getattr__(self, name):
        if name in self:
            return self[name]
        raise unknown(WHERE, name, list(self), kind="port")


class PipelineJob:
    """A pipeline job: its parallel steps (jobs), inputs, outputs and cloud-only keys. job.dump("pipeline.yml")."""

    def __init__(self, base_path=None):
        self.jobs = {}                # step name -> ParallelJob, or the map of a step prs_mpi does not run
        self.inputs = _Named()        # name -> Input
        self.outputs = _Named()       # name -> Output (shared with the step that writes it)
        self.settings = Settings()
        self.values = {}              # the other (cloud-only) keys: display_name, compute, ...
        self._base_path = os.path.abspath(base_path or os.getcwd())

    @property
    def name(self):
        return self.values.get("name")

    def to_dict(self, base_dir=None):
        pairs = [(key, opaque(value)) for key, value in self.values.items()]
        tree = {"type": "pipeline", **_yamlio.nest(pairs)}
        if self.settings._values:
            tree.setdefault("settings", {}).update(opaque(self.settings._values))
        if self.inputs:
            tree["inputs"] = {name: port._to_dict() for name, port in self.inputs.items()}
        if self.outputs:
            tree["outputs"] = {name: port._to_dict() for name, port in self.outputs.items()}
        tree = _yamlio.rebase_tree(tree, self._base_path, base_dir)
        tree["jobs"] = {name: _step_dict(step, base_dir) for name, step in self.jobs.items()}
        return _yamlio.ordered(tree)

    def dump(self, path):
        """Writes the pipeline file; prs_mpi runs one parallel job of it (--job NAME when there are several)."""
        _yamlio.write(path, self.to_dict(os.path.dirname(os.path.abspath(path))))

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"PipelineJob(name={self.name!r}, jobs={list(self.jobs)})"


def _step_dict(step, base_dir):
    """A step as the pipeline file holds it: a ParallelJob or ParallelRunStep written, another job's map as it is."""
    if isinstance(step, ParallelJob):
        return step.to_dict(base_dir, in_pipeline=True)
    return step.to_dict(base_dir) if hasattr(step, "to_dict") else step


def _step_locals(function, args):
    """Calls function and returns (its result, its local variables at return), to name the steps."""
    captured = {}

    def profile(frame, event, arg):
        if event == "return" and frame.f_code is function.__code__:
            captured.update(frame.f_locals)

    previous = sys.getprofile()
    sys.setprofile(profile)
    try:
        result = function(**args)
    finally:
        sys.setprofile(previous)
    return result, captured


def _name_steps(steps, names):
    """{name: step}: the variable that holds each step, else its component's name (made unique)."""
    by_id = {id(value): name for name, value in names.items() if isinstance(value, ParallelJob)}
    named = {}
    for step in steps:
        name = by_id.get(id(step)) or step.name or "parallel"
        unique, n = name, 1
        while unique in named:
            unique, n = f"{name}_{n}", n + 1
        object.__setattr__(step, "_step_name", unique)
        named[unique] = step
    return named


def _outputs_of(result):
    """The pipeline's outputs from what the function returns: {name: a step's output}, or None."""
    if result is None:
        return {}
    if not isinstance(result, dict):
        raise ArgumentError(WHERE, "return", f"must be a dict of outputs, got {shown(result)}")
    for name, port in result.items():
        if not isinstance(port, Output) or port._owner is None:
            raise ArgumentError(WHERE, f"return.{name}", f"must be a step's output, got {shown(port)}")
    return result


def pipeline(func=None, **kwargs):
    """@pipeline or @pipeline(name=..., description=..., compute=...), as azure.ai.ml.dsl.pipeline."""
    values = bind(WHERE, list(ARGUMENTS), (), kwargs)
    for name, value in values.items():
        check(WHERE, name, value, ARGUMENTS[name][1])

    def decorate(function):
        @functools.wraps(function)
        def build(*args, **inputs):
            try:
                bound = inspect.signature(function).bind(*args, **inputs)
            except TypeError as e:
                raise ArgumentError(function.__name__, "inputs", str(e)) from None
            bound.apply_defaults()
            job = PipelineJob()
            for name, value in bound.arguments.items():
                if not isinstance(value, Input):
                    raise ArgumentError(function.__name__, name, f"must be an Input(...), got {shown(value)}")
                job.inputs[name] = value._copy()
            placeholders = {name: PipelineInput(name, job.inputs[name]) for name in bound.arguments}
            with _context.building() as steps:
                result, names = _step_locals(function, placeholders)
            job.jobs = _name_steps(steps, names)
            for name, port in _outputs_of(result).items():
                object.__setattr__(port, "_parent_name", name)
                job.outputs[name] = port
            job.values["name"] = values.get("name") or function.__name__
            for name, value in values.items():
                if value is not None and name != "name":
                    key = ARGUMENTS[name][0]
                    if key.startswith("settings."):
                        setattr(job.settings, key[len("settings."):], value)
                    else:
                        job.values[key] = value
            return job
        return build

    return decorate(func) if func is not None else decorate


def pipeline_from_dict(tree, where, base_path):
    """A PipelineJob from a pipeline file: its parallel jobs as ParallelJob, other jobs kept as they are."""
    check_keys(where, {k: v for k, v in tree.items() if k not in ("jobs", "inputs", "outputs")},
               table=_keys.PIPELINE_PATTERNS)
    job = PipelineJob(base_path)
    for key, value in tree.items():
        if key in ("inputs", "outputs"):
            for name, fields in (value or {}).items():
                getattr(job, key)[name] = (Input if key == "inputs" else Output)(**fields)
        elif key == "settings" and isinstance(value, dict):
            job.settings._values.update(value)
        elif key not in ("type", "jobs"):
            job.values[key] = value
    for name, step in (tree.get("jobs") or {}).items():
        if isinstance(step, dict) and step.get("type") == "parallel" and "parallel_run_config" in step:
            job.jobs[name] = step_from_dict(step, f"{where}: jobs.{name}", base_path)  # a v1 Pipeline's step
        elif isinstance(step, dict) and step.get("type") == "parallel":
            job.jobs[name] = job_from_dict(step, f"{where}: jobs.{name}", base_path, pipeline=job)
            object.__setattr__(job.jobs[name], "_step_name", name)
        else:
            job.jobs[name] = step
    return job
