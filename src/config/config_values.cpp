// The job's scalar settings: conversion and ranges, program-argument settings, values given twice.
#include <algorithm>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <unordered_map>

#include <yaml-cpp/yaml.h>

#include "prs/config/config_keys.hpp"
#include "prs/config/config_values.hpp"
#include "prs/config/size.hpp"
#include "prs/error.hpp"

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

// A job-file flag of ours (ordered): YAML's true or false.
std::string to_yaml_bool(const RawValue& value, bool& flag) {
  std::string lower = value.text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower != "true" && lower != "false") fail(value, "must be true or false, got " + shown(value.text));
  flag = lower == "true";
  return lower;
}

// retry_settings.max_retries, or run_max_try (v1: tries = retries + 1, in [1, int max]).
std::string apply_max_retries(JobConfig& config, const RawValue& value) {
  config.max_retries = value.counts_tries ? to_small_int(value, from_one) - 1 : to_small_int(value, from_zero);
  return std::to_string(config.max_retries);
}

std::string to_logging_level(const RawValue& value) {
  std::string upper = value.text;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper != "INFO" && upper != "WARNING" && upper != "DEBUG" && upper != "ERROR") {
    fail(value, "must be DEBUG, INFO, WARNING or ERROR, got " + shown(value.text));
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

// mini_batch_size: a count of files ("10") or a size for tables ("10kb", "1MB"; a count is bytes there). Whether a
// size is allowed is known once the input is: a file list refuses it (see resolve_input_data).
std::string apply_mini_batch_size(JobConfig& config, const RawValue& value) {
  config.mini_batch_size_location = value.where + ": " + value.shown_key;
  config.mini_batch_size_is_size = is_size_text(value.text);
  if (config.mini_batch_size_is_size && config.input_kind == InputKind::file_list) {  // no mltable input declared
    fail(value, "must be a count of files for a file list input (sizes such as 10kb are for tabular input), got " +
                    value.text);
  }
  try {
    if (config.mini_batch_size_is_size) {
      config.mini_batch_bytes = parse_size(value.text);
      return value.text;
    }
  } catch (const Error& error) {
    config.mini_batch_size_problem = value.where + ": " + value.shown_key + ": " + error.what();
    return value.text;
  }
  try {
    config.mini_batch_size = parse_count(value.text, max_mini_batch_size);
    config.mini_batch_bytes = config.mini_batch_size;
  } catch (const Error& error) {
    fail(value, error.what());
  }
  return std::to_string(config.mini_batch_size);
}

// partition_keys: a list of key names ("[Store, Brand]", also the JSON dump '["Store", "Brand"]' that v1's
// PipelineParameter form writes), each non-empty and given once.
std::string apply_partition_keys(JobConfig& config, const RawValue& value) {
  YAML::Node node;
  try {
    node = YAML::Load(value.text);
  } catch (const YAML::Exception&) {
  }
  const std::string expected = "must be a list of strings such as [Store, Brand], got " + shown(value.text);
  if (!node.IsSequence() || node.size() == 0) fail(value, expected);
  config.partition_keys.clear();
  std::string text;
  for (const YAML::Node& key : node) {
    if (!key.IsScalar() || key.Scalar().empty()) fail(value, expected);
    if (std::find(config.partition_keys.begin(), config.partition_keys.end(), key.Scalar()) !=
        config.partition_keys.end())
      fail(value, "names " + key.Scalar() + " twice");
    config.partition_keys.push_back(key.Scalar());
    text += (text.empty() ? "[" : ", ") + key.Scalar();
  }
  config.partition_keys_location = value.where + ": " + value.shown_key;
  return text + "]";
}

// max_memory_per_child: a size ("4GB", "512mb"; 1 kb = 1024 bytes) or 0 for no limit.
std::string apply_memory_limit(JobConfig& config, const RawValue& value) {
  if (value.text == "0") {
    config.max_memory_per_child = 0;
    return "0";
  }
  try {
    config.max_memory_per_child = parse_size(value.text);
  } catch (const Error& error) {
    fail(value, error.what());
  }
  return value.text;
}

// Converts one value into config and returns it as --dry-run shows it.
using Apply = std::string (*)(JobConfig&, const RawValue&);

// One scalar setting: its key (job-file key or program-argument name), whether program_arguments may give it, what
// is shown when unset, its conversion.
struct Setting {
  const char* key;
  bool knob;                  // also read from program_arguments (--key)
  const char* default_shown;  // nullptr: not listed when unset
  Apply apply;
};

// The table of scalar settings, in the order --dry-run lists them.
const Setting settings[] = {
    {"name", false, nullptr, [](JobConfig&, const RawValue& v) { return v.text; }},
    {"mini_batch_size", false, "10", apply_mini_batch_size},
    {"mini_batch_row_size", false, nullptr,
     [](JobConfig& c, const RawValue& v) {
       return std::to_string(c.mini_batch_row_size = static_cast<std::uint64_t>(to_int(v, from_one)));
     }},
    {"partition_keys", false, nullptr, apply_partition_keys},
    {"resources.instance_count", false, "1",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.instance_count = to_small_int(v, from_one)); }},
    {"max_concurrency_per_instance", false, "0",
     [](JobConfig& c, const RawValue& v) {
       return std::to_string(c.max_concurrency_per_instance = to_small_int(v, from_one));
     }},
    {"mini_batch_error_threshold", false, "-1",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.mini_batch_error_threshold = to_int(v, from_minus_one)); }},
    {"retry_settings.max_retries", false, "2", apply_max_retries},
    {"retry_settings.timeout", false, "60",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.timeout = to_small_int(v, seconds)); }},
    {"logging_level", true, "INFO", [](JobConfig& c, const RawValue& v) { return c.logging_level = to_logging_level(v); }},
    {"error_threshold", true, "-1",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.error_threshold = to_int(v, from_minus_one)); }},
    {"allowed_failed_percent", true, "100",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.allowed_failed_percent = to_small_int(v, percent)); }},
    {"task_overhead_timeout", true, "600",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.task_overhead_timeout = to_small_int(v, seconds)); }},
    {"progress_update_timeout", true, "0",
     [](JobConfig& c, const RawValue& v) {
       return std::to_string(c.progress_update_timeout = to_small_int(v, seconds));
     }},
    {"first_task_creation_timeout", true, "600",
     [](JobConfig& c, const RawValue& v) {
       return std::to_string(c.first_task_creation_timeout = to_small_int(v, seconds));
     }},
    {"resource_monitor_interval", true, "600",
     [](JobConfig& c, const RawValue& v) {
       return std::to_string(c.resource_monitor_interval = to_small_int(v, from_zero));
     }},
    {"copy_logs_to_parent", true, "False",
     [](JobConfig& c, const RawValue& v) { return shown_bool(c.copy_logs_to_parent = to_bool(v)); }},
    {"append_row_file_name", true, "parallel_run_step.txt", [](JobConfig&, const RawValue& v) { return to_file_name(v); }},
    {"append_row_dataframe_header", true, "False",
     [](JobConfig& c, const RawValue& v) { return shown_bool(c.append_row_dataframe_header = to_bool(v)); }},
    {"ordered", false, "false", [](JobConfig& c, const RawValue& v) { return to_yaml_bool(v, c.ordered); }},
    {"max_tasks_per_child", false, "0",
     [](JobConfig& c, const RawValue& v) { return std::to_string(c.max_tasks_per_child = to_small_int(v, from_zero)); }},
    {"max_memory_per_child", false, "0", apply_memory_limit},
    {"quarantine_after_failures", false, "5",
     [](JobConfig& c, const RawValue& v) {
       return std::to_string(c.quarantine_after_failures = to_small_int(v, from_zero));
     }},
    {"skip_unreadable_inputs", false, nullptr,
     [](JobConfig& c, const RawValue& v) { return to_yaml_bool(v, c.skip_unreadable_inputs); }},
};

