// The job's values: scalar conversion and ranges, program-argument settings, inputs/outputs and ${{...}} bindings.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdint>
#include <filesystem>

#include "prs/config_values.hpp"
#include "prs/error.hpp"
#include "prs/size.hpp"

namespace fs = std::filesystem;

namespace prs::config_detail {
namespace {

// An integer interval; low is excluded when low_open ("(0, 259200]").
struct IntRange {
  std::int64_t low;
  bool low_open;
  std::int64_t high;
};

constexpr IntRange from_minus_one{-1, false, INT_MAX};
constexpr IntRange from_zero{0, false, INT_MAX};
constexpr IntRange from_one{1, false, INT_MAX};
constexpr IntRange percent{0, false, 100};
constexpr IntRange seconds{0, true, 259200};  // (0, 3 days]

std::string range_text(const IntRange& range) {
  return (range.low_open ? "(" : "[") + std::to_string(range.low) + ", " + std::to_string(range.high) + "]";
}

bool is_whole_number(const std::string& text) {
  const std::size_t start = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
  if (start == text.size()) return false;
  for (std::size_t i = start; i < text.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(text[i])) == 0) return false;
  }
  return true;
}

std::int64_t to_int(const RawValue& value, const IntRange& range) {
  const std::string& text = value.text;
  if (!is_whole_number(text)) fail(value, "must be a whole number in " + range_text(range) + ", got " + shown(text));
  const char* first = text.data() + (text[0] == '+' ? 1 : 0);
  std::int64_t number = 0;
  const auto [end, error] = std::from_chars(first, text.data() + text.size(), number);
  const bool in_range = error == std::errc() && (range.low_open ? number > range.low : number >= range.low) &&
                        number <= range.high;
  if (!in_range) fail(value, "must be in " + range_text(range) + ", got " + text);
  return number;
}

int to_small_int(const RawValue& value, const IntRange& range) { return static_cast<int>(to_int(value, range)); }

bool to_bool(const RawValue& value) {
  std::string lower = value.text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "true") return true;
  if (lower == "false") return false;
  fail(value, "must be True or False, got " + shown(value.text));
}

std::string shown_bool(bool flag) { return flag ? "True" : "False"; }

std::string to_logging_level(const RawValue& value) {
  std::string upper = value.text;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != "INFO" && upper != "WARNING" && upper != "DEBUG") {
    fail(value, "must be INFO, WARNING or DEBUG, got " + shown(value.text));
  }
  return upper;
}

std::string to_file_name(const RawValue& value) {
  const std::string& name = value.text;
  if (name.empty() || name == "." || name == ".." || name.find('/') != std::string::npos) {
    fail(value, "must be a plain file name without '/', got " + shown(name));
  }
  return name;
}

// mini_batch_size for a file list: a count of files; a size with a unit ("10kb") is for tabular input.
std::string apply_mini_batch_size(JobConfig& config, const RawValue& value) {
  const bool has_unit = !value.text.empty() && std::isalpha(static_cast<unsigned char>(value.text.back())) != 0;
  bool is_size = false;
  try {
    is_size = has_unit && parse_size(value.text) > 0;
  } catch (const Error&) {
  }
  if (is_size) {
    fail(value, "must be a count of files for a file list input (sizes such as 10kb are for tabular input), got " +
                    value.text);
  }
  try {
    config.mini_batch_size = parse_count(value.text);
  } catch (const Error& error) {
    fail(value, error.what());
  }
  return std::to_string(config.mini_batch_size);
}

// Converts one value into config and returns it as --dry-run shows it.
using Apply = std::string (*)(JobConfig&, const RawValue&);

// One scalar setting: its job-file key and/or program-argument name, what is shown when unset, its conversion.
struct Setting {
  const char* yaml_key;       // nullptr when only a program argument
  const char* knob;           // nullptr when only a job-file key
  const char* default_shown;  // nullptr: not listed when unset
  Apply apply;
};

