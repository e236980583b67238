"""A job's inputs and outputs: Input, Output, the SDK's type and mode constants, and the bindings of pipeline steps."""
from ._args import ArgumentError, bind, check, shown, unknown


class AssetTypes:
    """The input and output types of SDK v2 (azure.ai.ml.constants.AssetTypes) and prs_mpi's path_list."""
    URI_FILE = "uri_file"
    URI_FOLDER = "uri_folder"
    MLTABLE = "mltable"
    MLFLOW_MODEL = "mlflow_model"
    CUSTOM_MODEL = "custom_model"
    TRITON_MODEL = "triton_model"
    PATH_LIST = "path_list"  # prs_mpi's own: a text file with one path per line


class InputOutputModes:
    """The modes of SDK v2 (azure.ai.ml.constants.InputOutputModes); prs_mpi reads local paths and ignores them."""
    RO_MOUNT = "ro_mount"
    RW_MOUNT = "rw_mount"
    DOWNLOAD = "download"
    UPLOAD = "upload"
    DIRECT = "direct"
    EVAL_MOUNT = "eval_mount"
    EVAL_DOWNLOAD = "eval_download"


# The keys of inputs.NAME and outputs.NAME in the job YAML, with what Python takes for each.
PORT_FIELDS = {"type": "str", "path": "str", "mode": "str", "description": "str", "optional": "bool",
               "datastore": "str"}


class _Port:
    """Fields of one input or output; setting an unknown field gets "did you mean"."""
    _where = "port"
    _default_type = "uri_folder"

    def __init__(self, *args, **kwargs):
        object.__setattr__(self, "_values", {})
        object.__setattr__(self, "_owner", None)        # (job, name) once it is a job's
        object.__setattr__(self, "_parent_name", None)  # a pipeline output's name once bound to it
        values = bind(self._where, list(PORT_FIELDS), args, kwargs)
        values.setdefault("type", None)
        if values["type"] is None:
            values["type"] = self._default_type
        for name, value in values.items():
            setattr(self, name, value)

    def __setattr__(self, name, value):
        if name not in PORT_FIELDS:
            raise unknown(self._where, name, list(PORT_FIELDS))
        check(self._where, name, value, PORT_FIELDS[name])
        self._values[name] = value

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in PORT_FIELDS:
            return self._values.get(name)
        raise unknown(self._where, name, list(PORT_FIELDS))

    def _to_dict(self):
        return {k: self._values[k] for k in PORT_FIELDS if self._values.get(k) is not None}

    def _copy(self):
        return type(self)(**self._to_dict())

    def __eq__(self, other):
        return type(self) is type(other) and self._to_dict() == other._to_dict()

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in self._to_dict().items())
        return f"{type(self).__name__}({fields})"


class Input(_Port):
    """An input of a parallel job (type uri_folder by default): Input(type=..., path=..., mode=..., ...)."""
    _where = "Input"


class Output(_Port):
    """An output of a parallel job (type uri_folder by default): Output(type=..., path=..., mode=..., ...)."""
    _where = "Output"


class PipelineInput:
    """A pipeline's input as its steps see it inside the pipeline function: ${{parent.inputs.NAME}}."""

    def __init__(self, name, value):
        self.name = name
        self.value = value  # the Input given to the pipeline

    def __repr__(self):
        return f"PipelineInput({self.name!r}, {self.value!r})"


class BoundInput:
    """A step's input bound to a pipeline input or to another step's output; fields set on it override."""

    def __init__(self, source):
        object.__setattr__(self, "_source", source)  # a PipelineInput, or a step's Output
        object.__setattr__(self, "_values", {})

    def __setattr__(self, name, value):
        if name not in PORT_FIELDS:
            raise unknown("input", name, list(PORT_FIELDS))
        check("input", name, value, PORT_FIELDS[name])
        self._values[name] = value

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in PORT_FIELDS:
            raise unknown("input", name, list(PORT_FIELDS))
        if name in self._values:
            return self._values[name]
        source = self._source.value if isinstance(self._source, PipelineInput) else self._source
        return getattr(source, name)

    def binding(self):
        """${{parent.inputs.NAME}} or ${{parent.jobs.STEP.outputs.NAME}}."""
        if isinstance(self._source, PipelineInput):
            return "${{parent.inputs.%s}}" % self._source.name
        job, name = self._source._owner
        return "${{parent.jobs.%s.outputs.%s}}" % (job._step_name, name)

    def _to_yaml(self):
        """The binding; with fields set, a pipeline input's fields with them (prs_mpi reads no map with a binding)."""
        overrides = {k: self._values[k] for k in PORT_FIELDS if self._values.get(k) is not None}
        if not overrides:
            return self.binding()
        if isinstance(self._source, PipelineInput):
            return {**self._source.value._to_dict(), **overrides}
        return {"path": self.binding(), **overrides}

    def _copy(self):
        copy = BoundInput(self._source)
        copy._values.update(self._values)
        return copy

    def __repr__(self):
        return f"BoundInput({self.binding()})"


def bound(where, name, value):
    """What a step's input becomes when a component is called with it; raises for other values."""
    if isinstance(value, Input):
        return value._copy()
    if isinstance(value, PipelineInput):
        return BoundInput(value)
    if isinstance(value, Output) and value._owner is not None:
        return BoundInput(value)
    if isinstance(value, BoundInput):
        return value._copy()
    raise ArgumentError(where, name, f"must be an Input(...), a pipeline input or a step's output, got {shown(value)}")