const Setting* setting_for(const std::string& key) {
  for (const Setting& setting : settings) {
    if (key == setting.key) return &setting;
  }
  return nullptr;
}

// The value that wins for a setting: --set, then program_arguments, then the job file (once they agree).
const RawValue* pick(const Sources& sources, const Setting& setting) {
  const RawValue* in_file = find(sources.file, setting.key);
  if (in_file != nullptr && in_file->from_set) return in_file;
  const RawValue* in_arguments = setting.knob ? find(sources.knobs, setting.key) : nullptr;
  return in_arguments != nullptr ? in_arguments : in_file;
}

// An argument that argparse would take for an option rather than a value ("-1" is a value).
bool looks_like_option(const std::string& argument) {
  return argument.size() > 1 && argument[0] == '-' && std::isdigit(static_cast<unsigned char>(argument[1])) == 0;
}

// What a value means, for comparing two places that give the same setting: its converted value for a scalar
// setting (run_max_try 3 -> 2, debug -> DEBUG), its normalised text for a path.
std::string meaning(const RawValue& value) {
  if (const Setting* setting = setting_for(value.key)) {
    JobConfig scratch;
    return setting->apply(scratch, value);
  }
  std::string path = fs::path(value.text).lexically_normal().string();
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

// Fails at the later of two places that give the same setting when they mean different values.
void check_same(const RawValue& first, const RawValue& second) {
  const std::string first_meaning = meaning(first);
  const std::string second_meaning = meaning(second);
  if (first_meaning == second_meaning) return;
  const bool second_is_later = second.line >= first.line;
  const RawValue& later = second_is_later ? second : first;
  const RawValue& earlier = second_is_later ? first : second;
  fail(later, "gives " + later.key + " = " + (second_is_later ? second_meaning : first_meaning) + ", but " +
                  earlier.where + " (" + earlier.shown_key + ") gives " +
                  (second_is_later ? first_meaning : second_meaning) + "; keep one of them");
}

}  // namespace

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
  bool placed = false;
  std::vector<RawValue> kept;
  for (RawValue& existing : values) {
    if (existing.key != value.key) {
      kept.push_back(std::move(existing));
    } else if (!placed) {
      kept.push_back(value);
      placed = true;
    }
  }
  if (!placed) kept.push_back(value);
  values = std::move(kept);
}

