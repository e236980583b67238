"""The keys a job file may hold, as src/config/config_keys.cpp lists them, and its "did you mean" rule.

The tables are copies of the C++ ones, entry for entry and in the same order (the order decides ties in "did you
mean"); tests/jobs_py/test_keys.py reads config_keys.cpp and fails when they differ.
"""

LEAF, SECTION, TRANSPARENT, IGNORED, UNSUPPORTED, UNKNOWN = (
    "leaf", "section", "transparent", "ignored", "unsupported", "unknown")


class Pattern:
    """One key pattern ("*" stands for any one name) and what a key matching it is."""

    def __init__(self, pattern, role, expected=None, alias_of=None, counts_tries=False, v1=False, fallback=False):
        self.pattern = pattern
        self.role = role
        self.expected = expected        # leaf: what the value must be; unsupported: the message
        self.alias_of = alias_of        # v1 alias: the v2 key it gives
        self.counts_tries = counts_tries  # run_max_try
        self.v1 = v1                    # a v1 name: an empty value means not given
        self.fallback = fallback        # matched only after "did you mean" found nothing close (resources.*)

    def as_tuple(self):
        return (self.pattern, self.role, self.expected, self.alias_of, self.counts_tries, self.v1, self.fallback)


def _leaf(pattern, expected, alias_of=None, counts_tries=False, v1=False):
    return Pattern(pattern, LEAF, expected, alias_of, counts_tries, v1)


def _ignored(pattern, fallback=False):
    return Pattern(pattern, IGNORED, fallback=fallback)


# The parallel job's keys, in the order "did you mean" prefers them on a tie.
JOB_PATTERNS = [
    _leaf("type", "a string"),
    _leaf("name", "a string"),
    _leaf("inputs.*.type", "a string"),
    _leaf("inputs.*.path", "a path"),
    _leaf("outputs.*.type", "a string"),
    _leaf("outputs.*.path", "a path"),
    _leaf("input_data", "a path or ${{inputs.NAME}}"),
    _leaf("mini_batch_size", "a count of files"),
    _leaf("mini_batch_row_size", "a whole number"),
    _leaf("resources.instance_count", "a whole number"),
    _leaf("max_concurrency_per_instance", "a whole number"),
    _leaf("mini_batch_error_threshold", "a whole number"),
    _leaf("retry_settings.max_retries", "a whole number"),
    _leaf("retry_settings.timeout", "a whole number"),
    _leaf("logging_level", "DEBUG, INFO, WARNING or ERROR"),
    _leaf("environment_variables.*", "a string"),
    _leaf("output_action", "append_row or summary_only", v1=True),
    _leaf("ordered", "true or false"),
    _leaf("max_tasks_per_child", "a whole number"),
    _leaf("max_memory_per_child", "a size such as 4GB"),
    _leaf("quarantine_after_failures", "a whole number"),
    _leaf("skip_unreadable_inputs", "true or false"),
    _leaf("python_env", "a path"),
    _leaf("task.type", "a string"),
    _leaf("task.code", "a path"),
    _leaf("task.entry_script", "a path"),
    _leaf("task.program_arguments", "a string"),
    _leaf("task.append_row_to", "a path"),
    # v1 ParallelRunConfig names, at the top level of the job (or under parallel_run_config).
    _leaf("error_threshold", "a whole number", v1=True),
    _leaf("allowed_failed_percent", "a whole number", v1=True),
    _leaf("append_row_file_name", "a file name", v1=True),
    _leaf("node_count", "a whole number", "resources.instance_count", v1=True),
    _leaf("process_count_per_node", "a whole number", "max_concurrency_per_instance", v1=True),
    _leaf("run_invocation_timeout", "a whole number", "retry_settings.timeout", v1=True),
    _leaf("run_max_try", "a whole number", "retry_settings.max_retries", counts_tries=True, v1=True),
    _leaf("allowed_failed_count", "a whole number", "mini_batch_error_threshold", v1=True),
    _leaf("source_directory", "a path", "task.code", v1=True),
    _leaf("entry_script", "a path", "task.entry_script", v1=True),
    Pattern("parallel_run_config", TRANSPARENT),
    _leaf("partition_keys", "a list of strings"),
    # Cloud-only keys: accepted and listed as ignored.
    _ignored("$schema"),
    _ignored("compute"),
    _ignored("environment"),
    _ignored("tags"),
    _ignored("display_name"),
    _ignored("description"),
    _ignored("experiment_name"),
    _ignored("identity"),
    _ignored("services"),
    _ignored("is_deterministic"),
    _ignored("component"),
    _ignored("properties"),
    _ignored("compute_target"),
    _ignored("compute_target_name"),
    _ignored("environment_name"),
    _ignored("environment_dir_path"),
    _ignored("inputs.*.mode"),
    _ignored("inputs.*.description"),
    _ignored("inputs.*.optional"),
    _ignored("inputs.*.datastore"),
    _ignored("outputs.*.mode"),
    _ignored("outputs.*.description"),
    _ignored("outputs.*.optional"),
    _ignored("outputs.*.datastore"),
    _ignored("task.environment"),
    _ignored("resources.instance_type"),
    _ignored("resources.shm_size"),
    _ignored("resources.properties"),
    _ignored("resources.docker_args"),
    _ignored("resources.locations"),
    _ignored("resources.max_instance_count"),
    _ignored("resources.*", fallback=True),  # any other resource key, unless a typo
]

