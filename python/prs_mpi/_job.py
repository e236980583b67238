"""A parallel job built in Python: parallel_run_function(...), the ParallelJob it returns, and reading one back.

A ParallelJob holds the job file's keys: the simple ones under their dotted YAML key ("resources.instance_count",
"display_name"), inputs, outputs, task, retry_settings and environment_variables as objects. Writing it gives the v2
job YAML prs_mpi reads; prs_mpi validates the values (ranges, paths) when it reads the file, as for any job file.
"""
import os

from . import _context, _keys, _yamlio
from ._args import ArgumentError, UnknownNameError, bind, check, opaque, shown, unknown
from ._ports import BoundInput, Input, Output, PipelineInput, bound
from ._task import RunFunction, retry_settings

WHERE = "parallel_run_function"

# parallel_run_function's simple arguments: name -> (job file key, kind). Cloud-only ones have keys the loader
# ignores (tests/jobs_py/test_keys.py checks both against config_keys.cpp). The order decides "did you mean" ties.
SIMPLE = {
    "name": ("name", "str"),
    "input_data": ("input_data", "str"),
    "mini_batch_size": ("mini_batch_size", "count"),
    "mini_batch_row_size": ("mini_batch_row_size", "int"),  # prs_mpi's own: rows per tabular mini-batch
    "instance_count": ("resources.instance_count", "int"),
    "max_concurrency_per_instance": ("max_concurrency_per_instance", "int"),
    "mini_batch_error_threshold": ("mini_batch_error_threshold", "int"),
    "logging_level": ("logging_level", "str"),
    "ordered": ("ordered", "bool"),  # prs_mpi's own: rows in mini-batch order
    "max_tasks_per_child": ("max_tasks_per_child", "int"),  # prs_mpi's own: recycle the Python process
    "max_memory_per_child": ("max_memory_per_child", "str"),  # prs_mpi's own: "4GB"
    "quarantine_after_failures": ("quarantine_after_failures", "int"),  # prs_mpi's own
    "skip_unreadable_inputs": ("skip_unreadable_inputs", "bool"),  # prs_mpi's own: skip, listed, what cannot be read
    "python_env": ("python_env", "str"),  # prs_mpi's own: a virtual environment for the workers
    "error_threshold": ("error_threshold", "int"),
    "partition_keys": ("partition_keys", "str_list"),
    "compute": ("compute", "str"),
    "tags": ("tags", "map"),
    "display_name": ("display_name", "str"),
    "description": ("description", "str"),
    "experiment_name": ("experiment_name", "str"),
    "identity": ("identity", "any"),
    "is_deterministic": ("is_deterministic", "bool"),
    "properties": ("properties", "map"),
    "instance_type": ("resources.instance_type", "str"),
    "shm_size": ("resources.shm_size", "str"),
    "docker_args": ("resources.docker_args", "str"),
}
# The arguments held as objects, with the job file key each one writes.
OBJECTS = {"inputs": "inputs", "outputs": "outputs", "retry_settings": "retry_settings",
           "environment_variables": "environment_variables", "task": "task", "append_row_to": "task.append_row_to"}
# Every argument, in "did you mean" order: the loader's order where the keys correspond.
ARGUMENTS = ["name", "inputs", "outputs", "input_data", "mini_batch_size", "mini_batch_row_size",
             "instance_count", "max_concurrency_per_instance", "mini_batch_error_threshold", "retry_settings",
             "logging_level",
             "environment_variables", "ordered", "skip_unreadable_inputs", "max_tasks_per_child",
             "max_memory_per_child", "quarantine_after_failures", "python_env", "task", "append_row_to", "error_threshold",
             "partition_keys",
             "compute", "tags", "display_name", "description", "experiment_name", "identity", "is_deterministic",
             "properties", "instance_type", "shm_size", "docker_args"]


class Ports(dict):
    """A job's inputs or outputs by name, also as attributes: job.inputs.job_data_path.mode = ..."""

    def __init__(self, job, group):
        super().__init__()
        object.__setattr__(self, "_job", job)
        object.__setattr__(self, "_group", group)  # "inputs" or "outputs"

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self:
            return self[name]
        raise unknown(self._job._where, f"{self._group}.{name}", list(self), kind=self._group[:-1])

    def __setattr__(self, name, value):
        self[name] = value

    def __setitem__(self, name, value):
        check(self._job._where, f"{self._group} name", name, "str")
        if self._group == "inputs":
            value = bound(self._job._where, f"inputs.{name}", value)
        elif not isinstance(value, Output):
            raise ArgumentError(self._job._where, f"outputs.{name}", f"must be an Output(...), got {shown(value)}")
        else:
            owner = value._owner
            if owner is not None and (owner[0] is not self._job or owner[1] != name):
                value = value._copy()  # another job's output: this job gets its own
            object.__setattr__(value, "_owner", (self._job, name))
        super().__setitem__(name, value)


