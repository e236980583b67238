#include "prs/worker/node_env.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <thread>

#include <unistd.h>

#include "prs/logs/process_logs.hpp"

namespace fs = std::filesystem;

extern char** environ;

namespace prs {

namespace {

// text cut at each `sep`, empty pieces kept ("a::b" -> a, "", b; "" -> one empty piece).
std::vector<std::string> split_at(const std::string& text, char sep) {
  std::vector<std::string> out(1);
  for (char c : text) {
    if (c == sep) out.emplace_back();
    else out.back() += c;
  }
  return out;
}

std::vector<std::string> split_commas(const std::string& text) {
  std::vector<std::string> out;
  for (std::string& item : split_at(text, ','))
    if (!item.empty()) out.push_back(std::move(item));
  return out;
}

// Whether the shell would find an executable `name` on PATH (an empty entry is the current folder, as for sh);
// true without a PATH, where the shell has its own default.
bool on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) return true;
  for (const std::string& dir : split_at(path, ':')) {
    const std::string file = (dir.empty() ? "." : dir) + "/" + name;
    std::error_code ec;
    if (fs::is_regular_file(file, ec) && access(file.c_str(), X_OK) == 0) return true;
  }
  return false;
}

// What `nvidia-smi -L` prints, "" when it is not there (the shell's error goes to /dev/null). Without one on PATH
// no shell is started: on a node without GPUs each worker would fork one just to hear that (~1 ms of its start).
std::string run_nvidia_smi() {
  if (!on_path("nvidia-smi")) return "";
  FILE* pipe = popen("nvidia-smi -L 2>/dev/null", "r");
  if (pipe == nullptr) return "";
  std::string text;
  char buf[512];
  while (std::fgets(buf, sizeof buf, pipe) != nullptr) text += buf;
  pclose(pipe);
  return text;
}

std::vector<std::string> proc_gpus() {
  std::error_code ec;
  std::vector<std::string> out;
  std::size_t n = 0;
  for (fs::directory_iterator it("/proc/driver/nvidia/gpus", ec), end; !ec && it != end; it.increment(ec)) ++n;
  for (std::size_t i = 0; i < n; ++i) out.push_back(std::to_string(i));
  return out;
}

// What `source VENV/bin/activate` sets: VIRTUAL_ENV, and its bin/ first on PATH (for the script's subprocesses).
void activate_python_env(const PythonEnv& python_env, Environment& env) {
  if (python_env.prefix.empty()) return;
  env.set("VIRTUAL_ENV", python_env.prefix);
  const char* path = env.get("PATH");
  const std::string bin = python_env.prefix + "/bin";
  env.set("PATH", path != nullptr && *path != '\0' ? bin + ":" + path : bin);
  env.unset("PYTHONHOME");  // activate does the same: a home would override the environment's prefix
}

// A code folder inside the input folder gains no __pycache__: workers import the entry script while rank 0 still
// lists the input, and a listing that met new files would make the next --resume see another input. There, and only
// there, Python writes no compiled modules (PYTHONDONTWRITEBYTECODE=1; it still reads those that exist, Debian's
// included), unless the user sends them elsewhere with PYTHONPYCACHEPREFIX. Anywhere else Python caches as it always
// does: a prefix for every worker would hide the compiled modules Debian ships beside pandas and scikit-learn, and
// every start would compile them again where the cache cannot be written (2.5 s a worker for those two).
void keep_code_in_input_unwritten(const JobConfig& config, Environment& env) {
  if (config.code_dir.empty() || config.input_path.empty()) return;
  std::error_code ec;
  const std::string code = fs::weakly_canonical(config.code_dir, ec).string() + "/";
  const std::string input = fs::weakly_canonical(config.input_path, ec).string() + "/";
  const char* prefix = env.get("PYTHONPYCACHEPREFIX");
  if (ec || code.compare(0, input.size(), input) != 0 || (prefix != nullptr && *prefix != '\0')) return;
  env.set("PYTHONDONTWRITEBYTECODE", "1");
}

