#include "prs/worker/prestart.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <iterator>
#include <sstream>
#include <thread>

#include "prs/error.hpp"
#include "prs/worker/preload.hpp"

namespace fs = std::filesystem;

namespace prs {

namespace {

bool starts_with(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }

std::string name_of(const std::string& entry) { return entry.substr(0, entry.find('=')); }

// The interpreter a worker runs: "" is the embedded Python's.
std::string interpreter(const std::string& python) { return python.empty() ? embedded_python() : python; }

// The interpreter the job most likely gets: python_env, else VIRTUAL_ENV as rank 0 would read it; nullopt when
// that cannot be read (rank 0 then ends the job, or chooses and the process is replaced).
std::optional<JobConfig> with_likely_python_env(const JobConfig& config) {
  JobConfig likely = config;
  try {
    use_virtual_env(likely);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return likely;
}

// The first of the variables that is set: a count or rank (0 to 2^30); nullopt when none is set or it is no number.
std::optional<long> first_number(const Environment& env, std::initializer_list<const char*> names) {
  for (const char* name : names) {
    const char* value = env.get(name);
    if (value == nullptr) continue;
    char* end = nullptr;
    const long number = std::strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || number < 0 || number > 1 << 30) return std::nullopt;
    return number;
  }
  return std::nullopt;
}

// Whether a folder holds a module, package or namespace portion of that name (name, name.py, name.*.so, ...).
bool holds_module(const std::string& folder, const std::string& name) {
  std::error_code ec;
  for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string file = it->path().filename().string();
    if (file == name || file.rfind(name + ".", 0) == 0) return true;
  }
  return false;
}

// Whether a variable is prs_mpi's own, which the worker sets after MPI_Init and installed modules do not read.
bool is_prs_variable(const std::string& name) {
  return starts_with(name, "PRS_") || name == "AZUREML_BI_OUTPUT_PATH" || is_launcher_variable(name);
}

}  // namespace

std::optional<int> launcher_rank(const Environment& env) {
  const std::optional<long> rank = first_number(env, {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"});
  if (!rank) return std::nullopt;
  return static_cast<int>(*rank);
}

bool surely_idle(const Environment& env, int cap) {
  if (cap <= 0) return false;
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}) {
    const char* value = env.get(name);
    if (value == nullptr) continue;
    char* end = nullptr;
    const long local = std::strtol(value, &end, 10);
    return *value != '\0' && *end == '\0' && local - 1 >= cap;
  }
  return false;
}

bool prestart_wanted(const Environment& env, unsigned cores, bool imports_ahead) {
  const char* choice = env.get("PRS_PRESTART");
  const std::string mode = choice == nullptr ? "auto" : choice;
  if (mode == "on") return true;
  if (mode != "auto" && !mode.empty()) return false;  // off, or a value it does not know: as without it
  if (imports_ahead) return true;
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
    const char* value = env.get(name);
    if (value == nullptr) continue;
    char* end = nullptr;
    const long local = std::strtol(value, &end, 10);
    return *value != '\0' && *end == '\0' && local > 0 && 2 * local - 1 <= static_cast<long>(cores);
  }
  return false;
}

