// The job: reading it, --set, and resolving input, code, output, environment and folders. The YAML is read in
// config_yaml.cpp, scalar settings converted in config_values.cpp, inputs and outputs in config_ports.cpp.
#include "prs/config/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <optional>
#include <unordered_set>

#include "prs/config/config_keys.hpp"
#include "prs/config/config_values.hpp"
#include "prs/config/shell_split.hpp"
#include "prs/error.hpp"

namespace fs = std::filesystem;

namespace prs {
namespace {

using config_detail::absolute_in;
using config_detail::bound_port;
using config_detail::fail;
using config_detail::local_path;
using config_detail::find;
using config_detail::Port;
using config_detail::Ports;
using config_detail::read_ports;
using config_detail::RawValue;
using config_detail::shown;
using config_detail::Sources;
using config_detail::substitute;

// What a file that is not a regular file is, for "got ...".
std::string file_kind(mode_t mode) {
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  return "not a regular file";
}

// Closes a file descriptor when it goes out of scope.
struct FdCloser {
  int fd;
  ~FdCloser() { ::close(fd); }
};

[[noreturn]] void too_big(const std::string& path, const std::string& size) {
  throw Error(path + ": the job file must be at most " + std::to_string(max_job_file_bytes >> 20) + " MiB (" +
              std::to_string(max_job_file_bytes) + " bytes), got " + size + " bytes");
}

// The job file's text. Only a regular file of at most max_job_file_bytes is read: a device (/dev/zero), a FIFO or a
// folder is refused before any read, so no path can make this block or read without end.
std::string read_text(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);  // O_NONBLOCK: opening a FIFO never waits
  if (fd < 0) throw Error(path + ": cannot read the job file: " + std::strerror(errno));
  const FdCloser closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw Error(path + ": cannot read the job file: " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) throw Error(path + ": cannot read the job file: " + std::strerror(EISDIR));
  if (!S_ISREG(st.st_mode)) throw Error(path + ": the job file must be a regular file, got " + file_kind(st.st_mode));
  if (static_cast<std::uint64_t>(st.st_size) > max_job_file_bytes) too_big(path, std::to_string(st.st_size));
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  char buffer[65536];
  for (ssize_t n; (n = ::read(fd, buffer, sizeof buffer)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(path + ": cannot read the job file: " + std::strerror(errno));
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > max_job_file_bytes) too_big(path, "more than " + std::to_string(max_job_file_bytes));  // it grew
  }
  return text;
}

// Puts each --set over the job file's values: it replaces every place that gives the same setting (a v1 name
// counts as its v2 key), silently.
void apply_sets(const std::vector<std::string>& sets, std::vector<RawValue>& file) {
  for (const std::string& set : sets) {
    const std::size_t equals = set.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw Error("--set " + set + ": expected key=value, e.g. --set mini_batch_size=100");
    }
    const std::string key = set.substr(0, equals);
    RawValue value{key, set.substr(equals + 1), "--set " + set, key, "--set", true};
    const config_keys::KeyInfo info = config_keys::job_key(key);
    if (info.role == config_keys::Role::leaf) {
      value.key = info.canonical;
      value.counts_tries = info.counts_tries;
    } else if (!config_keys::is_knob(key)) {
      const std::string suggestion = config_keys::closest_setting(key);
      fail(value, !suggestion.empty()
                      ? "unknown setting; did you mean " + suggestion + "?"
                      : "unknown setting; give a job file key (mini_batch_size, retry_settings.timeout, ...) "
                        "or a program_arguments setting (error_threshold, allowed_failed_percent, ...)");
    }
    config_detail::put(file, value);
  }
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

// Splits task.program_arguments and reads prs_mpi's own settings from it; they must agree with the job file's.
std::optional<ResolvedSetting> read_program_arguments(Sources& sources, const Ports& ports,
                                                      JobConfig& config) {
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
  config_detail::check_argument_conflicts(sources);
  return resolved;
}

void resolve_input_data(const Sources& sources, const Ports& ports, const std::string& job_dir,
                        JobConfig& config) {
  const RawValue* value = find(sources.file, "input_data");
  if (value == nullptr) {
    fail(missing(sources.file, "", "input_data", config.job_name),
         "is required; bind it to one of the inputs, e.g. input_data: ${{inputs.input_data}}");
  }
  const Port* port = bound_port(*value, ports);
  const RawValue* located = value;  // the value listing errors point at: the input's path when bound to one
  std::error_code ignored;
  if (port != nullptr && port->group == "inputs") {
    config.input_path = port->path;  // its existence (or its glob's folder) was checked with the inputs
    if (const RawValue* path = find(sources.file, "inputs." + port->name + ".path")) located = path;
  } else {
    config.input_path = local_path(*value, substitute(*value, ports), job_dir);
    const bool glob = !fs::exists(config.input_path, ignored) && config_detail::has_glob_characters(config.input_path);
    const std::string must_exist = glob ? config_detail::glob_base(config.input_path) : config.input_path;
    if (!fs::exists(must_exist, ignored)) fail(*value, must_exist + config_detail::missing(must_exist));
    if (glob && !fs::is_directory(must_exist, ignored)) fail(*value, must_exist + " is not a folder");
  }
  config.input_kind = port != nullptr && port->type == "mltable" ? InputKind::mltable : InputKind::file_list;
  if (config.input_kind == InputKind::file_list && config.mini_batch_size_is_size) {
    throw Error(config.mini_batch_size_location + ": must be a count of files for a file list input (sizes such as "
                "10kb are for tabular input), got " + config_detail::resolved_value(config, "mini_batch_size"));
  }
  if (!config.mini_batch_size_problem.empty()) throw Error(config.mini_batch_size_problem);
  if (port != nullptr && port->type == "path_list") {
    config.input_form = InputForm::path_list;
  } else if (fs::is_directory(config.input_path, ignored)) {
    config.input_form = InputForm::folder;
  } else if (fs::exists(config.input_path, ignored)) {
    config.input_form = InputForm::file;
  } else {
    config.input_form = InputForm::glob;
  }
  config.input_location = located->where + ": " + located->shown_key;
  config.input_as_written = located->text;
  config.resolved.push_back({"input_data", config.input_path, value->origin});
}

// One way to cut the input: mini_batch_size, mini_batch_row_size or partition_keys (the service refuses
// partition_keys with mini_batch_size too); rows are for tables only.
void check_batch_division(const Sources& sources, const JobConfig& config) {
  const RawValue* size = find(sources.file, "mini_batch_size");
  const RawValue* rows = find(sources.file, "mini_batch_row_size");
  const RawValue* keys = find(sources.file, "partition_keys");
  const auto both = [](const RawValue& one, const RawValue& other, const std::string& what) {
    fail(one, "cannot be given with " + other.shown_key + " (" + other.where + "): " + what +
                  "; remove one of them");
  };
  if (keys != nullptr && size != nullptr)
    both(*keys, *size, "a mini-batch is either one combination of the keys' values or a size");
  if (keys != nullptr && rows != nullptr)
    both(*keys, *rows, "a mini-batch is either one combination of the keys' values or a number of rows");
  if (rows != nullptr && size != nullptr) both(*rows, *size, "a mini-batch is either a number of rows or a size");
  if (rows != nullptr && config.input_kind == InputKind::file_list)
    fail(*rows, "is for tabular input (type: mltable with read_delimited or read_json_lines); a file list is cut "
                "by mini_batch_size, a count of files");
}

void resolve_code(const Sources& sources, const Ports& ports, const std::string& job_dir,
                  JobConfig& config) {
  std::error_code ignored;
  const RawValue* code = find(sources.file, "task.code");
  config.code_dir = code != nullptr ? local_path(*code, substitute(*code, ports), job_dir) : job_dir;
  if (code != nullptr && !fs::is_directory(config.code_dir, ignored)) {
    fail(*code, config.code_dir + (fs::exists(config.code_dir, ignored) ? " is not a folder"
                                                                         : config_detail::missing(config.code_dir)));
  }
  const RawValue* entry = find(sources.file, "task.entry_script");
  if (entry == nullptr) {
    fail(missing(sources.file, "task", "task.entry_script", config.job_name),
         "is required; name the Python file that defines init() and run(), relative to task.code");
  }
  config.entry_script = local_path(*entry, substitute(*entry, ports), config.code_dir);
  if (!fs::is_regular_file(config.entry_script, ignored)) {
    fail(*entry, config.entry_script +
                     (fs::exists(config.entry_script, ignored) ? " is not a file"
                                                               : config_detail::missing(config.entry_script)));
  }
  config.resolved.push_back({"task.code", config.code_dir, code != nullptr ? code->origin : "default"});
  config.resolved.push_back({"task.entry_script", config.entry_script, entry->origin});
}

// The file rows are appended to: a folder (uri_folder output, existing folder, or ending in '/') gets file_name.
std::string append_file(const RawValue& append, const Ports& ports, const std::string& job_dir,
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

// Whether two paths name one file: the same path, or both exist with one device and inode.
bool same_file(const std::string& a, const std::string& b) {
  std::error_code ignored;
  return a == b || fs::equivalent(a, b, ignored);
}

// Whether path lies inside folder (both absolute), also through symlinks.
bool lies_inside(const std::string& path, const std::string& folder) {
  std::error_code ignored;
  const auto inside = [](const fs::path& p, const fs::path& f) {
    const auto [end, _] = std::mismatch(f.begin(), f.end(), p.begin(), p.end());
    return end == f.end();
  };
  const fs::path real_path = fs::weakly_canonical(path, ignored);
  const fs::path real_folder = fs::weakly_canonical(folder, ignored);
  return inside(path, folder) || (!real_path.empty() && !real_folder.empty() && inside(real_path, real_folder));
}

// The rows must never overwrite the job or its code: the output file is neither the job file nor the entry script,
// nor inside task.code when that is a folder of its own (code: ., the job's folder, keeps outputs beside the job).
void check_output_file(const RawValue& append, const RawValue* code, const std::string& job_dir,
                       const JobConfig& config) {
  const std::string& output = config.append_row_file;
  if (same_file(output, config.entry_script)) {
    fail(append, output + " is the entry script (task.entry_script: " + config.entry_script +
                     "); the rows would overwrite it: write them to another file");
  }
  if (same_file(output, config.job_file)) {
    fail(append, output + " is the job file (" + config.job_file +
                     "); the rows would overwrite it: write them to another file");
  }
  if (code != nullptr && !lies_inside(job_dir, config.code_dir) && lies_inside(output, config.code_dir)) {
    fail(append, output + " lies inside task.code (" + config.code_dir + ", " + code->where +
                     "), the entry script's folder; write the rows outside it");
  }
}

void resolve_output(const Sources& sources, const Ports& ports, const std::string& job_dir,
                    JobConfig& config) {
  const RawValue* action = find(sources.file, "output_action");
  if (action != nullptr && action->text != "append_row" && action->text != "summary_only") {
    fail(*action, "must be append_row or summary_only, got " + shown(action->text));
  }
  const RawValue* append = find(sources.file, "task.append_row_to");
  if (append == nullptr && action != nullptr && action->text == "append_row") {
    fail(*action, "append_row needs task.append_row_to: the file or folder the rows go to, "
                  "e.g. append_row_to: ${{outputs.NAME}}");
  }
  const bool summary_only = append == nullptr || (action != nullptr && action->text == "summary_only");
  config.output_action = summary_only ? OutputAction::summary_only : OutputAction::append_row;
  config.resolved.push_back(
      {"output_action", summary_only ? "summary_only" : "append_row", action != nullptr ? action->origin : "default"});
  if (summary_only) return;
  const std::string& file_name = config_detail::resolved_value(config, "append_row_file_name");
  config.append_row_file = append_file(*append, ports, job_dir, file_name);
  config.append_row_location = append->where + ": " + append->shown_key;
  config.resolved.push_back({"task.append_row_to", config.append_row_file, append->origin});
  check_output_file(*append, find(sources.file, "task.code"), job_dir, config);
  const std::string& out = config.append_row_file;
  if (out.size() > 3 && out.compare(out.size() - 3, 3, ".h5") == 0) {  // rows are committed to a staging file
    config.h5_file = out;
    config.append_row_file = h5_staging_path(out);
  }
}

void resolve_environment(const Sources& sources, const Ports& ports, JobConfig& config) {
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
void resolve_folders(const CliOptions& cli, const Ports& ports, const std::string& job_dir,
                     JobConfig& config) {
  std::unordered_set<std::string> seen;
  auto add = [&config, &seen](const std::string& folder) {
    if (seen.insert(folder).second) config.output_dirs.push_back(folder);
  };
  for (const Port& port : ports.list) {
    if (port.group != "outputs") continue;
    add(port.type == "uri_folder" ? port.path : parent_of(port.path));
    if (port.type == "uri_folder") config.output_folders.push_back(port.path);
  }
  if (!config.append_row_file.empty()) add(parent_of(config.append_row_file));
  if (cli.log_dir) {
    config.log_dir = absolute_in(fs::current_path().string(), *cli.log_dir);
  } else {
    config.log_dir = (config.append_row_file.empty() ? job_dir : parent_of(config.append_row_file)) + "/logs";
  }
}

void add_port_settings(const Sources& sources, const Ports& ports, JobConfig& config) {
  const config_detail::ValueIndex index = config_detail::index_by_key(sources.file);
  for (const Port& port : ports.list) {
    const RawValue* path = find(index, port.group + "." + port.name + ".path");
    config.resolved.push_back(
        {port.group + "." + port.name + ".path", port.path, path != nullptr ? path->origin : "default"});
  }
}

// An absolute folder path without "." or ".." parts or a trailing '/'.
std::string folder_path(const std::string& path) {
  std::string normal = fs::path(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

// python_env: a virtual environment for the workers' Python, relative to the job file.
void resolve_python_env(const Sources& sources, const Ports& ports, const std::string& job_dir, JobConfig& config) {
  const RawValue* env = find(sources.file, "python_env");
  if (env == nullptr) return;
  const std::string prefix = folder_path(local_path(*env, substitute(*env, ports), job_dir));
  config.python_env = read_python_env(prefix, env->where + ": " + env->shown_key, env->origin);
  config.resolved.push_back({"python_env", config.python_env.prefix, env->origin});
}

// --ordered sets ordered: true whatever the job file says.
void apply_ordered_option(const CliOptions& cli, JobConfig& config) {
  if (!cli.ordered) return;
  config.ordered = true;
  for (ResolvedSetting& setting : config.resolved) {
    if (setting.key == "ordered") setting = {"ordered", "true", "--ordered"};
  }
}

}  // namespace

JobConfig load_job_config(const CliOptions& cli) {
  JobConfig config;
  config.job_name = cli.job_file;
  config.job_file = absolute_in(fs::current_path().string(), cli.job_file);
  const std::string job_dir = parent_of(config.job_file);
  config_detail::JobFile job = config_detail::read_job_file(read_text(cli.job_file), config.job_name, cli.pipeline_job);
  config.pipeline_job = job.pipeline_job;
  config.ignored_keys = std::move(job.ignored);
  Sources sources;
  sources.file = std::move(job.values);
  apply_sets(cli.sets, sources.file);
  check_job_types(sources.file, config.job_name);
  config_detail::merge_repeated(sources.file);
  const Ports ports = read_ports(sources.file, job_dir);
  for (const config_detail::Port& port : ports.list)  // provisional (resolve_input_data decides): sizes need a table
    if (port.group == "inputs" && port.type == "mltable") config.input_kind = InputKind::mltable;
  const std::optional<ResolvedSetting> arguments = read_program_arguments(sources, ports, config);
  config_detail::apply_settings(sources, config);
  apply_ordered_option(cli, config);
  resolve_input_data(sources, ports, job_dir, config);
  check_batch_division(sources, config);
  add_port_settings(sources, ports, config);
  resolve_code(sources, ports, job_dir, config);
  if (arguments) config.resolved.push_back(*arguments);
  resolve_output(sources, ports, job_dir, config);
  resolve_environment(sources, ports, config);
  resolve_python_env(sources, ports, job_dir, config);
  resolve_folders(cli, ports, job_dir, config);
  return config;
}

std::string ignored_keys_line(const JobConfig& config) {
  std::string line;
  for (const std::string& key : config.ignored_keys) line += (line.empty() ? "ignored (cloud-only): " : ", ") + key;
  return line;
}

double hard_timeout(const JobConfig& config) { return config.timeout + std::clamp(0.1 * config.timeout, 2.0, 60.0); }

std::string journal_path(const JobConfig& config) { return config.log_dir + "/journal.bin"; }

std::string h5_staging_path(const std::string& h5_file) { return h5_file + ".rows"; }

}  // namespace prs
