"""A parallel job's task (RunFunction), its retry settings, and the cloud-only Environment entity."""
from ._args import ArgumentError, bind, check, opaque, shown, unknown


class _Fields:
    """An object with a fixed set of checked fields; setting an unknown one gets "did you mean"."""
    _where = ""
    _kinds = {}  # field -> kind (see _args.KINDS), in the order the YAML writes them

    def __init__(self, *args, **kwargs):
        object.__setattr__(self, "_values", {})
        for name, value in bind(self._where, list(self._kinds), args, kwargs).items():
            setattr(self, name, value)

    def __setattr__(self, name, value):
        if name not in self._kinds:
            raise unknown(self._where, name, list(self._kinds))
        check(self._where, name, value, self._kinds[name])
        self._values[name] = value

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        if name in self._kinds:
            return self._values.get(name)
        raise unknown(self._where, name, list(self._kinds))

    def _to_dict(self):
        return {k: opaque(self._values[k]) for k in self._kinds if self._values.get(k) is not None}

    def _copy(self):
        copy = type(self)()
        copy._values.update(self._values)
        return copy

    def __eq__(self, other):
        return type(self) is type(other) and self._to_dict() == other._to_dict()

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self._to_dict().items())})"


class RunFunction(_Fields):
    """The task of a parallel job: RunFunction(code=..., entry_script=..., program_arguments=..., append_row_to=...,
    environment=...). environment only means something on the cloud: written, and listed as ignored by prs_mpi."""
    _where = "RunFunction"
    _kinds = {"code": "str", "entry_script": "str", "program_arguments": "str", "append_row_to": "str",
              "environment": "any"}

    def _to_dict(self):
        return {"type": "run_function", **super()._to_dict()}


class RetrySettings(_Fields):
    """retry_settings: RetrySettings(max_retries=..., timeout=...), or the same as a dict."""
    _where = "retry_settings"
    _kinds = {"max_retries": "int", "timeout": "int"}


def retry_settings(where, value):
    """A RetrySettings from a dict or a RetrySettings; None stays None."""
    if value is None or isinstance(value, RetrySettings):
        return value._copy() if value is not None else None
    if not isinstance(value, dict):
        raise ArgumentError(where, "retry_settings", f"must be a dict or RetrySettings, got {shown(value)}")
    settings = RetrySettings()
    for key, item in value.items():
        if key not in RetrySettings._kinds:
            raise unknown(where, f"retry_settings.{key}", list(RetrySettings._kinds), kind="key")
        check(where, f"retry_settings.{key}", item, "int")
        settings._values[key] = item
    return settings


class Environment:
    """azure.ai.ml.entities.Environment: where the job runs on the cloud. prs_mpi runs in the Python it embeds, so
    this is written into the job file as it is and listed as ignored (task.environment)."""

    def __init__(self, **fields):
        for name, value in fields.items():
            check("Environment", name, value, "plain")
        self.fields = {k: v for k, v in fields.items() if v is not None}

    def _to_yaml(self):
        return dict(self.fields)

    def __eq__(self, other):
        return isinstance(other, Environment) and self.fields == other.fields

    def __repr__(self):
        return f"Environment({', '.join(f'{k}={v!r}' for k, v in self.fields.items())})"
