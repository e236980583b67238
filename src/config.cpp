// The job YAML: reading, known keys, --set, inputs and outputs, paths. Scalar conversion is in config_values.cpp.
#include "prs/config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>

#include "prs/config_values.hpp"
#include "prs/error.hpp"
#include "prs/shell_split.hpp"

namespace fs = std::filesystem;

namespace prs {
namespace {

using config_detail::absolute_in;
using config_detail::bound_port;
using config_detail::fail;
using config_detail::local_path;
using config_detail::find;
using config_detail::Port;
using config_detail::read_ports;
using config_detail::RawValue;
using config_detail::shown;
using config_detail::Sources;
using config_detail::substitute;

// A key a job file may hold, and what its value must be; "*" stands for any one name. Sections (task, inputs.NAME)
// are the prefixes of these keys. This list alone decides which keys are unknown.
struct KnownKey {
  const char* pattern;
  const char* expected;  // for "must be ..., got a map"
};

const KnownKey known_keys[] = {
    {"type", "a string"},
    {"name", "a string"},
    {"inputs.*.type", "a string"},
    {"inputs.*.path", "a path"},
    {"outputs.*.type", "a string"},
    {"outputs.*.path", "a path"},
    {"input_data", "a path or ${{inputs.NAME}}"},
    {"mini_batch_size", "a count of files"},
    {"resources.instance_count", "a whole number"},
    {"max_concurrency_per_instance", "a whole number"},
    {"mini_batch_error_threshold", "a whole number"},
    {"retry_settings.max_retries", "a whole number"},
    {"retry_settings.timeout", "a whole number"},
    {"logging_level", "INFO, WARNING or DEBUG"},
    {"environment_variables.*", "a string"},
    {"output_action", "append_row or summary_only"},
    {"task.type", "a string"},
    {"task.code", "a path"},
    {"task.entry_script", "a path"},
    {"task.program_arguments", "a string"},
    {"task.append_row_to", "a path"},
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

// Whether the key's segments match the pattern's first ones (the whole pattern when `whole`).
bool matches(const KnownKey& known, const std::string& key, bool whole) {
  const std::vector<std::string> pattern = segments(known.pattern);
  const std::vector<std::string> parts = segments(key);
  if (whole ? pattern.size() != parts.size() : pattern.size() <= parts.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (pattern[i] != "*" && pattern[i] != parts[i]) return false;
  }
  return true;
}

// The known key a scalar may be given for, or nullptr.
const KnownKey* leaf_key(const std::string& key) {
  for (const KnownKey& known : known_keys) {
    if (matches(known, key, true)) return &known;
  }
  return nullptr;
}

bool is_section(const std::string& key) {
  return std::any_of(std::begin(known_keys), std::end(known_keys),
                     [&](const KnownKey& known) { return matches(known, key, false); });
}

// What a YAML node holds, for "got ...".
std::string node_kind(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return shown(node.IsScalar() ? node.Scalar() : "");
}

void read_map(const YAML::Node& map, const std::string& prefix, const std::string& job_name,
              std::vector<RawValue>& values);

// Reads one key of the job file (and a section's keys); fails on an unknown key or a value of the wrong shape.
void read_entry(const YAML::Node& key_node, const YAML::Node& node, const std::string& key,
                const std::string& job_name, std::vector<RawValue>& values) {
  const int line = (node.IsScalar() ? node.Mark().line : key_node.Mark().line) + 1;  // yaml-cpp counts from 0
  const std::string where = job_name + ":" + std::to_string(line);
  RawValue value{key, "", where, key, where};
  if (const RawValue* earlier = find(values, key)) fail(value, "given twice (also at " + earlier->where + ")");
  if (const KnownKey* leaf = leaf_key(key)) {
    if (!node.IsScalar()) fail(value, std::string("must be ") + leaf->expected + ", got " + node_kind(node));
    value.text = node.Scalar();
  } else if (is_section(key)) {
    if (!node.IsMap() && !node.IsNull()) fail(value, "must be a map of keys, got " + node_kind(node));
    value.is_section = true;
  } else {
    fail(value, "unknown key; remove it or check its spelling");
  }
  values.push_back(value);
  if (node.IsMap()) read_map(node, key, job_name, values);
}

void read_map(const YAML::Node& map, const std::string& prefix, const std::string& job_name,
              std::vector<RawValue>& values) {
  for (const auto& item : map) {
    const std::string name = item.first.Scalar();
    read_entry(item.first, item.second, prefix.empty() ? name : prefix + "." + name, job_name, values);
  }
}

std::string read_text(const std::string& path) {
  std::error_code ignored;
  if (fs::is_directory(path, ignored)) throw Error(path + ": cannot read the job file: " + std::strerror(EISDIR));
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw Error(path + ": cannot read the job file: " + std::strerror(errno));
  std::string text;
  char buffer[65536];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, file)) > 0;) text.append(buffer, n);
  const int error = std::ferror(file) != 0 ? errno : 0;
  std::fclose(file);
  if (error != 0) throw Error(path + ": cannot read the job file: " + std::strerror(error));
  return text;
}