class ParallelJob:
    """A parallel job (what parallel_run_function returns). Call it with inputs to bind them, as the SDK's
    components: job = component(job_data_path=Input(path="./data")). job.dump("job.yml") writes it."""
    _where = WHERE

    def __init__(self, base_path=None):
        object.__setattr__(self, "_values", {"type": "parallel"})  # dotted job file key -> value
        object.__setattr__(self, "_inputs", Ports(self, "inputs"))
        object.__setattr__(self, "_outputs", Ports(self, "outputs"))
        object.__setattr__(self, "_task", None)
        object.__setattr__(self, "_retry", None)
        object.__setattr__(self, "_env", None)
        object.__setattr__(self, "_base_path", os.path.abspath(base_path or os.getcwd()))  # relative paths' base
        object.__setattr__(self, "_step_name", None)  # its name in a pipeline

    # ---- the arguments as attributes ----
    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in SIMPLE:
            return self._values.get(SIMPLE[name][0])
        raise unknown(self._where, name, ARGUMENTS, kind="attribute")

    def __setattr__(self, name, value):
        if name in SIMPLE:
            key, kind = SIMPLE[name]
            check(self._where, name, value, kind)
            if value is None:
                self._values.pop(key, None)
            else:
                self._values[key] = value
        elif name in OBJECTS:
            getattr(type(self), name).fset(self, value)
        else:
            raise unknown(self._where, name, ARGUMENTS, kind="attribute")

    @property
    def inputs(self):
        return self._inputs

    @inputs.setter
    def inputs(self, value):
        self._inputs.clear()
        for name, port in _a_dict("inputs", value).items():
            self._inputs[name] = port

    @property
    def outputs(self):
        return self._outputs

    @outputs.setter
    def outputs(self, value):
        self._outputs.clear()
        for name, port in _a_dict("outputs", value).items():
            self._outputs[name] = port._copy() if isinstance(port, Output) else port

    @property
    def task(self):
        return self._task

    @task.setter
    def task(self, value):
        if value is not None and not isinstance(value, RunFunction):
            raise ArgumentError(self._where, "task", f"must be a RunFunction(...), got {shown(value)}")
        object.__setattr__(self, "_task", value._copy() if value is not None else None)

    @property
    def append_row_to(self):
        return self._task.append_row_to if self._task is not None else None

    @append_row_to.setter
    def append_row_to(self, value):
        check(self._where, "append_row_to", value, "str")
        if self._task is None:
            object.__setattr__(self, "_task", RunFunction())
        self._task.append_row_to = value

    @property
    def retry_settings(self):
        return self._retry

    @retry_settings.setter
    def retry_settings(self, value):
        object.__setattr__(self, "_retry", retry_settings(self._where, value))

    @property
    def environment_variables(self):
        return self._env

    @environment_variables.setter
    def environment_variables(self, value):
        for name, text in _a_dict("environment_variables", value).items():
            check(self._where, f"environment_variables.{name}", text, "scalar")
        object.__setattr__(self, "_env", dict(value) if value is not None else None)

    # ---- a component called with inputs: a new job, a step when inside a pipeline ----
    def __call__(self, *args, **inputs):
        where = self.name or self._where
        if args:
            raise ArgumentError(where, "argument 1", "takes its inputs by name: component(job_data_path=Input(...))")
        job = self._copy()
        for name, value in inputs.items():
            if name not in self._inputs:
                raise unknown(where, name, list(self._inputs), kind="input")
            job._inputs[name] = value
        _context.add_step(job)
        return job

    def _copy(self):
        job = ParallelJob(self._base_path)
        job._values.update(self._values)
        for name, port in self._inputs.items():
            job._inputs[name] = port._copy()
        for name, port in self._outputs.items():
            job._outputs[name] = port._copy()
        object.__setattr__(job, "_task", self._task._copy() if self._task is not None else None)
        object.__setattr__(job, "_retry", self._retry._copy() if self._retry is not None else None)
        object.__setattr__(job, "_env", dict(self._env) if self._env is not None else None)
        return job

    # ---- the job file ----
    def to_dict(self, base_dir=None, in_pipeline=False):
        """The job file as a dict; relative paths are rebased for a file in base_dir (None: all absolute)."""
        tree = _yamlio.nest((key, opaque(value)) for key, value in self._values.items())
        if self._inputs:
            tree["inputs"] = {n: p._to_yaml() if isinstance(p, BoundInput) else p._to_dict()
                              for n, p in self._inputs.items()}
        if self._outputs:
            tree["outputs"] = {n: "${{parent.outputs.%s}}" % p._parent_name if in_pipeline and p._parent_name
                               else p._to_dict() for n, p in self._outputs.items()}
        if self._retry is not None and self._retry._to_dict():
            tree["retry_settings"] = self._retry._to_dict()
        if self._env:
            tree["environment_variables"] = dict(self._env)
        if self._task is not None:
            tree["task"] = self._task._to_dict()
        return _yamlio.ordered(_yamlio.rebase_tree(tree, self._base_path, base_dir))

    def dump(self, path):
        """Writes the job file prs_mpi reads (mpirun -np N prs_mpi PATH); relative paths stay right from there."""
        _yamlio.write(path, self.to_dict(os.path.dirname(os.path.abspath(path))))

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    def __repr__(self):
        return f"ParallelJob(name={self.name!r})"


