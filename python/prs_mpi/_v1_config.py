"""SDK v1's ParallelRunConfig (with save_to_yaml / load_yaml) and PipelineParameter.

A ParallelRunConfig is written as the map save_to_yaml writes (parallel_run_config: ...); prs_mpi reads that map
inside a job file as the job's own keys, with the v1 meanings (run_max_try = max_retries + 1, error_threshold on
items, allowed_failed_count on mini-batches, ...).
"""
import os

from . import _yamlio
from ._args import ArgumentError, bind, check, opaque, shown, unknown

WHERE = "ParallelRunConfig"

# The constructor's arguments in the SDK's order (also the positional order), with what each must be.
ARGUMENTS = {
    "environment": "any", "entry_script": "str", "error_threshold": "int", "output_action": "str",
    "compute_target": "any", "node_count": "int", "process_count_per_node": "int", "mini_batch_size": "count",
    "source_directory": "str", "description": "str", "logging_level": "str", "run_invocation_timeout": "int",
    "run_max_try": "int", "append_row_file_name": "str", "allowed_failed_count": "int",
    "allowed_failed_percent": "number", "partition_keys": "str_list", "environment_variables": "map",
}
DEFAULTS = {"logging_level": "INFO", "run_invocation_timeout": 60, "run_max_try": 3}
# The key each argument is saved under, where it is not its own name (save_to_yaml names the compute target).
SAVED_AS = {"compute_target": "compute_target_name"}


class PipelineParameter:
    """A v1 pipeline parameter: prs_mpi uses its default_value."""

    def __init__(self, *args, **kwargs):
        values = bind("PipelineParameter", ["name", "default_value"], args, kwargs)
        self.name = check("PipelineParameter", "name", values.get("name"), "str")
        self.default_value = values.get("default_value")

    def __repr__(self):
        return f"PipelineParameter(name={self.name!r}, default_value={self.default_value!r})"


def plain(value):
    """A PipelineParameter's default value, any other value as it is."""
    return value.default_value if isinstance(value, PipelineParameter) else value


class ParallelRunConfig:
    """azureml.pipeline.steps.ParallelRunConfig: every documented argument; environment, compute_target and
    description only mean something on the cloud (written, and listed by prs_mpi as ignored)."""

    def __init__(self, *args, **kwargs):
        values = {**DEFAULTS, **bind(WHERE, list(ARGUMENTS), args, kwargs)}
        self._values = {}
        for name in ARGUMENTS:
            value = plain(values.get(name))
            check(WHERE, name, value, ARGUMENTS[name])
            if name == "environment_variables" and value is not None:
                for key, text in value.items():
                    check(WHERE, f"environment_variables.{key}", plain(text), "scalar")
                value = {key: plain(text) for key, text in value.items()}
            if value is not None:
                self._values[name] = value
        self._base_path = os.getcwd()

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in ARGUMENTS:
            return self._values.get(name)
        raise unknown(WHERE, name, list(ARGUMENTS), kind="attribute")

    def _to_dict(self, base_dir=None):
        """The parallel_run_config map, relative paths rebased for a file in base_dir (None: absolute)."""
        saved = {SAVED_AS.get(name, name): opaque(value) for name, value in self._values.items()}
        rebased = _yamlio.rebase_tree({"parallel_run_config": saved}, self._base_path, base_dir)
        return rebased["parallel_run_config"]

    def save_to_yaml(self, path):
        """Writes the configuration as the SDK does: a file with one map, parallel_run_config."""
        _yamlio.write(path, {"parallel_run_config": self._to_dict(os.path.dirname(os.path.abspath(path)))})

    @staticmethod
    def load_yaml(workspace, path):
        """Reads a configuration save_to_yaml wrote (workspace is not used: there is none)."""
        tree = _yamlio.read(path)
        if "parallel_run_config" not in tree:
            raise ArgumentError(path, "parallel_run_config", "missing; save_to_yaml writes one map of that name")
        return from_map(tree["parallel_run_config"], path, os.path.dirname(os.path.abspath(path)))

    def __eq__(self, other):
        return isinstance(other, ParallelRunConfig) and self._to_dict() == other._to_dict()

    def __repr__(self):
        return f"ParallelRunConfig({', '.join(f'{k}={v!r}' for k, v in self._values.items())})"


def from_map(saved, where, base_path):
    """A ParallelRunConfig from a parallel_run_config map (empty values are not given, as save_to_yaml writes
    None); an unknown key raises with "did you mean"."""
    if not isinstance(saved, dict):
        raise ArgumentError(where, "parallel_run_config", f"must be a map of keys, got {shown(saved)}")
    names = {SAVED_AS.get(name, name): name for name in ARGUMENTS}
    arguments = {}
    for key, value in saved.items():
        if key not in names:
            raise unknown(where, f"parallel_run_config.{key}", list(names), kind="key")
        arguments[names[key]] = value
    config = ParallelRunConfig(**{k: v for k, v in arguments.items() if v is not None})
    for name in DEFAULTS:  # a saved file gives its own values; a default it does not hold is not added
        if name not in arguments:
            config._values.pop(name, None)
    config._base_path = base_path
    return config