// The job file's keys and scalars, in file order.
std::vector<RawValue> read_yaml(const std::string& text, const std::string& job_name) {
  YAML::Node root;
  try {
    root = YAML::Load(text);
  } catch (const YAML::Exception& e) {
    throw Error(job_name + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1) +
                ": invalid YAML: " + e.msg);
  }
  if (root.IsNull()) throw Error(job_name + ": the job file is empty; it needs type: parallel, inputs, task...");
  if (!root.IsMap()) {
    throw Error(job_name + ":" + std::to_string(root.Mark().line + 1) + ": the job file must be a map of keys " +
                "(type: parallel, inputs: ..., task: ...), got " + node_kind(root));
  }
  std::vector<RawValue> values;
  read_map(root, "", job_name, values);
  return values;
}

// Puts each --set over the job file's key, or returns it when it names one of prs_mpi's program arguments.
std::vector<RawValue> apply_sets(const std::vector<std::string>& sets, std::vector<RawValue>& file) {
  std::vector<RawValue> argument_sets;
  for (const std::string& set : sets) {
    const std::size_t equals = set.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw Error("--set " + set + ": expected key=value, e.g. --set mini_batch_size=100");
    }
    const std::string key = set.substr(0, equals);
    RawValue value{key, set.substr(equals + 1), "--set " + set, key, "--set", true};
    if (leaf_key(key) != nullptr) {
      config_detail::put(file, value);
    } else if (const char* knob = config_detail::knob_named(key)) {
      value.key = knob;
      argument_sets.push_back(value);
    } else {
      fail(value, "unknown setting; give a job file key (mini_batch_size, retry_settings.timeout, ...) "
                  "or a program_arguments setting (error_threshold, allowed_failed_percent, ...)");
    }
  }
  return argument_sets;
}

// A stand-in for a missing key, located at its section (or the file).
RawValue missing(const std::vector<RawValue>& file, const std::string& section, const std::string& key,
                 const std::string& job_name) {
  const RawValue* parent = section.empty() ? nullptr : find(file, section);
  return RawValue{key, "", parent != nullptr ? parent->where : job_name, key, ""};
}

void check_job_types(const std::vector<RawValue>& file, const std::string& job_name) {
  const RawValue* type = find(file, "type");
  if (type == nullptr) fail(missing(file, "", "type", job_name), "is required; prs_mpi runs type: parallel jobs");
  if (type->text != "parallel") fail(*type, "must be parallel, got " + shown(type->text));
  const RawValue* task_type = find(file, "task.type");
  if (task_type != nullptr && task_type->text != "run_function") {
    fail(*task_type, "must be run_function, got " + shown(task_type->text));
  }
}

