#pragma once
// The keys a job file may hold: the v2 parallel job's keys, the v1 ParallelRunConfig names (aliases with their own
// semantics), the keys that only mean something on the cloud (accepted, listed once as ignored), and "did you mean"
// for the rest. Also prs_mpi's own settings in task.program_arguments, matched as argparse does (unique prefixes).
// This file alone decides which keys are known; config_yaml.cpp reads the YAML with it.
#include <string>
#include <vector>

namespace prs::config_keys {

// What a key of a job file is.
enum class Role {
  leaf,         // a scalar setting; KeyInfo::canonical names it (the v2 key behind a v1 alias)
  section,      // a map of keys (task, retry_settings, inputs.NAME, ...)
  transparent,  // parallel_run_config: a map whose keys are read as the job's own (ParallelRunConfig.save_to_yaml)
  ignored,      // cloud-only: accepted, listed once by its top key, not read
  unsupported,  // known but not supported yet; KeyInfo::expected holds the message
  unknown,      // none of these; KeyInfo::suggestion holds the closest key at its level when one is close
};

// How a key of a job file is read.
struct KeyInfo {
  Role role = Role::unknown;
  std::string canonical;       // leaf: the setting it gives ("retry_settings.max_retries" for run_max_try)
  std::string expected;        // leaf: what its value must be ("a whole number"); unsupported: what to do instead
  bool counts_tries = false;   // run_max_try: N tries give max_retries = N - 1, N in [1, int max]
  bool null_is_unset = false;  // v1 names: an empty value means "not given", as save_to_yaml writes None
  std::string suggestion;      // unknown: the closest known key at the same level, or empty
};

// Classifies a key of a parallel job, dotted as inside the job ("retry_settings.timeout", "inputs.data.mode").
KeyInfo job_key(const std::string& key);

// Whether a leaf key takes a YAML list (partition_keys), read as one flow-style text "[a, b]".
bool is_list_key(const std::string& key);

// Classifies a top-level key of a pipeline file (type: pipeline); "jobs", "inputs", "outputs" are sections.
KeyInfo pipeline_key(const std::string& key);

// The closest candidate to word when close enough to suggest (edit distance <= max(2, length / 3)), else empty.
std::string closest(const std::string& word, const std::vector<std::string>& candidates);

// The closest full setting name (job-file key, v1 name or program-argument setting) to a --set key, or empty.
std::string closest_setting(const std::string& key);

// Levenshtein distance between two strings (insertions, deletions, substitutions).
std::size_t edit_distance(const std::string& a, const std::string& b);

// Whether name is one of prs_mpi's program-argument settings (exact, as --set takes them).
bool is_knob(const std::string& name);

// What an option written in program_arguments ("--resource_monitor_interva") names among prs_mpi's settings.
struct KnobMatch {
  std::string knob;                    // the setting: exact name, else the one setting it is a prefix of; or empty
  std::vector<std::string> ambiguous;  // every setting it is a prefix of, sorted, when several (knob is empty)
};

// Matches an option name (without its leading "--") as argparse does: exact name, else a unique prefix.
KnobMatch match_knob(const std::string& name);

}  // namespace prs::config_keys