def _a_dict(name, value):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ArgumentError(WHERE, name, f"must be a dict, got {shown(value)}")
    return value


def parallel_run_function(*args, **kwargs):
    """A parallel job, with the keyword arguments of azure.ai.ml.parallel.parallel_run_function. Cloud-only ones
    (compute, display_name, instance_type, ...) are written and listed by prs_mpi as ignored."""
    if args:
        raise ArgumentError(WHERE, "argument 1", "takes keyword arguments only")
    values = bind(WHERE, ARGUMENTS, (), kwargs)
    job = ParallelJob()
    for name in ARGUMENTS:
        if values.get(name) is None:
            continue
        if name == "append_row_to" and job.append_row_to not in (None, values[name]):
            raise ArgumentError(WHERE, "append_row_to", f"{values[name]!r}, but task gives {job.append_row_to!r}; "
                                                        "keep one of them")
        setattr(job, name, values[name])
    return job


# ---- reading a job file back ----

def check_keys(where, tree, prefix="", table=None):
    """Raises for the first unknown key, as the loader does ("did you mean" among the keys at its level)."""
    for key, value in tree.items():
        full = prefix + str(key)
        info = _keys.classify(full, table)
        if info.role == _keys.UNKNOWN:
            problem = (f"unknown key; did you mean {info.suggestion}?" if info.suggestion
                       else "unknown key; remove it or check its spelling")
            raise UnknownNameError(where, full, problem, info.suggestion)
        if info.role == _keys.SECTION and isinstance(value, dict) and table is None:
            check_keys(where, value, full + ".")
        if info.role == _keys.TRANSPARENT and isinstance(value, dict):
            check_keys(where, value, "")


def _leaves(key, value):
    """(dotted key, value) for each key the job holds as it is (sections are walked to their keys)."""
    if _keys.classify(key).role == _keys.SECTION and isinstance(value, dict):
        for name, item in value.items():
            yield from _leaves(f"{key}.{name}", item)
    else:
        yield key, value


def _a_map(where, key, value):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ArgumentError(where, key, f"must be a map of keys, got {shown(value)}")
    return value


def _parent_binding(value, group):
    """NAME when value is ${{parent.GROUP.NAME}}, else None."""
    text = value.strip() if isinstance(value, str) else ""
    if not (text.startswith("${{") and text.endswith("}}")):
        return None
    inner = text[3:-2].strip()
    prefix = f"parent.{group}."
    return inner[len(prefix):] if inner.startswith(prefix) else None


def _port_from(where, group, name, value, pipeline):
    """An input or output as the file gives it: a map, or (in a pipeline's step) a binding to the pipeline's."""
    parent = _parent_binding(value, group) if pipeline is not None else None
    ports = (pipeline.inputs if group == "inputs" else pipeline.outputs) if pipeline is not None else {}
    if parent in ports:
        return PipelineInput(parent, ports[parent]) if group == "inputs" else ports[parent]
    fields = _a_map(where, f"{group}.{name}", value)
    return (Input if group == "inputs" else Output)(**fields)


def job_from_dict(tree, where, base_path, pipeline=None):
    """A ParallelJob from a job file's (or a pipeline step's) keys; unknown keys raise as the loader's do."""
    check_keys(where, tree)
    job = ParallelJob(base_path)
    for key, value in tree.items():
        if key in ("inputs", "outputs"):
            for name, port in _a_map(where, key, value).items():
                getattr(job, key)[name] = _port_from(where, key, name, port, pipeline)
                if key == "outputs" and pipeline is not None and _parent_binding(port, key) in pipeline.outputs:
                    object.__setattr__(job.outputs[name], "_parent_name", _parent_binding(port, key))
        elif key == "task":
            fields = dict(_a_map(where, key, value))
            if fields.pop("type", "run_function") != "run_function":
                raise ArgumentError(where, "task.type", f"must be run_function, got {tree[key]['type']!r}")
            job.task = RunFunction(**fields)
        elif key == "retry_settings":
            job.retry_settings = _a_map(where, key, value)
        elif key == "environment_variables":
            job.environment_variables = _a_map(where, key, value)
        elif key == "parallel_run_config":
            raise ArgumentError(where, key, "a v1 job: read it with prs_mpi.load(), which gives a ParallelRunStep")
        else:
            for leaf, item in _leaves(key, value):
                job._values[leaf] = item
    return job