// The table of scalar settings, in the order --dry-run lists them.
const Setting settings[] = {
    {"name", nullptr, nullptr, [](JobConfig&, const RawValue& v) { return v.text; }},
    {"mini_batch_size", nullptr, "10", apply_mini_batch_size},
    {"resources.instance_count", nullptr, "1",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.instance_count = to_small_int(v, from_one)); }},
    {"max_concurrency_per_instance", nullptr, "0",
     [](JobConfig& c, const RawValue& v) {
       return std::to_string(c.max_concurrency_per_instance = to_small_int(v, from_one));
     }},
    {"mini_batch_error_threshold", nullptr, "-1",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.mini_batch_error_threshold = to_int(v, from_minus_one)); }},
    {"retry_settings.max_retries", nullptr, "2",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.max_retries = to_small_int(v, from_zero)); }},
    {"retry_settings.timeout", nullptr, "60",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.timeout = to_small_int(v, seconds)); }},
    {"logging_level", "logging_level", "INFO",
     [](JobConfig& c, const RawValue& v) { return c.logging_level = to_logging_level(v); }},
    {nullptr, "error_threshold", "-1",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.error_threshold = to_int(v, from_minus_one)); }},
    {nullptr, "allowed_failed_percent", "100",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.allowed_failed_percent = to_small_int(v, percent)); }},
    {nullptr, "task_overhead_timeout", "600",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.task_overhead_timeout = to_small_int(v, seconds)); }},
    {nullptr, "progress_update_timeout", "0",
     [](JobConfig& c, const RawValue& v) {
       return std::to_string(c.progress_update_timeout = to_small_int(v, seconds));
     }},
    {nullptr, "first_task_creation_timeout", "600",
     [](JobConfig& c, const RawValue& v) {
       return std::to_string(c.first_task_creation_timeout = to_small_int(v, seconds));
     }},
    {nullptr, "resource_monitor_interval", "600",
     [](JobConfig& c, const RawValue& v) {
       return std::to_string(c.resource_monitor_interval = to_small_int(v, from_zero));
     }},
    {nullptr, "copy_logs_to_parent", "False",
     [](JobConfig& c, const RawValue& v) { return shown_bool(c.copy_logs_to_parent = to_bool(v)); }},
    {nullptr, "append_row_file_name", "parallel_run_step.txt", [](JobConfig&, const RawValue& v) { return to_file_name(v); }},
    {nullptr, "append_row_dataframe_header", "False",
     [](JobConfig& c, const RawValue& v) { return shown_bool(c.append_row_dataframe_header = to_bool(v)); }},
};

// The value that wins for a setting: --set, then program_arguments, then the job file.
const RawValue* pick(const Sources& sources, const Setting& setting) {
  const RawValue* in_file = setting.yaml_key != nullptr ? find(sources.file, setting.yaml_key) : nullptr;
  if (in_file != nullptr && in_file->from_set) return in_file;
  const RawValue* in_arguments = setting.knob != nullptr ? find(sources.knobs, setting.knob) : nullptr;
  return in_arguments != nullptr ? in_arguments : in_file;
}

std::string trimmed(const std::string& text) {
  const std::size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// The port that "inputs.NAME" or "outputs.NAME" (the inside of a ${{...}}) names; fails naming the declared ones.
const Port& port_for(const RawValue& value, const std::string& inner, const std::vector<Port>& ports) {
  const std::size_t dot = inner.find('.');
  const std::string group = inner.substr(0, dot);
  if (dot == std::string::npos || (group != "inputs" && group != "outputs")) {
    fail(value, "${{" + inner + "}}: unknown binding; use ${{inputs.NAME}} or ${{outputs.NAME}}");
  }
  const std::string name = inner.substr(dot + 1);
  std::string declared;
  for (const Port& port : ports) {
    if (port.group != group) continue;
    if (port.name == name) return port;
    declared += (declared.empty() ? "" : ", ") + port.name;
  }
  const std::string what = group == "inputs" ? "input" : "output";
  fail(value, "${{" + inner + "}}: no " + what + " named " + name +
                  (declared.empty() ? "; no " + group + " are declared" : "; declared " + group + ": " + declared));
}

// An argument that argparse would take for an option rather than a value ("-1" is a value).
bool looks_like_option(const std::string& argument) {
  return argument.size() > 1 && argument[0] == '-' && std::isdigit(static_cast<unsigned char>(argument[1])) == 0;
}

// Whether path exists as what the port type says; fails naming the path otherwise.
void check_input_exists(const RawValue& value, const Port& port) {
  std::error_code ignored;
  const fs::file_status status = fs::status(port.path, ignored);
  if (!fs::exists(status)) fail(value, port.path + " does not exist");
  if (port.type == "uri_folder" && !fs::is_directory(status)) {
    fail(value, port.path + " is not a folder; use type: uri_file for one file");
  }
  if (port.type == "uri_file" && !fs::is_regular_file(status)) {
    fail(value, port.path + " is not a file; use type: uri_folder for a folder");
  }
}

void check_port_type(const RawValue& type, const std::string& group) {
  if (type.text == "uri_folder" || type.text == "uri_file") return;
  if (group == "inputs" && type.text == "mltable") {
    fail(type, "tabular input (type: mltable) is not supported yet; use uri_folder or uri_file");
  }
  fail(type, "must be uri_folder or uri_file, got " + shown(type.text));
}

// One input or output: type (default uri_folder) and absolute path (outputs default to <job dir>/outputs/NAME).
Port read_port(const std::vector<RawValue>& file, const std::string& group, const std::string& name,
               const std::string& job_dir) {
  const std::string key = group + "." + name;
  const RawValue* type = find(file, key + ".type");
  const RawValue* path = find(file, key + ".path");
  if (type != nullptr) check_port_type(*type, group);
  Port port{group, name, type != nullptr ? type->text : "uri_folder", ""};
  if (path != nullptr) {
    port.path = local_path(*path, path->text, job_dir);
  } else if (group == "outputs") {
    port.path = absolute_in(job_dir, "outputs/" + name);
  } else {
    const RawValue* section = find(file, key);
    fail(section != nullptr ? *section : *type, "needs a path: the folder or file to read");
  }
  if (group == "inputs") check_input_exists(*path, port);
  return port;
}

}  // namespace