std::vector<RawValue> read_knobs(const std::vector<std::string>& arguments, const RawValue& program_arguments) {
  std::vector<RawValue> knobs;
  for (std::size_t i = 0; i < arguments.size() && arguments[i] != "--"; ++i) {
    const std::string& argument = arguments[i];
    if (argument.rfind("--", 0) != 0) continue;
    const std::size_t equals = argument.find('=');
    const std::string written = argument.substr(0, equals);
    const config_keys::KnobMatch match = config_keys::match_knob(written.substr(2));
    RawValue value{match.knob, "", program_arguments.where, program_arguments.shown_key + ": " + written,
                   "program_arguments (" + program_arguments.origin + ")", program_arguments.from_set};
    value.line = program_arguments.line;
    if (!match.ambiguous.empty()) {
      std::string candidates;
      for (const std::string& knob : match.ambiguous) candidates += (candidates.empty() ? "--" : ", --") + knob;
      fail(value, "ambiguous; could be " + candidates);
    }
    if (match.knob.empty()) continue;  // the script's own argument
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

void merge_repeated(std::vector<RawValue>& file) {
  std::unordered_map<std::string, std::size_t> first;  // key -> its index in kept
  first.reserve(file.size());
  std::vector<RawValue> kept;
  kept.reserve(file.size());
  for (RawValue& value : file) {
    const auto [at, added] = first.emplace(value.key, kept.size());
    if (added) {
      kept.push_back(std::move(value));
    } else if (!kept[at->second].is_section && !value.is_section) {
      check_same(kept[at->second], value);
    }
  }
  file = std::move(kept);
}

void check_argument_conflicts(const Sources& sources) {
  for (const Setting& setting : settings) {
    if (!setting.knob) continue;
    const RawValue* in_file = find(sources.file, setting.key);
    const RawValue* in_arguments = find(sources.knobs, setting.key);
    if (in_file == nullptr || in_arguments == nullptr || in_file->from_set || in_arguments->from_set) continue;
    check_same(*in_file, *in_arguments);
  }
}

void apply_settings(const Sources& sources, JobConfig& config) {
  for (const Setting& setting : settings) {
    const RawValue* value = pick(sources, setting);
    if (value == nullptr && setting.default_shown == nullptr) continue;
    if (value != nullptr) {
      config.resolved.push_back({setting.key, setting.apply(config, *value), value->origin});
    } else {
      config.resolved.push_back({setting.key, setting.default_shown, "default"});
    }
  }
}

const std::string& resolved_value(const JobConfig& config, const std::string& key) {
  for (const ResolvedSetting& setting : config.resolved) {
    if (setting.key == key) return setting.value;
  }
  throw Fatal("internal error: setting " + key + " was not resolved");
}

}  // namespace prs::config_detail