std::optional<NodeInfo> likely_node(const Environment& env, int rank) {
  const auto local = first_number(env, {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"});
  const auto size = first_number(env, {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"});
  if (!local || !size || *local >= *size || rank <= 0) return std::nullopt;
  const int here = rank == *local ? 1 : 0;  // rank 0 is this node's local rank 0
  NodeInfo node;
  node.workers_on_node = static_cast<int>(*size) - here;
  node.worker_slot = static_cast<int>(*local) - here;
  return node;
}

bool has_imports_ahead(const JobConfig& config) {
  std::ifstream in(config.entry_script, std::ios::binary);
  if (!in) return false;
  std::ostringstream source;
  source << in.rdbuf();
  const std::vector<std::string> sites = likely_site_folders(config.python_env.prefix);
  for (const std::string& name : top_level_imports(source.str())) {
    if (name == "prs" || holds_module(config.code_dir, name) || holds_module(PRS_PYTHON_MODULES, name)) continue;
    if (installed_under(name, sites)) return true;
  }
  return false;
}

std::string import_differences(const std::vector<std::string>& started, const std::vector<std::string>& now) {
  const Environment later(now);
  std::vector<std::string> names;
  for (const std::string& entry : started) {
    const std::string name = name_of(entry);
    const char* value = later.get(name);
    if (!is_prs_variable(name) && (value == nullptr || entry.compare(name.size() + 1, std::string::npos, value) != 0))
      names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

std::vector<std::string> environment_changes(const std::vector<std::string>& before,
                                             const std::vector<std::string>& after) {
  const Environment old(before), now(after);
  std::vector<std::string> changes;
  for (const std::string& entry : after) {
    const char* was = old.get(name_of(entry));
    if (was == nullptr || entry.compare(name_of(entry).size() + 1, std::string::npos, was) != 0)
      changes.push_back(entry);
  }
  for (const std::string& entry : before)
    if (now.get(name_of(entry)) == nullptr) changes.push_back(name_of(entry));
  return changes;
}

std::vector<std::string> with_changes(const std::vector<std::string>& env, const std::vector<std::string>& changes) {
  Environment out(env);
  for (const std::string& change : changes) {
    const std::size_t eq = change.find('=');
    if (eq == std::string::npos) out.unset(change);
    else out.set(change.substr(0, eq), change.substr(eq + 1));
  }
  return out.entries();
}

bool is_launcher_variable(const std::string& name) {
  for (const char* p : {"PMIX_", "OMPI_COMM_WORLD_", "OMPI_MCA_ess", "OMPI_MCA_orte_", "OMPI_MCA_pmix",
                        "OMPI_UNIVERSE_SIZE", "OMPI_FILE_LOCATION"})
    if (starts_with(name, p)) return true;
  return false;
}

bool is_startup_variable(const std::string& name) {
  for (const char* p : {"PYTHON", "_PYTHON", "LC_", "LD_", "MALLOC_"})
    if (starts_with(name, p)) return true;
  for (const char* n : {"LANG", "LANGUAGE", "HOME", "TZ", "GLIBC_TUNABLES"})
    if (name == n) return true;
  return false;
}

std::vector<std::string> startup_entries(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  for (const std::string& entry : env) {
    const std::string name = name_of(entry);
    if (is_startup_variable(name) && !is_launcher_variable(name)) out.push_back(entry);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string startup_differences(const std::vector<std::string>& started, const std::vector<std::string>& now) {
  std::vector<std::string> names;
  std::vector<std::string> only;  // the entries in one list and not the other
  std::set_symmetric_difference(started.begin(), started.end(), now.begin(), now.end(), std::back_inserter(only));
  for (const std::string& entry : only) names.push_back(name_of(entry));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

std::optional<PrestartedPython> prestart_python(const JobConfig& config) {
  Environment env = Environment::current();
  const std::optional<int> rank = launcher_rank(env);
  if (!rank || *rank == 0) return std::nullopt;  // rank 0 never starts Python
  if (surely_idle(env, config.max_concurrency_per_instance)) return std::nullopt;
  std::optional<JobConfig> likely = with_likely_python_env(config);
  if (!likely) return std::nullopt;
  const std::optional<NodeInfo> node = likely_node(env, *rank);
  const bool ahead = node && has_imports_ahead(*likely);
  if (!prestart_wanted(env, std::max(1u, std::thread::hardware_concurrency()), ahead)) return std::nullopt;
  apply_job_environment(*likely, env);
  if (ahead) apply_worker_resources(*likely, *node, env);  // what the modules may read at their import
  setenv("PRS_WORKER_PID", std::to_string(getpid()).c_str(), 1);  // the child checks it still has its rank
  env.set("PRS_WORKER_PID", std::to_string(getpid()));
  try {
    PrestartedPython p;
    p.python = interpreter(likely->python_env.python);
    const std::vector<std::string> preload = ahead ? std::vector<std::string>{likely->entry_script, likely->code_dir}
                                                   : std::vector<std::string>{};
    p.region = RowRegion::create_or_none();
    p.process = PythonProcess::prestart(this_executable(), p.python, p.region ? p.region->fd() : -1, env.entries(),
                                        preload);
    p.startup = startup_entries(env.entries());
    return p;
  } catch (const Fatal&) {
    return std::nullopt;  // the worker starts its process after MPI_Init, and says why if that fails too
  }
}

void end_prestarted(std::optional<PrestartedPython>& prestarted) {
  if (prestarted) prestarted->process.kill_and_reap(std::chrono::seconds(2));
  prestarted.reset();
}

std::string prestart_mismatch(PrestartedPython& prestarted, const std::string& python,
                              const std::vector<std::string>& env, bool log_files) {
  if (auto status = prestarted.process.try_reap()) return "it ended: " + describe_exit(*status);
  if (!prestarted.process.alive()) return "it is gone";
  if (interpreter(python) != prestarted.python)
    return "the interpreter is " + interpreter(python) + ", not " + prestarted.python;
  const std::string differ = startup_differences(prestarted.startup, startup_entries(env));
  if (!differ.empty()) return "startup variables differ: " + differ;
  if (!log_files) return "no log files: its output goes to the console";  // a console may be a terminal
  return "";
}

}  // namespace prs