std::string parent_of(const std::string& path) { return fs::path(path).parent_path().string(); }

// Splits task.program_arguments and reads prs_mpi's own settings from it; --set of those names wins.
std::optional<ResolvedSetting> read_program_arguments(Sources& sources, const std::vector<Port>& ports,
                                                      const std::vector<RawValue>& argument_sets, JobConfig& config) {
  std::optional<ResolvedSetting> resolved;
  if (const RawValue* arguments = find(sources.file, "task.program_arguments")) {
    const std::string text = substitute(*arguments, ports);
    try {
      config.program_arguments = shell_split(text);
    } catch (const Error& e) {
      fail(*arguments, e.what());
    }
    sources.knobs = config_detail::read_knobs(config.program_arguments, *arguments);
    resolved = ResolvedSetting{"task.program_arguments", text, arguments->origin};
  }
  for (const RawValue& set : argument_sets) config_detail::put(sources.knobs, set);
  return resolved;
}

void resolve_input_data(const Sources& sources, const std::vector<Port>& ports, const std::string& job_dir,
                        JobConfig& config) {
  const RawValue* value = find(sources.file, "input_data");
  if (value == nullptr) {
    fail(missing(sources.file, "", "input_data", config.job_name),
         "is required; bind it to one of the inputs, e.g. input_data: ${{inputs.input_data}}");
  }
  const Port* port = bound_port(*value, ports);
  if (port != nullptr && port->group == "inputs") {
    config.input_path = port->path;  // its existence was checked with the inputs
  } else {
    config.input_path = local_path(*value, substitute(*value, ports), job_dir);
    std::error_code ignored;
    if (!fs::exists(config.input_path, ignored)) fail(*value, config.input_path + " does not exist");
  }
  config.input_kind = InputKind::file_list;
  config.resolved.push_back({"input_data", config.input_path, value->origin});
}

void resolve_code(const Sources& sources, const std::vector<Port>& ports, const std::string& job_dir,
                  JobConfig& config) {
  std::error_code ignored;
  const RawValue* code = find(sources.file, "task.code");
  config.code_dir = code != nullptr ? local_path(*code, substitute(*code, ports), job_dir) : job_dir;
  if (code != nullptr && !fs::is_directory(config.code_dir, ignored)) {
    fail(*code, config.code_dir + (fs::exists(config.code_dir, ignored) ? " is not a folder" : " does not exist"));
  }
  const RawValue* entry = find(sources.file, "task.entry_script");
  if (entry == nullptr) {
    fail(missing(sources.file, "task", "task.entry_script", config.job_name),
         "is required; name the Python file that defines init() and run(), relative to task.code");
  }
  config.entry_script = local_path(*entry, substitute(*entry, ports), config.code_dir);
  if (!fs::is_regular_file(config.entry_script, ignored)) {
    fail(*entry, config.entry_script +
                     (fs::exists(config.entry_script, ignored) ? " is not a file" : " does not exist"));
  }
  config.resolved.push_back({"task.code", config.code_dir, code != nullptr ? code->origin : "default"});
  config.resolved.push_back({"task.entry_script", config.entry_script, entry->origin});
}

// The file rows are appended to: a folder (uri_folder output, existing folder, or ending in '/') gets file_name.
std::string append_file(const RawValue& append, const std::vector<Port>& ports, const std::string& job_dir,
                        const std::string& file_name) {
  const Port* port = bound_port(append, ports);
  if (port != nullptr && port->group == "outputs" && port->type == "uri_folder") {
    return (fs::path(port->path) / file_name).string();
  }
  const std::string text = substitute(append, ports);
  const std::string path = local_path(append, text, job_dir);
  std::error_code ignored;
  const bool folder = text.back() == '/' || fs::is_directory(path, ignored);
  return folder ? (fs::path(path) / file_name).string() : path;
}

