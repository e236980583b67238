// Reading the job YAML: a parallel job, or the parallel job of a pipeline, each key classified by config_keys
// (known, v1 alias, cloud-only and ignored, or unknown with "did you mean").
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <unordered_map>
#include <utility>

#include "prs/config/config_keys.hpp"
#include "prs/config/config_values.hpp"
#include "prs/error.hpp"

namespace prs::config_detail {
namespace {

using config_keys::KeyInfo;
using config_keys::Role;

// What a YAML node holds, for "got ...".
std::string node_kind(const YAML::Node& node) {
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  return shown(node.IsScalar() ? node.Scalar() : "");
}

// A list value (partition_keys) as one flow-style text, "[Store, Brand]": each element a non-empty scalar.
std::string flow_list(const YAML::Node& node, const RawValue& value) {
  YAML::Emitter out;
  out << YAML::Flow << YAML::BeginSeq;
  for (const YAML::Node& element : node) {
    if (!element.IsScalar() || element.Scalar().empty())
      fail(value, "must be a list of strings such as [Store, Brand], got an element that is " + node_kind(element));
    out << element.Scalar();
  }
  out << YAML::EndSeq;
  return out.c_str();
}

std::string joined(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

std::string trimmed(const std::string& text) {
  const std::size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// "group.NAME" when the text is exactly ${{parent.group.NAME}}, else empty.
std::string parent_binding(const std::string& text) {
  const std::string whole = trimmed(text);
  if (whole.size() < 5 || whole.compare(0, 3, "${{") != 0 || whole.compare(whole.size() - 2, 2, "}}") != 0) return "";
  const std::string inner = trimmed(whole.substr(3, whole.size() - 5));
  return inner.rfind("parent.", 0) == 0 ? inner.substr(7) : "";
}

// A pipeline's declared input or output, which its jobs bind with ${{parent.inputs.NAME}}.
struct ParentPort {
  std::string group;  // "inputs" or "outputs"
  std::string name;
  YAML::Node key;
  YAML::Node node;
  bool used = false;
};

// Reads the keys of one parallel job into RawValues and lists the ignored ones.
class Reader {
 public:
  explicit Reader(std::string job_name) : job_name_(std::move(job_name)) {}

  // Reads a map's keys: prefix is the canonical path of the map, shown_prefix the path as written.
  void read_map(const YAML::Node& map, const std::string& prefix, const std::string& shown_prefix, bool v1) {
    for (const auto& item : map) {
      const std::string name = item.first.Scalar();
      read_entry(item.first, item.second, joined(prefix, name), joined(shown_prefix, name), v1);
    }
  }

  // Lists a key as ignored: "compute (job.yml:74)".
  void ignore(const std::string& shown_key, const YAML::Node& key_node) {
    const int line = key_node.Mark().line + 1;
    ignored_.emplace_back(line, shown_key + " (" + where(line) + ")");
  }

  // A stand-in value for a key, for its error messages.
  RawValue at(const YAML::Node& key_node, const std::string& key) const {
    const int line = key_node.Mark().line + 1;
    RawValue value{key, "", where(line), key, where(line)};
    value.line = line;
    return value;
  }

  std::vector<ParentPort> parent_ports;  // a pipeline's inputs and outputs

  // Declares one of the pipeline's inputs or outputs (the first of a name counts, as a search in order would).
  void add_parent_port(ParentPort port) {
    parent_index_.emplace(port.group + "." + port.name, parent_ports.size());
    parent_ports.push_back(std::move(port));
  }
  bool in_pipeline = false;

  JobFile take() {
    JobFile file;
    file.values = std::move(values_);
    std::stable_sort(ignored_.begin(), ignored_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [line, text] : ignored_) file.ignored.push_back(std::move(text));
    return file;
  }

 private:
  std::string where(int line) const { return job_name_ + ":" + std::to_string(line); }

  void read_entry(const YAML::Node& key_node, const YAML::Node& node, const std::string& key,
                  const std::string& shown_key, bool v1) {
    const int line = (node.IsScalar() ? node.Mark().line : key_node.Mark().line) + 1;  // yaml-cpp counts from 0
    RawValue value{key, "", where(line), shown_key, where(line)};
    value.line = line;
    const KeyInfo info = config_keys::job_key(key);
    if (info.role == Role::ignored) return ignore(shown_key, key_node);
    const auto earlier = seen_.find(shown_key);
    if (earlier != seen_.end()) fail(value, "given twice (also at " + values_[earlier->second].where + ")");
    switch (info.role) {
      case Role::unknown:
        fail(value, info.suggestion.empty() ? "unknown key; remove it or check its spelling"
                                            : "unknown key; did you mean " + info.suggestion + "?");
      case Role::unsupported:
        fail(value, info.expected);
      case Role::transparent:
        if (!node.IsMap() && !node.IsNull()) fail(value, "must be a map of keys, got " + node_kind(node));
        if (node.IsMap()) read_map(node, "", shown_key, true);
        return;
      case Role::leaf:
        return read_leaf(node, info, value, v1);
      default:
        return read_section(node, value, v1);
    }
  }

  void read_leaf(const YAML::Node& node, const KeyInfo& info, RawValue& value, bool v1) {
    if (node.IsNull() && (info.null_is_unset || v1)) return;  // save_to_yaml writes None as an empty value
    if (node.IsSequence() && config_keys::is_list_key(info.canonical)) {
      value.key = info.canonical;
      value.text = flow_list(node, value);
      keep(value);
      return;
    }
    if (!node.IsScalar()) fail(value, "must be " + info.expected + ", got " + node_kind(node));
    value.key = info.canonical;
    value.text = node.Scalar();
    value.counts_tries = info.counts_tries;
    keep(value);
  }

  void read_section(const YAML::Node& node, RawValue& value, bool v1) {
    value.is_section = true;
    const bool is_port = std::count(value.key.begin(), value.key.end(), '.') == 1 &&
                         (value.key.rfind("inputs.", 0) == 0 || value.key.rfind("outputs.", 0) == 0);
    if (is_port && node.IsScalar() && !parent_binding(node.Scalar()).empty()) {
      const YAML::Node bound = parent_port(value, node.Scalar());
      keep(value);
      if (bound.IsMap()) read_map(bound, value.key, value.shown_key, v1);
      return;
    }
    if (!node.IsMap() && !node.IsNull()) fail(value, "must be a map of keys, got " + node_kind(node));
    keep(value);
    if (node.IsMap()) read_map(node, value.key, value.shown_key, v1);
  }

  // The pipeline's input or output that ${{parent.inputs.NAME}} names; fails naming the declared ones.
  YAML::Node parent_port(const RawValue& value, const std::string& text) {
    const std::string binding = parent_binding(text);
    const std::string group = value.key.substr(0, value.key.find('.'));
    const std::string shown_binding = "${{parent." + binding + "}}";
    if (!in_pipeline) fail(value, shown_binding + ": binds a pipeline's " + group + ", but this file is not a pipeline");
    if (binding.rfind(group + ".", 0) != 0) {
      fail(value, shown_binding + ": " + group + " bind ${{parent." + group + ".NAME}}");
    }
    const std::string name = binding.substr(group.size() + 1);
    const auto found = parent_index_.find(group + "." + name);
    if (found != parent_index_.end()) {
      ParentPort& port = parent_ports[found->second];
      if (!port.node.IsMap() && !port.node.IsNull()) {
        fail(value, shown_binding + ": the pipeline's " + group + "." + name + " must be a map with type and path, got " +
                        node_kind(port.node));
      }
      port.used = true;
      return port.node;
    }
    std::string declared;
    for (const ParentPort& port : parent_ports) {
      if (port.group == group) declared += (declared.empty() ? "" : ", ") + port.name;
    }
    fail(value, shown_binding + ": the pipeline declares no " + group.substr(0, group.size() - 1) + " named " + name +
                    (declared.empty() ? "" : "; declared: " + declared));
  }

  // Keeps a value, indexed by the key as written (a key given twice is an error).
  void keep(const RawValue& value) {
    seen_.emplace(value.shown_key, values_.size());
    values_.push_back(value);
  }

  std::string job_name_;
  std::vector<RawValue> values_;
  std::unordered_map<std::string, std::size_t> seen_;  // shown_key -> its index in values_
  std::unordered_map<std::string, std::size_t> parent_index_;  // "inputs.NAME" -> its index in parent_ports
  std::vector<std::pair<int, std::string>> ignored_;
};

YAML::Node parse(const std::string& text, const std::string& job_name) {
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
  return root;
}

bool is_parallel_job(const YAML::Node& job) {
  if (!job.IsMap()) return false;
  const YAML::Node type = job["type"];
  return type && type.IsScalar() && type.Scalar() == "parallel";
}

std::string type_of(const YAML::Node& job) {
  const YAML::Node type = job.IsMap() ? job["type"] : YAML::Node();
  return type && type.IsScalar() ? type.Scalar() : "none";
}

// The pipeline's jobs: key, with the line of its key.
struct Jobs {
  bool found = false;
  YAML::Node key;
  YAML::Node node;
};

// The pipeline's own keys: jobs (returned), inputs and outputs (kept for bindings), the rest ignored.
Jobs read_pipeline_keys(const YAML::Node& root, Reader& reader) {
  Jobs jobs;
  for (const auto& item : root) {
    const std::string name = item.first.Scalar();
    if (name == "type") continue;
    if (name == "jobs") {
      jobs = {true, item.first, item.second};
    } else if (name == "inputs" || name == "outputs") {
      if (!item.second.IsMap() && !item.second.IsNull()) {
        fail(reader.at(item.first, name), "must be a map of keys, got " + node_kind(item.second));
      }
      if (item.second.IsMap()) {
        for (const auto& port : item.second) reader.add_parent_port({name, port.first.Scalar(), port.first, port.second});
      }
    } else {
      const KeyInfo info = config_keys::pipeline_key(name);
      if (info.role != Role::ignored) {
        fail(reader.at(item.first, name), info.suggestion.empty()
                                              ? "unknown key; remove it or check its spelling"
                                              : "unknown key; did you mean " + info.suggestion + "?");
      }
      reader.ignore(name, item.first);
    }
  }
  return jobs;
}

// The pipeline's parallel job to run: the one there is, or the one --job names.
std::pair<std::string, YAML::Node> choose_job(const YAML::Node& jobs_key, const YAML::Node& jobs, Reader& reader,
                                              const std::optional<std::string>& job) {
  const RawValue at_jobs = reader.at(jobs_key, "jobs");
  if (!jobs.IsMap()) fail(at_jobs, "must be a map of jobs, got " + node_kind(jobs));
  std::vector<std::pair<std::string, YAML::Node>> parallel;
  std::string names;
  for (const auto& item : jobs) {
    if (!is_parallel_job(item.second)) continue;
    parallel.emplace_back(item.first.Scalar(), item.second);
    names += (names.empty() ? "" : ", ") + item.first.Scalar();
  }
  for (const auto& item : jobs) {
    const std::string name = item.first.Scalar();
    if (job && *job == name && !is_parallel_job(item.second)) {
      fail(at_jobs, "--job " + name + ": " + name + " is not a parallel job (type: " + type_of(item.second) + ")" +
                        (names.empty() ? "" : "; parallel jobs: " + names));
    }
    if (!is_parallel_job(item.second)) reader.ignore("jobs." + name, item.first);
  }
  if (job) {
    for (const auto& candidate : parallel) {
      if (candidate.first == *job) return candidate;
    }
    fail(at_jobs, "--job " + *job + ": no job named " + *job +
                      (names.empty() ? "; the pipeline has no parallel job" : "; parallel jobs: " + names));
  }
  if (parallel.empty()) fail(at_jobs, "no job has type: parallel; prs_mpi runs the parallel job of a pipeline");
  if (parallel.size() > 1) {
    fail(at_jobs, std::to_string(parallel.size()) + " parallel jobs: " + names + "; choose one with --job NAME");
  }
  return parallel[0];
}

JobFile read_pipeline(const YAML::Node& root, const std::string& job_name, const std::optional<std::string>& job) {
  Reader reader(job_name);
  reader.in_pipeline = true;
  const Jobs jobs = read_pipeline_keys(root, reader);
  if (!jobs.found) {
    throw Error(job_name + ": jobs: is required in a pipeline (type: pipeline); prs_mpi runs its parallel job");
  }
  const auto [name, body] = choose_job(jobs.key, jobs.node, reader, job);
  reader.read_map(body, "", "", false);
  for (const ParentPort& port : reader.parent_ports) {
    if (!port.used) reader.ignore(port.group + "." + port.name, port.key);
  }
  JobFile file = reader.take();
  file.pipeline_job = name;
  return file;
}

}  // namespace

JobFile read_job_file(const std::string& text, const std::string& job_name, const std::optional<std::string>& job) {
  const YAML::Node root = parse(text, job_name);
  const YAML::Node type = root["type"];
  if (type && type.IsScalar() && type.Scalar() == "pipeline") return read_pipeline(root, job_name, job);
  if (job) {
    throw Error("--job " + *job + ": " + job_name + " is not a pipeline (type: pipeline); remove --job");
  }
  Reader reader(job_name);
  reader.read_map(root, "", "", false);
  return reader.take();
}

}  // namespace prs::config_detail
