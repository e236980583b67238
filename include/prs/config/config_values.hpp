#pragma once
// Internal to the config_*.cpp files: the job's raw values with their origins, and their conversion.
//
// config_yaml.cpp reads the YAML (a parallel job, or the parallel job of a pipeline) into RawValues with canonical
// keys; config.cpp applies --set and resolves the structure (input, code, output, folders); config_values.cpp
// converts scalar settings, reads prs_mpi's own settings from program_arguments and finds values given twice;
// config_ports.cpp resolves inputs/outputs and substitutes ${{inputs.X}} / ${{outputs.X}} bindings.
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "prs/config/config.hpp"

namespace prs::config_detail {

// One value as the user wrote it, with where it came from.
struct RawValue {
  std::string key;            // canonical dotted key ("retry_settings.max_retries", also for run_max_try) or setting
  std::string text;           // the scalar's text; empty for a section
  std::string where;          // error location: "job.yml:12", "job.yml" or "--set retry_settings.timeout=-5"
  std::string shown_key;      // the key as written and as errors name it: "run_max_try", "task.program_arguments: --x"
  std::string origin;         // ResolvedSetting::origin: "job.yml:12", "--set", "program_arguments (job.yml:30)"
  bool from_set = false;      // given with --set (or read from a program_arguments given with --set)
  bool is_section = false;    // a YAML map (task, inputs.x, ...), kept for its line
  int line = 0;               // line in the job file, for "the later place" of two conflicting values; 0 for --set
  bool counts_tries = false;  // run_max_try: the text is a number of tries, max_retries + 1
};

// The job's values by source, before conversion.
struct Sources {
  std::vector<RawValue> file;   // YAML leaves and sections in file order; --set of any setting replaced or appended
  std::vector<RawValue> knobs;  // prs_mpi's settings read from program_arguments
};

// What a job file holds for the one parallel job to run.
struct JobFile {
  std::vector<RawValue> values;      // the parallel job's keys and sections, in file order
  std::vector<std::string> ignored;  // "compute (job.yml:74)", in file order
  std::string pipeline_job;          // the chosen job of a pipeline file, else empty
};

// A declared input or output, resolved.
struct Port {
  std::string group;  // "inputs" or "outputs"
  std::string name;   // the name bindings use: ${{inputs.NAME}}
  std::string type;   // uri_folder, uri_file or path_list
  std::string path;   // absolute; for a glob, the absolute pattern
};

// Every declared input and output, in file order, with an index for ${{inputs.X}} bindings (a job may declare
// thousands: lookups must not cost a pass over them).
struct Ports {
  std::vector<Port> list;                                 // in file order
  std::unordered_map<std::string, std::size_t> by_name;  // "inputs.NAME" -> its index in list
  // The port "group.name" names, or nullptr.
  const Port* find(const std::string& group_and_name) const;
};

// The values by key (the first of each, as find() gives it), for lookups in constant time.
using ValueIndex = std::unordered_map<std::string_view, const RawValue*>;

// Indexes values by key; the index points into values and is valid while they are not changed.
ValueIndex index_by_key(const std::vector<RawValue>& values);

// The value with this key in an index, or nullptr.
const RawValue* find(const ValueIndex& index, const std::string& key);

// Reads the job file's text: a parallel job, or the parallel job of a pipeline (the one `job` names when several).
JobFile read_job_file(const std::string& text, const std::string& job_name, const std::optional<std::string>& job);

// The text as errors show it after "got": "nothing" when empty.
std::string shown(const std::string& text);

// base / path, normalised, without a trailing '/'.
std::string absolute_in(const std::string& base, const std::string& path);

// The absolute path a path value names (relative to base); fails on an empty or cloud ("azureml:", "https://") one.
std::string local_path(const RawValue& value, const std::string& text, const std::string& base);

// Why a path that is not there cannot be used: " does not exist", or ": cannot be read: Permission denied" (and the
// like) when the system cannot tell, e.g. behind a folder that is not searchable.
std::string missing(const std::string& path);

// Whether a path is a glob: holds '*', '?' or '['.
bool has_glob_characters(const std::string& path);

// The folder a glob's walk starts from: its longest leading run of components without glob characters.
std::string glob_base(const std::string& pattern);

// Every declared input and output, in file order, with absolute paths; inputs must exist as their type says.
Ports read_ports(const std::vector<RawValue>& file, const std::string& job_dir);

// Throws prs::Error "WHERE: KEY: problem" for this value.
[[noreturn]] void fail(const RawValue& value, const std::string& problem);

// The value with this key, or nullptr.
const RawValue* find(const std::vector<RawValue>& values, const std::string& key);

// Replaces the values with the same key by this one (at the first one's place) or appends it.
void put(std::vector<RawValue>& values, const RawValue& value);

// prs_mpi's settings found in the split program_arguments (`--name value` or `--name=value`, a name also as a unique
// prefix; the last one wins). Fails on an ambiguous prefix or a setting without a value.
std::vector<RawValue> read_knobs(const std::vector<std::string>& arguments, const RawValue& program_arguments);

// Keeps one value per key of the job file; fails when a setting is given twice (under two names) with different
// values, at the later place.
void merge_repeated(std::vector<RawValue>& file);

// Fails when program_arguments and the job file give a setting different values, at the later place.
// A setting given with --set is not checked: --set wins silently.
void check_argument_conflicts(const Sources& sources);

// Converts every scalar setting (counts, ranges, flags, levels) into config, appending to config.resolved.
void apply_settings(const Sources& sources, JobConfig& config);

// The final value of a setting already in config.resolved (e.g. "append_row_file_name").
const std::string& resolved_value(const JobConfig& config, const std::string& key);

// The value's text with every ${{inputs.X}} / ${{outputs.X}} replaced by that port's absolute path.
std::string substitute(const RawValue& value, const Ports& ports);

// The port when the value is exactly one binding ("${{inputs.data}}"), else nullptr; fails on an unknown name.
const Port* bound_port(const RawValue& value, const Ports& ports);

}  // namespace prs::config_detail