// Base / path, normalised, without a trailing '/'.
std::string absolute_in(const std::string& base, const std::string& path) {
  std::string result = (fs::path(base) / path).lexically_normal().string();
  while (result.size() > 1 && result.back() == '/') result.pop_back();
  return result;
}

// The absolute path a path value names (relative to base); fails on an empty or cloud location.
std::string local_path(const RawValue& value, const std::string& text, const std::string& base) {
  if (text.empty()) fail(value, "must be a path, got nothing");
  if (text.find("://") != std::string::npos || text.rfind("azureml:", 0) == 0) {
    fail(value, "must be a local path, got " + text);
  }
  return absolute_in(base, text);
}

// Every declared input and output, in file order.
std::vector<Port> read_ports(const std::vector<RawValue>& file, const std::string& job_dir) {
  std::vector<Port> ports;
  for (const RawValue& value : file) {
    for (const std::string group : {"inputs", "outputs"}) {
      if (value.key.rfind(group + ".", 0) != 0) continue;
      const std::size_t start = group.size() + 1;
      const std::string name = value.key.substr(start, value.key.find('.', start) - start);
      const bool seen = std::any_of(ports.begin(), ports.end(),
                                    [&](const Port& port) { return port.group == group && port.name == name; });
      if (!seen) ports.push_back(read_port(file, group, name, job_dir));
    }
  }
  return ports;
}

std::string shown(const std::string& text) { return text.empty() ? "nothing" : text; }

void fail(const RawValue& value, const std::string& problem) {
  throw Error(value.where + ": " + value.shown_key + ": " + problem);
}

const RawValue* find(const std::vector<RawValue>& values, const std::string& key) {
  for (const RawValue& value : values) {
    if (value.key == key) return &value;
  }
  return nullptr;
}

void put(std::vector<RawValue>& values, const RawValue& value) {
  for (RawValue& existing : values) {
    if (existing.key == value.key) {
      existing = value;
      return;
    }
  }
  values.push_back(value);
}

const char* knob_named(const std::string& name) {
  for (const Setting& setting : settings) {
    if (setting.knob != nullptr && name == setting.knob) return setting.knob;
  }
  return nullptr;
}

std::vector<RawValue> read_knobs(const std::vector<std::string>& arguments, const RawValue& program_arguments) {
  std::vector<RawValue> knobs;
  for (std::size_t i = 0; i < arguments.size() && arguments[i] != "--"; ++i) {
    const std::string& argument = arguments[i];
    if (argument.rfind("--", 0) != 0) continue;
    const std::size_t equals = argument.find('=');
    const std::string written = argument.substr(0, equals);
    const char* knob = knob_named(written.substr(2));
    if (knob == nullptr) continue;
    RawValue value{knob, "", program_arguments.where, program_arguments.shown_key + ": " + written,
                   "program_arguments (" + program_arguments.origin + ")"};
    if (equals != std::string::npos) {
      value.text = argument.substr(equals + 1);
    } else if (i + 1 < arguments.size() && !looks_like_option(arguments[i + 1])) {
      value.text = arguments[++i];
    } else {
      fail(value, "expects a value, e.g. " + written + "=VALUE");
    }
    put(knobs, value);
  }
  return knobs;
}

void apply_settings(const Sources& sources, JobConfig& config) {
  for (const Setting& setting : settings) {
    const RawValue* value = pick(sources, setting);
    if (value == nullptr && setting.default_shown == nullptr) continue;
    const std::string key = setting.yaml_key != nullptr ? setting.yaml_key : setting.knob;
    if (value != nullptr) {
      config.resolved.push_back({key, setting.apply(config, *value), value->origin});
    } else {
      config.resolved.push_back({key, setting.default_shown, "default"});
    }
  }
}

const std::string& resolved_value(const JobConfig& config, const std::string& key) {
  for (const ResolvedSetting& setting : config.resolved) {
    if (setting.key == key) return setting.value;
  }
  throw Fatal("internal error: setting " + key + " was not resolved");
}

std::string substitute(const RawValue& value, const std::vector<Port>& ports) {
  const std::string& text = value.text;
  std::string result;
  std::size_t from = 0;
  for (std::size_t open = text.find("${{"); open != std::string::npos; open = text.find("${{", from)) {
    const std::size_t close = text.find("}}", open + 3);
    if (close == std::string::npos) fail(value, "unterminated ${{ in: " + text);
    result.append(text, from, open - from);
    result += port_for(value, trimmed(text.substr(open + 3, close - open - 3)), ports).path;
    from = close + 2;
  }
  return result.append(text, from);
}

const Port* bound_port(const RawValue& value, const std::vector<Port>& ports) {
  const std::string text = trimmed(value.text);
  const bool one_binding = text.size() > 5 && text.compare(0, 3, "${{") == 0 &&
                           text.compare(text.size() - 2, 2, "}}") == 0 && text.find("}}") == text.size() - 2;
  if (!one_binding) return nullptr;
  return &port_for(value, trimmed(text.substr(3, text.size() - 5)), ports);
}

}  // namespace prs::config_detail
