#pragma once
// Internal to config.cpp and config_values.cpp: the job's raw values with their origins, and their conversion.
//
// config.cpp reads the YAML and the --set options into RawValues and resolves the structure (inputs, outputs, paths);
// config_values.cpp converts scalar settings, reads prs_mpi's own settings from program_arguments and substitutes
// ${{inputs.X}} / ${{outputs.X}} bindings.
#include <string>
#include <vector>

#include "prs/config.hpp"

namespace prs::config_detail {

// One value as the user wrote it, with where it came from.
struct RawValue {
  std::string key;          // dotted job-file key ("retry_settings.timeout") or program-argument name ("error_threshold")
  std::string text;         // the scalar's text; empty for a section
  std::string where;        // error location: "job.yml:12", "job.yml" or "--set retry_settings.timeout=-5"
  std::string shown_key;    // the key as errors name it: "task.program_arguments: --error_threshold"
  std::string origin;       // ResolvedSetting::origin: "job.yml:12", "--set", "program_arguments (job.yml:30)"
  bool from_set = false;    // given with --set
  bool is_section = false;  // a YAML map (task, inputs.x, ...), kept for its line
};

// The job's values by source, before conversion.
struct Sources {
  std::vector<RawValue> file;   // YAML leaves and sections in file order; --set of job-file keys replaced or appended
  std::vector<RawValue> knobs;  // prs_mpi's settings read from program_arguments; --set of their names over them
};

// A declared input or output, resolved.
struct Port {
  std::string group;  // "inputs" or "outputs"
  std::string name;   // the name bindings use: ${{inputs.NAME}}
  std::string type;   // uri_folder or uri_file
  std::string path;   // absolute
};

// The text as errors show it after "got": "nothing" when empty.
std::string shown(const std::string& text);

// base / path, normalised, without a trailing '/'.
std::string absolute_in(const std::string& base, const std::string& path);

// The absolute path a path value names (relative to base); fails on an empty or cloud ("azureml:", "https://") one.
std::string local_path(const RawValue& value, const std::string& text, const std::string& base);

// Every declared input and output, in file order, with absolute paths; inputs must exist as their type says.
std::vector<Port> read_ports(const std::vector<RawValue>& file, const std::string& job_dir);

// Throws prs::Error "WHERE: KEY: problem" for this value.
[[noreturn]] void fail(const RawValue& value, const std::string& problem);

// The value with this key, or nullptr.
const RawValue* find(const std::vector<RawValue>& values, const std::string& key);

// Replaces the value with the same key (keeping its place) or appends it.
void put(std::vector<RawValue>& values, const RawValue& value);

// The canonical name of one of prs_mpi's program-argument settings ("error_threshold"), or nullptr if `name` is none.
// The one place where argument names are looked up.
const char* knob_named(const std::string& name);

// prs_mpi's settings found in the split program_arguments (`--name value` or `--name=value`; the last one wins).
std::vector<RawValue> read_knobs(const std::vector<std::string>& arguments, const RawValue& program_arguments);

// Converts every scalar setting (counts, ranges, flags, levels) into config, appending to config.resolved.
void apply_settings(const Sources& sources, JobConfig& config);

// The final value of a setting already in config.resolved (e.g. "append_row_file_name").
const std::string& resolved_value(const JobConfig& config, const std::string& key);

// The value's text with every ${{inputs.X}} / ${{outputs.X}} replaced by that port's absolute path.
std::string substitute(const RawValue& value, const std::vector<Port>& ports);

// The port when the value is exactly one binding ("${{inputs.data}}"), else nullptr; fails on an unknown name.
const Port* bound_port(const RawValue& value, const std::vector<Port>& ports);

}  // namespace prs::config_detail