# The top-level keys of a pipeline file; jobs, inputs and outputs are read by the caller.
PIPELINE_PATTERNS = [
    _leaf("type", "a string"),
    Pattern("jobs.*", SECTION),
    Pattern("inputs.*", SECTION),
    Pattern("outputs.*", SECTION),
    _ignored("$schema"),
    _ignored("name"),
    _ignored("display_name"),
    _ignored("description"),
    _ignored("tags"),
    _ignored("properties"),
    _ignored("settings"),
    _ignored("experiment_name"),
    _ignored("compute"),
    _ignored("identity"),
    _ignored("services"),
]

# prs_mpi's settings read from program_arguments (the names the service documents).
KNOBS = [
    "error_threshold", "allowed_failed_percent", "task_overhead_timeout",
    "progress_update_timeout", "first_task_creation_timeout", "resource_monitor_interval",
    "copy_logs_to_parent", "append_row_file_name", "logging_level",
    "append_row_dataframe_header",
]


class KeyInfo:
    """What a dotted key is: its role, the setting it gives (leaf), and the closest known key when unknown."""

    def __init__(self, role, canonical="", expected="", suggestion=""):
        self.role = role
        self.canonical = canonical
        self.expected = expected
        self.suggestion = suggestion


def _matches(pattern, parts, whole):
    """Whether the key's parts match the pattern's first segments (all of them when `whole`)."""
    segments = pattern.pattern.split(".")
    if (len(segments) != len(parts)) if whole else (len(segments) <= len(parts)):
        return False
    return all(s == "*" or s == p for s, p in zip(segments, parts))


def _names_beside(table, parts):
    """The names that may follow the key's parent (the same level), for "did you mean"."""
    parent = parts[:-1]
    names = []
    for pattern in table:
        if not _matches(pattern, parent, False):
            continue
        following = pattern.pattern.split(".")[len(parent)]
        if following != "*" and following not in names:
            names.append(following)
    return names


def _info(pattern, key):
    canonical = (pattern.alias_of or key) if pattern.role == LEAF else ""
    return KeyInfo(pattern.role, canonical, pattern.expected or "")


def classify(key, table=None):
    """Classifies a dotted key of a parallel job (or, with PIPELINE_PATTERNS, a pipeline's top-level key)."""
    table = JOB_PATTERNS if table is None else table
    parts = key.split(".")
    for pattern in table:
        if not pattern.fallback and _matches(pattern, parts, True):
            return _info(pattern, key)
    for pattern in table:
        if _matches(pattern, parts, False):
            return KeyInfo(SECTION)
    suggestion = closest(parts[-1], _names_beside(table, parts))
    if not suggestion:
        for pattern in table:
            if pattern.fallback and _matches(pattern, parts, True):
                return _info(pattern, key)
    return KeyInfo(UNKNOWN, suggestion=suggestion)


def edit_distance(a, b):
    """Levenshtein distance between two strings (insertions, deletions, substitutions)."""
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        diagonal, row[0] = row[0], i
        for j in range(1, len(b) + 1):
            above = row[j]
            row[j] = min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1]))
            diagonal = above
    return row[len(b)]


def closest(word, candidates):
    """The first closest candidate when close enough to suggest (distance <= max(2, len(word) // 3)), else ""."""
    limit = max(2, len(word) // 3)
    best, best_distance = "", limit + 1
    for candidate in candidates:
        distance = edit_distance(word, candidate)
        if distance < best_distance:
            best, best_distance = candidate, distance
    return best


def ignored_keys():
    """The job keys (patterns) the loader accepts and lists as cloud-only."""
    return [p.pattern for p in JOB_PATTERNS if p.role == IGNORED]