std::string name_of(const std::string& entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

int active_workers_on_node(const JobConfig& config, const NodeInfo& node) {
  int cap = config.max_concurrency_per_instance;
  return cap > 0 && cap < node.workers_on_node ? cap : node.workers_on_node;
}

std::vector<std::string> parse_nvidia_smi(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream s(text);
  std::string line;
  while (std::getline(s, line)) {
    if (line.rfind("GPU ", 0) != 0) continue;
    std::size_t colon = line.find(':');
    if (colon == std::string::npos || colon <= 4) continue;
    std::string index = line.substr(4, colon - 4);
    if (index.find_first_not_of("0123456789") == std::string::npos) out.push_back(index);
  }
  return out;
}

std::vector<std::string> looked_up_gpus() {
  std::vector<std::string> gpus = parse_nvidia_smi(run_nvidia_smi());
  return gpus.empty() ? proc_gpus() : gpus;
}

std::vector<std::string> node_gpus() {
  if (const char* visible = std::getenv("CUDA_VISIBLE_DEVICES")) return split_commas(visible);
  // Asked once per process: a worker that imports ahead asks before MPI_Init (prestart.cpp) and again after it.
  static const std::vector<std::string> found = looked_up_gpus();
  return found;
}

std::string gpu_for_slot(const std::vector<std::string>& gpus, int slot) {
  if (gpus.empty()) return "";
  return gpus[static_cast<std::size_t>(slot < 0 ? 0 : slot) % gpus.size()];
}

Environment Environment::current() {
  std::vector<std::string> entries;
  for (char** e = environ; *e != nullptr; ++e) entries.emplace_back(*e);
  return Environment(std::move(entries));
}

const char* Environment::get(const std::string& name) const {
  for (const std::string& entry : entries_)
    if (entry.size() > name.size() && entry[name.size()] == '=' && entry.compare(0, name.size(), name) == 0)
      return entry.c_str() + name.size() + 1;
  return nullptr;
}

void Environment::set(const std::string& name, const std::string& value, bool overwrite) {
  for (std::string& entry : entries_) {
    if (name_of(entry) != name) continue;
    if (overwrite) entry = name + "=" + value;
    return;
  }
  entries_.push_back(name + "=" + value);
}

void Environment::unset(const std::string& name) {
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(), [&](const std::string& e) { return name_of(e) == name; }),
                 entries_.end());
}

void Environment::make_current() const {
  std::vector<std::string> gone;
  const Environment now = current();
  for (const std::string& entry : now.entries())
    if (get(name_of(entry)) == nullptr) gone.push_back(name_of(entry));
  for (const std::string& name : gone) unsetenv(name.c_str());
  for (const std::string& entry : entries_) {
    const std::string name = name_of(entry);
    setenv(name.c_str(), entry.c_str() + name.size() + 1, 1);
  }
}

void apply_job_environment(const JobConfig& config, Environment& env) {
  activate_python_env(config.python_env, env);  // first: environment_variables may still change PATH
  for (const auto& [name, value] : config.environment_variables) env.set(name, value);
  keep_code_in_input_unwritten(config, env);
}

void apply_worker_resources(const JobConfig& config, const NodeInfo& node, Environment& env) {
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  int workers = std::max(1, active_workers_on_node(config, node));
  std::string threads = std::to_string(std::max(1u, cores / static_cast<unsigned>(workers)));
  for (const char* name : {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"})
    env.set(name, threads, false);  // false: what the user set (YAML or environment) stays
  const char* visible = env.get("CUDA_VISIBLE_DEVICES");
  std::vector<std::string> gpus = visible != nullptr ? split_commas(visible) : node_gpus();
  if (!gpus.empty()) env.set("CUDA_VISIBLE_DEVICES", gpu_for_slot(gpus, node.worker_slot));
}

void set_worker_environment(const JobConfig& config, const NodeInfo& node, int rank) {
  Environment env = Environment::current();
  apply_job_environment(config, env);
  apply_worker_resources(config, node, env);
  env.make_current();
  setenv("PRS_RANK", std::to_string(rank).c_str(), 1);
  setenv("PRS_NODE", node.host.c_str(), 1);
  setenv("PRS_LOCAL_RANK", std::to_string(node.worker_slot).c_str(), 1);
  setenv("PRS_LOG_DIR", config.log_dir.c_str(), 1);
  setenv("PRS_PROCESS_NAME", process_name(rank).c_str(), 1);
  setenv("PRS_LOGGING_LEVEL", config.logging_level.c_str(), 1);
  if (!config.append_row_file.empty()) {
    auto dir = std::filesystem::path(config.append_row_file).parent_path();
    setenv("AZUREML_BI_OUTPUT_PATH", dir.c_str(), 1);
  }
}

}  // namespace prs
