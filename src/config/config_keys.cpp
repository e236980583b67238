// The keys a job file may hold (v2, v1 aliases, cloud-only ones), "did you mean", and program-argument settings.
#include "prs/config/config_keys.hpp"

#include <algorithm>
#include <numeric>
#include <string_view>

namespace prs::config_keys {
namespace {

// One key pattern; "*" stands for any one name. Sections are the prefixes of these patterns.
struct Pattern {
  const char* pattern;
  Role role;
  const char* expected;  // leaf: what the value must be; unsupported: the message
  const char* alias_of;  // v1 alias: the v2 key it gives; nullptr otherwise
  bool counts_tries;     // run_max_try
  bool v1;               // a v1 name: an empty value means not given
  bool fallback;         // matched only after "did you mean" found nothing close (resources.*)
};

constexpr Role leaf = Role::leaf;
constexpr Role ignored = Role::ignored;

// The parallel job's keys, in the order "did you mean" prefers them on a tie.
const Pattern job_patterns[] = {
    {"type", leaf, "a string", nullptr, false, false, false},
    {"name", leaf, "a string", nullptr, false, false, false},
    {"inputs.*.type", leaf, "a string", nullptr, false, false, false},
    {"inputs.*.path", leaf, "a path", nullptr, false, false, false},
    {"outputs.*.type", leaf, "a string", nullptr, false, false, false},
    {"outputs.*.path", leaf, "a path", nullptr, false, false, false},
    {"input_data", leaf, "a path or ${{inputs.NAME}}", nullptr, false, false, false},
    {"mini_batch_size", leaf, "a count of files", nullptr, false, false, false},
    // Our extension: rows per mini-batch for delimited, JSON-lines (and HDF5) tables.
    {"mini_batch_row_size", leaf, "a whole number", nullptr, false, false, false},
    {"resources.instance_count", leaf, "a whole number", nullptr, false, false, false},
    {"max_concurrency_per_instance", leaf, "a whole number", nullptr, false, false, false},
    {"mini_batch_error_threshold", leaf, "a whole number", nullptr, false, false, false},
    {"retry_settings.max_retries", leaf, "a whole number", nullptr, false, false, false},
    {"retry_settings.timeout", leaf, "a whole number", nullptr, false, false, false},
    {"logging_level", leaf, "DEBUG, INFO, WARNING or ERROR", nullptr, false, false, false},
    {"environment_variables.*", leaf, "a string", nullptr, false, false, false},
    {"output_action", leaf, "append_row or summary_only", nullptr, false, true, false},
    {"ordered", leaf, "true or false", nullptr, false, false, false},
    // Our extensions for the worker's Python process: recycle it after N mini-batches or past a memory size;
    // quarantine a worker whose mini-batches keep failing while others succeed.
    {"max_tasks_per_child", leaf, "a whole number", nullptr, false, false, false},
    {"max_memory_per_child", leaf, "a size such as 4GB", nullptr, false, false, false},
    {"quarantine_after_failures", leaf, "a whole number", nullptr, false, false, false},
    // Our extension: skip input paths that cannot be read (named on the console and by --dry-run) instead of failing.
    {"skip_unreadable_inputs", leaf, "true or false", nullptr, false, false, false},
    // Our extension: a virtual environment of the embedded Python for the workers, relative to the job file.
    {"python_env", leaf, "a path", nullptr, false, false, false},
    {"task.type", leaf, "a string", nullptr, false, false, false},
    {"task.code", leaf, "a path", nullptr, false, false, false},
    {"task.entry_script", leaf, "a path", nullptr, false, false, false},
    {"task.program_arguments", leaf, "a string", nullptr, false, false, false},
    {"task.append_row_to", leaf, "a path", nullptr, false, false, false},
    // v1 ParallelRunConfig names, at the top level of the job (or under parallel_run_config).
    {"error_threshold", leaf, "a whole number", nullptr, false, true, false},
    {"allowed_failed_percent", leaf, "a whole number", nullptr, false, true, false},
    {"append_row_file_name", leaf, "a file name", nullptr, false, true, false},
    {"node_count", leaf, "a whole number", "resources.instance_count", false, true, false},
    {"process_count_per_node", leaf, "a whole number", "max_concurrency_per_instance", false, true, false},
    {"run_invocation_timeout", leaf, "a whole number", "retry_settings.timeout", false, true, false},
    {"run_max_try", leaf, "a whole number", "retry_settings.max_retries", true, true, false},
    {"allowed_failed_count", leaf, "a whole number", "mini_batch_error_threshold", false, true, false},
    {"source_directory", leaf, "a path", "task.code", false, true, false},
    {"entry_script", leaf, "a path", "task.entry_script", false, true, false},
    {"parallel_run_config", Role::transparent, nullptr, nullptr, false, false, false},
    {"partition_keys", leaf, "a list of strings", nullptr, false, false, false},
    // Cloud-only keys: accepted and listed as ignored.
    {"$schema", ignored, nullptr, nullptr, false, false, false},
    {"compute", ignored, nullptr, nullptr, false, false, false},
    {"environment", ignored, nullptr, nullptr, false, false, false},
    {"tags", ignored, nullptr, nullptr, false, false, false},
    {"display_name", ignored, nullptr, nullptr, false, false, false},
    {"description", ignored, nullptr, nullptr, false, false, false},
    {"experiment_name", ignored, nullptr, nullptr, false, false, false},
    {"identity", ignored, nullptr, nullptr, false, false, false},
    {"services", ignored, nullptr, nullptr, false, false, false},
    {"is_deterministic", ignored, nullptr, nullptr, false, false, false},
    {"component", ignored, nullptr, nullptr, false, false, false},
    {"properties", ignored, nullptr, nullptr, false, false, false},
    {"compute_target", ignored, nullptr, nullptr, false, false, false},       // v1
    {"compute_target_name", ignored, nullptr, nullptr, false, false, false},  // v1 save_to_yaml
    {"environment_name", ignored, nullptr, nullptr, false, false, false},     // v1 save_to_yaml (older)
    {"environment_dir_path", ignored, nullptr, nullptr, false, false, false}, // v1 save_to_yaml (older)
    {"inputs.*.mode", ignored, nullptr, nullptr, false, false, false},
    {"inputs.*.description", ignored, nullptr, nullptr, false, false, false},
    {"inputs.*.optional", ignored, nullptr, nullptr, false, false, false},
    {"inputs.*.datastore", ignored, nullptr, nullptr, false, false, false},
    {"outputs.*.mode", ignored, nullptr, nullptr, false, false, false},
    {"outputs.*.description", ignored, nullptr, nullptr, false, false, false},
    {"outputs.*.optional", ignored, nullptr, nullptr, false, false, false},
    {"outputs.*.datastore", ignored, nullptr, nullptr, false, false, false},
    {"task.environment", ignored, nullptr, nullptr, false, false, false},
    {"resources.instance_type", ignored, nullptr, nullptr, false, false, false},
    {"resources.shm_size", ignored, nullptr, nullptr, false, false, false},
    {"resources.properties", ignored, nullptr, nullptr, false, false, false},
    {"resources.docker_args", ignored, nullptr, nullptr, false, false, false},
    {"resources.locations", ignored, nullptr, nullptr, false, false, false},
    {"resources.max_instance_count", ignored, nullptr, nullptr, false, false, false},
    {"resources.*", ignored, nullptr, nullptr, false, false, true},  // any other resource key, unless a typo
};

// The top-level keys of a pipeline file; jobs, inputs and outputs are read by the caller.
const Pattern pipeline_patterns[] = {
    {"type", leaf, "a string", nullptr, false, false, false},
    {"jobs.*", Role::section, nullptr, nullptr, false, false, false},
    {"inputs.*", Role::section, nullptr, nullptr, false, false, false},
    {"outputs.*", Role::section, nullptr, nullptr, false, false, false},
    {"$schema", ignored, nullptr, nullptr, false, false, false},
    {"name", ignored, nullptr, nullptr, false, false, false},
    {"display_name", ignored, nullptr, nullptr, false, false, false},
    {"description", ignored, nullptr, nullptr, false, false, false},
    {"tags", ignored, nullptr, nullptr, false, false, false},
    {"properties", ignored, nullptr, nullptr, false, false, false},
    {"settings", ignored, nullptr, nullptr, false, false, false},
    {"experiment_name", ignored, nullptr, nullptr, false, false, false},
    {"compute", ignored, nullptr, nullptr, false, false, false},
    {"identity", ignored, nullptr, nullptr, false, false, false},
    {"services", ignored, nullptr, nullptr, false, false, false},
};

// prs_mpi's settings read from program_arguments (the names the service documents).
const char* const knobs[] = {
    "error_threshold",           "allowed_failed_percent",  "task_overhead_timeout",
    "progress_update_timeout",   "first_task_creation_timeout", "resource_monitor_interval",
    "copy_logs_to_parent",       "append_row_file_name",    "logging_level",
    "append_row_dataframe_header",
};

std::vector<std::string> segments(const std::string& key) {
  std::vector<std::string> parts(1);
  for (char c : key) {
    if (c == '.') {
      parts.emplace_back();
    } else {
      parts.back() += c;
    }
  }
  return parts;
}

// Whether the key's segments match the pattern's first ones (all of them when `whole`). Reads the pattern in place:
// this runs for every key of the job against every pattern, so it allocates nothing.
bool matches(const Pattern& known, const std::vector<std::string>& parts, bool whole) {
  std::string_view pattern = known.pattern;
  for (const std::string& part : parts) {
    if (pattern.empty()) return false;  // the key is longer than the pattern
    const std::size_t dot = pattern.find('.');
    const std::string_view segment = pattern.substr(0, dot);
    if (segment != "*" && segment != part) return false;
    pattern = dot == std::string_view::npos ? std::string_view() : pattern.substr(dot + 1);
  }
  return whole ? pattern.empty() : !pattern.empty();
}

KeyInfo info_of(const Pattern& known, const std::string& key) {
  KeyInfo info;
  info.role = known.role;
  if (known.role == Role::leaf) info.canonical = known.alias_of != nullptr ? known.alias_of : key;
  if (known.expected != nullptr) info.expected = known.expected;
  info.counts_tries = known.counts_tries;
  info.null_is_unset = known.v1;
  return info;
}

// The names that may follow the key's parent (the same level), for "did you mean".
template <std::size_t N>
std::vector<std::string> names_beside(const Pattern (&table)[N], const std::vector<std::string>& parts) {
  const std::vector<std::string> parent(parts.begin(), parts.end() - 1);
  std::vector<std::string> names;
  for (const Pattern& known : table) {
    if (!matches(known, parent, false)) continue;
    const std::string next = segments(known.pattern)[parent.size()];
    if (next != "*" && std::find(names.begin(), names.end(), next) == names.end()) names.push_back(next);
  }
  return names;
}

template <std::size_t N>
KeyInfo classify(const Pattern (&table)[N], const std::string& key) {
  const std::vector<std::string> parts = segments(key);
  for (const Pattern& known : table) {
    if (!known.fallback && matches(known, parts, true)) return info_of(known, key);
  }
  for (const Pattern& known : table) {
    if (matches(known, parts, false)) return KeyInfo{Role::section, "", "", false, false, ""};
  }
  KeyInfo unknown;
  unknown.suggestion = closest(parts.back(), names_beside(table, parts));
  if (unknown.suggestion.empty()) {
    for (const Pattern& known : table) {
      if (known.fallback && matches(known, parts, true)) return info_of(known, key);
    }
  }
  return unknown;
}

}  // namespace

KeyInfo job_key(const std::string& key) { return classify(job_patterns, key); }

KeyInfo pipeline_key(const std::string& key) { return classify(pipeline_patterns, key); }

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  std::iota(row.begin(), row.end(), 0);
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::string closest(const std::string& word, const std::vector<std::string>& candidates) {
  const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
  std::string best;
  std::size_t best_distance = limit + 1;
  for (const std::string& candidate : candidates) {
    const std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string closest_setting(const std::string& key) {
  std::vector<std::string> names(std::begin(knobs), std::end(knobs));
  for (const Pattern& known : job_patterns) {
    const std::string pattern = known.pattern;
    if (known.role == Role::leaf && pattern.find('*') == std::string::npos) names.push_back(pattern);
  }
  return closest(key, names);
}

bool is_knob(const std::string& name) {
  return std::any_of(std::begin(knobs), std::end(knobs), [&](const char* knob) { return name == knob; });
}

KnobMatch match_knob(const std::string& name) {
  KnobMatch match;
  if (name.empty()) return match;
  if (is_knob(name)) {
    match.knob = name;
    return match;
  }
  std::vector<std::string> prefixed;
  for (const char* knob : knobs) {
    if (std::string(knob).compare(0, name.size(), name) == 0) prefixed.emplace_back(knob);
  }
  if (prefixed.size() == 1) {
    match.knob = prefixed[0];
  } else if (prefixed.size() > 1) {
    std::sort(prefixed.begin(), prefixed.end());
    match.ambiguous = prefixed;
  }
  return match;
}

bool is_list_key(const std::string& key) { return key == "partition_keys"; }

}  // namespace prs::config_keys
