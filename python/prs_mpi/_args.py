"""Checked arguments: an unknown keyword gets the YAML loader's "did you mean", a wrong type names the argument."""
from . import _keys


class ArgumentError(TypeError):
    """An argument prs_mpi cannot take: an unknown keyword, or a value of the wrong type.

    The message reads like the YAML loader's: "parallel_run_function: mini_batch_sise: unknown argument; did you
    mean mini_batch_size?". `where` is the function or file, `argument` the argument (dotted inside a dict).
    """

    def __init__(self, where, argument, problem, suggestion=""):
        super().__init__(f"{where}: {argument}: {problem}")
        self.where = where
        self.argument = argument
        self.problem = problem
        self.suggestion = suggestion


class UnknownNameError(ArgumentError, AttributeError):
    """An unknown keyword argument, dict key or attribute (an AttributeError too, so getattr() defaults work)."""


class CloudOnlyError(RuntimeError):
    """A call that only means something with an Azure ML workspace (MLClient, Workspace, Experiment)."""


def unknown(where, argument, candidates, kind="argument"):
    """The error for an unknown name, with the closest of candidates when it is close (the loader's rule)."""
    suggestion = _keys.closest(argument.rsplit(".", 1)[-1], candidates)
    problem = (f"unknown {kind}; did you mean {suggestion}?" if suggestion
               else f"unknown {kind}; remove it or check its spelling")
    return UnknownNameError(where, argument, problem, suggestion)


def bind(where, names, args, kwargs):
    """Binds positional and keyword arguments to names (in order), as Python does, with "did you mean"."""
    if len(args) > len(names):
        raise ArgumentError(where, f"argument {len(names) + 1}",
                            f"takes at most {len(names)} positional arguments, got {len(args)}")
    values = dict(zip(names, args))
    for name, value in kwargs.items():
        if name not in names:
            raise unknown(where, name, names)
        if name in values:
            raise ArgumentError(where, name, "given twice, by position and by name")
        values[name] = value
    return values


def shown(value):
    """A value as errors show it after "got": its repr and its type."""
    return f"{value!r} ({type(value).__name__})"


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_scalar(value):
    return isinstance(value, (str, int, float, bool))


def _is_plain(value):
    """Whether YAML can hold the value as it is: scalars, None, and lists and string-keyed dicts of them."""
    if value is None or _is_scalar(value):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_plain(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_plain(v) for k, v in value.items())
    return False


# What each kind of argument must be: (test, the words errors use).
KINDS = {
    "int": (_is_int, "a whole number (int)"),
    "number": (lambda v: _is_int(v) or isinstance(v, float), "a number"),
    "str": (lambda v: isinstance(v, str), "a string"),
    "count": (lambda v: isinstance(v, str) or _is_int(v), "a count (str or int)"),
    "bool": (lambda v: isinstance(v, bool), "True or False"),
    "scalar": (lambda v: isinstance(v, (str, int, float)) and not isinstance(v, bool), "a string or a number"),
    "str_list": (lambda v: isinstance(v, (list, tuple)) and all(isinstance(s, str) for s in v), "a list of strings"),
    "map": (lambda v: isinstance(v, dict) and _is_plain(v), "a dict of plain values"),
    "plain": (_is_plain, "a string, number, list or dict"),
    "any": (lambda v: True, "anything"),
}


def check(where, argument, value, kind):
    """Raises ArgumentError unless value (not None) is of the kind; returns it."""
    test, words = KINDS[kind]
    if value is not None and not test(value):
        raise ArgumentError(where, argument, f"must be {words}, got {shown(value)}")
    return value


def check_map(where, argument, value, kinds):
    """A dict argument whose keys must be among kinds (name -> kind); did-you-mean on a wrong key."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ArgumentError(where, argument, f"must be a dict, got {shown(value)}")
    for key, item in value.items():
        if key not in kinds:
            raise unknown(where, f"{argument}.{key}", list(kinds), kind="key")
        check(where, f"{argument}.{key}", item, kinds[key])
    return dict(value)


def opaque(value):
    """A cloud-only value as YAML holds it: plain values as they are, our entities by their fields, else str()."""
    if hasattr(value, "_to_yaml"):
        return value._to_yaml()
    if isinstance(value, (list, tuple)):
        return [opaque(v) for v in value]
    if isinstance(value, dict):
        return {str(k): opaque(v) for k, v in value.items()}
    if value is None or _is_scalar(value):
        return value
    return getattr(value, "name", None) or str(value)
