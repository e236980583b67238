// The job's inputs and outputs: types, absolute paths (globs and path lists too), ${{inputs.X}} bindings.
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "prs/config/config_values.hpp"
#include "prs/error.hpp"

namespace fs = std::filesystem;

namespace prs::config_detail {
namespace {

std::string trimmed(const std::string& text) {
  const std::size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// The port that "inputs.NAME" or "outputs.NAME" (the inside of a ${{...}}) names; fails naming the declared ones.
const Port& port_for(const RawValue& value, const std::string& inner, const Ports& ports) {
  const std::size_t dot = inner.find('.');
  const std::string group = inner.substr(0, dot);
  if (dot == std::string::npos || (group != "inputs" && group != "outputs")) {
    fail(value, "${{" + inner + "}}: unknown binding; use ${{inputs.NAME}} or ${{outputs.NAME}}");
  }
  if (const Port* port = ports.find(inner)) return *port;
  const std::string name = inner.substr(dot + 1);
  std::string declared;
  for (const Port& port : ports.list) {
    if (port.group == group) declared += (declared.empty() ? "" : ", ") + port.name;
  }
  const std::string what = group == "inputs" ? "input" : "output";
  fail(value, "${{" + inner + "}}: no " + what + " named " + name +
                  (declared.empty() ? "; no " + group + " are declared" : "; declared " + group + ": " + declared));
}

// A glob's starting folder must exist (the pattern itself is matched when the files are listed, on rank 0).
void check_glob_base(const RawValue& value, const Port& port) {
  const std::string base = glob_base(port.path);
  std::error_code ignored;
  if (!fs::exists(base, ignored)) fail(value, base + missing(base));
  if (!fs::is_directory(base, ignored)) fail(value, base + " is not a folder");
}

// Whether the input exists as its type says; fails naming the path otherwise.
void check_input_exists(const RawValue& value, const Port& port) {
  std::error_code ignored;
  const fs::file_status status = fs::status(port.path, ignored);
  if (!fs::exists(status) && port.type != "path_list" && has_glob_characters(port.path)) {
    return check_glob_base(value, port);
  }
  if (!fs::exists(status)) fail(value, port.path + missing(port.path));
  if (port.type == "uri_folder" && !fs::is_directory(status)) {
    fail(value, port.path + " is not a folder; use type: uri_file for one file");
  }
  if (port.type == "uri_file" && !fs::is_regular_file(status)) {
    fail(value, port.path + " is not a file; use type: uri_folder for a folder");
  }
  if (port.type == "mltable" && !fs::is_regular_file(fs::path(port.path) / "MLTable", ignored)) {
    fail(value, port.path + (fs::is_directory(status) ? " holds no MLTable file" : " is not a folder") +
                    "; a type: mltable input is a folder holding an MLTable file (paths and transformations)");
  }
  if (port.type == "path_list" && !fs::is_regular_file(status)) {
    fail(value, port.path + " is not a file; a path_list is a text file with one path per line");
  }
}

// The service's model asset types: on a cluster a model is a folder (or a file) on disk, read by the entry script.
bool is_model_type(const std::string& type) {
  return type == "mlflow_model" || type == "custom_model" || type == "triton_model";
}

// The type a port behaves as: an mltable output is the folder it is written into (the append file goes there); a
// model input is a folder or a file, as it is on disk.
std::string behaves_as(const std::string& group, const std::string& type, const std::string& path) {
  if (group == "outputs" && type == "mltable") return "uri_folder";
  if (group == "inputs" && is_model_type(type)) {
    std::error_code ignored;
    return fs::is_directory(path, ignored) ? "uri_folder" : "uri_file";
  }
  return type;
}

void check_port_type(const RawValue& type, const std::string& group) {
  if (type.text == "uri_folder" || type.text == "uri_file") return;
  if (group == "inputs" && (type.text == "path_list" || type.text == "mltable" || is_model_type(type.text))) return;
  if (group == "outputs" && type.text == "mltable") return;
  fail(type, group == "inputs"
                 ? "must be uri_folder, uri_file, path_list, mltable or a model (mlflow_model, custom_model, "
                   "triton_model), got " + shown(type.text)
                 : "must be uri_folder, uri_file or mltable (a folder), got " + shown(type.text));
}

// One input or output: type (default uri_folder) and absolute path (outputs default to <job dir>/outputs/NAME).
Port read_port(const ValueIndex& file, const std::string& group, const std::string& name,
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
  if (group == "inputs" && is_model_type(port.type)) {
    std::error_code ignored;
    if (!fs::exists(port.path, ignored)) fail(*path, port.path + missing(port.path));
  }
  port.type = behaves_as(group, port.type, port.path);
  if (group == "inputs") check_input_exists(*path, port);
  return port;
}

}  // namespace

std::string absolute_in(const std::string& base, const std::string& path) {
  std::string result = (fs::path(base) / path).lexically_normal().string();
  while (result.size() > 1 && result.back() == '/') result.pop_back();
  return result;
}

std::string local_path(const RawValue& value, const std::string& text, const std::string& base) {
  if (text.empty()) fail(value, "must be a path, got nothing");
  if (text.find("://") != std::string::npos || text.rfind("azureml:", 0) == 0) {
    fail(value, "must be a local path, got " + text);
  }
  return absolute_in(base, text);
}

std::string missing(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 || errno == ENOENT || errno == ENOTDIR) return " does not exist";
  return std::string(": cannot be read: ") + std::strerror(errno);  // e.g. a folder on the way is not searchable
}

bool has_glob_characters(const std::string& path) { return path.find_first_of("*?[") != std::string::npos; }

std::string glob_base(const std::string& pattern) {
  std::string base;
  std::size_t start = 0;
  while (start <= pattern.size()) {
    std::size_t end = pattern.find('/', start);
    if (end == std::string::npos) end = pattern.size();
    const std::string component = pattern.substr(start, end - start);
    if (has_glob_characters(component) || end == pattern.size()) break;
    base = pattern.substr(0, end);
    start = end + 1;
  }
  if (base.empty()) return pattern.rfind('/', 0) == 0 ? "/" : ".";
  return base;
}

const Port* Ports::find(const std::string& group_and_name) const {
  const auto found = by_name.find(group_and_name);
  return found != by_name.end() ? &list[found->second] : nullptr;
}

ValueIndex index_by_key(const std::vector<RawValue>& values) {
  ValueIndex index;
  index.reserve(values.size());
  for (const RawValue& value : values) index.emplace(value.key, &value);  // keeps the first of a key
  return index;
}

const RawValue* find(const ValueIndex& index, const std::string& key) {
  const auto found = index.find(key);
  return found != index.end() ? found->second : nullptr;
}

Ports read_ports(const std::vector<RawValue>& file, const std::string& job_dir) {
  const ValueIndex index = index_by_key(file);
  Ports ports;
  for (const RawValue& value : file) {
    for (const std::string group : {"inputs", "outputs"}) {
      if (value.key.rfind(group + ".", 0) != 0) continue;
      const std::size_t start = group.size() + 1;
      const std::string name = value.key.substr(start, value.key.find('.', start) - start);
      if (ports.find(group + "." + name) != nullptr) continue;
      ports.by_name.emplace(group + "." + name, ports.list.size());
      ports.list.push_back(read_port(index, group, name, job_dir));
    }
  }
  return ports;
}

std::string substitute(const RawValue& value, const Ports& ports) {
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

const Port* bound_port(const RawValue& value, const Ports& ports) {
  const std::string text = trimmed(value.text);
  const bool one_binding = text.size() > 5 && text.compare(0, 3, "${{") == 0 &&
                           text.compare(text.size() - 2, 2, "}}") == 0 && text.find("}}") == text.size() - 2;
  if (!one_binding) return nullptr;
  return &port_for(value, trimmed(text.substr(3, text.size() - 5)), ports);
}

}  // namespace prs::config_detail
