"""Writing and reading job files: the header, key order, nesting dotted keys, and paths relative to the job file."""
import os

import yaml

HEADER = "# Written by the prs_mpi Python package (python/prs_mpi): edit the Python that wrote it, not this file.\n"

# The top-level keys in the order job files are written (the seeds' order); others follow in their own order.
TOP_ORDER = [
    "$schema", "type", "name", "display_name", "description", "experiment_name", "tags", "properties", "compute",
    "identity", "services", "component", "is_deterministic", "settings", "inputs", "outputs", "input_data",
    "mini_batch_size", "mini_batch_row_size", "partition_keys", "resources", "max_concurrency_per_instance", "mini_batch_error_threshold",
    "error_threshold", "retry_settings", "logging_level", "environment_variables", "output_action", "ordered",
    "skip_unreadable_inputs", "max_tasks_per_child", "max_memory_per_child", "quarantine_after_failures", "task",
    "jobs", "parallel_run_config",
]

# Dotted keys (a "*" for any name) whose values are paths, relative to the job file when relative.
PATH_KEYS = ["inputs.*.path", "outputs.*.path", "input_data", "task.code", "task.append_row_to", "source_directory",
             "parallel_run_config.source_directory"]


def is_path_key(key):
    parts = key.split(".")
    for pattern in PATH_KEYS:
        segments = pattern.split(".")
        if len(segments) == len(parts) and all(s in ("*", p) for s, p in zip(segments, parts)):
            return True
    return False


def rebase(path, base_path, base_dir):
    """A path given relative to base_path, as a job file in base_dir must write it (absolute unless the folders are
    the same, kept as written then). Bindings, URLs, azureml: names and absolute paths stay as they are."""
    if not isinstance(path, str) or not path or os.path.isabs(path):
        return path
    if "${{" in path or "://" in path or path.startswith("azureml:"):
        return path
    if base_dir is not None and os.path.normpath(base_path) == os.path.normpath(base_dir):
        return path
    absolute = os.path.normpath(os.path.join(base_path, path))
    return absolute + "/" if path.endswith("/") else absolute


def rebase_tree(tree, base_path, base_dir, prefix=""):
    """The dict with every value under a PATH_KEYS key rebased (see rebase)."""
    result = {}
    for key, value in tree.items():
        full = prefix + key
        if isinstance(value, dict):
            result[key] = rebase_tree(value, base_path, base_dir, full + ".")
        else:
            result[key] = rebase(value, base_path, base_dir) if is_path_key(full) else value
    return result


def nest(pairs):
    """A nested dict from (dotted key, value) pairs, first-seen order within each map."""
    tree = {}
    for key, value in pairs:
        *parents, leaf = key.split(".")
        node = tree
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = value
    return tree


def ordered(tree):
    """The top-level keys in TOP_ORDER, the others after them in their own order."""
    rank = {key: i for i, key in enumerate(TOP_ORDER)}
    return dict(sorted(tree.items(), key=lambda item: rank.get(item[0], len(TOP_ORDER))))


def to_text(tree):
    return HEADER + yaml.safe_dump(tree, sort_keys=False, default_flow_style=False, allow_unicode=True, width=120)


def write(path, tree):
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    with open(path, "w") as f:
        f.write(to_text(tree))


def read(path):
    """The YAML map in a file; raises ValueError naming the file for anything else."""
    with open(path) as f:
        try:
            tree = yaml.safe_load(f)
        except yaml.YAMLError as e:
            raise ValueError(f"{path}: invalid YAML: {e}") from None
    if not isinstance(tree, dict):
        raise ValueError(f"{path}: a job file is a map of keys (type: parallel, inputs: ..., task: ...)")
    return tree


def written_by_us(path):
    """Whether the file is one this package wrote (so that run() may replace it)."""
    try:
        with open(path) as f:
            return f.readline() == HEADER
    except OSError:
        return False