void resolve_output(const Sources& sources, const std::vector<Port>& ports, const std::string& job_dir,
                    JobConfig& config) {
  const RawValue* action = find(sources.file, "output_action");
  if (action != nullptr && action->text != "append_row" && action->text != "summary_only") {
    fail(*action, "must be append_row or summary_only, got " + shown(action->text));
  }
  const RawValue* append = find(sources.file, "task.append_row_to");
  const bool summary_only = append == nullptr || (action != nullptr && action->text == "summary_only");
  config.output_action = summary_only ? OutputAction::summary_only : OutputAction::append_row;
  config.resolved.push_back(
      {"output_action", summary_only ? "summary_only" : "append_row", action != nullptr ? action->origin : "default"});
  if (summary_only) return;
  const std::string& file_name = config_detail::resolved_value(config, "append_row_file_name");
  config.append_row_file = append_file(*append, ports, job_dir, file_name);
  config.resolved.push_back({"task.append_row_to", config.append_row_file, append->origin});
}

void resolve_environment(const Sources& sources, const std::vector<Port>& ports, JobConfig& config) {
  const std::string prefix = "environment_variables.";
  for (const RawValue& value : sources.file) {
    if (value.key.rfind(prefix, 0) != 0) continue;
    const std::string name = value.key.substr(prefix.size());
    if (name.empty() || name.find('=') != std::string::npos) fail(value, "is not a valid variable name");
    const std::string text = substitute(value, ports);
    config.environment_variables.emplace_back(name, text);
    config.resolved.push_back({value.key, text, value.origin});
  }
}

// Output folders to create (deduplicated) and the log folder.
void resolve_folders(const CliOptions& cli, const std::vector<Port>& ports, const std::string& job_dir,
                     JobConfig& config) {
  auto add = [&config](const std::string& folder) {
    auto& folders = config.output_dirs;
    if (std::find(folders.begin(), folders.end(), folder) == folders.end()) folders.push_back(folder);
  };
  for (const Port& port : ports) {
    if (port.group == "outputs") add(port.type == "uri_folder" ? port.path : parent_of(port.path));
  }
  if (!config.append_row_file.empty()) add(parent_of(config.append_row_file));
  if (cli.log_dir) {
    config.log_dir = absolute_in(fs::current_path().string(), *cli.log_dir);
  } else {
    config.log_dir = (config.append_row_file.empty() ? job_dir : parent_of(config.append_row_file)) + "/logs";
  }
}

void add_port_settings(const Sources& sources, const std::vector<Port>& ports, JobConfig& config) {
  for (const Port& port : ports) {
    const RawValue* path = find(sources.file, port.group + "." + port.name + ".path");
    config.resolved.push_back(
        {port.group + "." + port.name + ".path", port.path, path != nullptr ? path->origin : "default"});
  }
}

}  // namespace

JobConfig load_job_config(const CliOptions& cli) {
  JobConfig config;
  config.job_name = cli.job_file;
  config.job_file = absolute_in(fs::current_path().string(), cli.job_file);
  const std::string job_dir = parent_of(config.job_file);
  Sources sources;
  sources.file = read_yaml(read_text(cli.job_file), config.job_name);
  const std::vector<RawValue> argument_sets = apply_sets(cli.sets, sources.file);
  check_job_types(sources.file, config.job_name);
  const std::vector<Port> ports = read_ports(sources.file, job_dir);
  const std::optional<ResolvedSetting> arguments = read_program_arguments(sources, ports, argument_sets, config);
  config_detail::apply_settings(sources, config);
  resolve_input_data(sources, ports, job_dir, config);
  add_port_settings(sources, ports, config);
  resolve_code(sources, ports, job_dir, config);
  if (arguments) config.resolved.push_back(*arguments);
  resolve_output(sources, ports, job_dir, config);
  resolve_environment(sources, ports, config);
  resolve_folders(cli, ports, job_dir, config);
  return config;
}

std::string journal_path(const JobConfig& config) { return config.log_dir + "/journal.bin"; }

}  // namespace prs
