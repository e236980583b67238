// A virtual environment for the workers (python_env: or VIRTUAL_ENV): pyvenv.cfg read and checked on rank 0, before
// any worker starts.
#include "prs/config/python_env.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "prs/config/config.hpp"
#include "prs/error.hpp"

namespace fs = std::filesystem;

namespace prs {
namespace {

std::string trimmed(const std::string& text) {
  const auto start = text.find_first_not_of(" \t\r");
  if (start == std::string::npos) return "";
  return text.substr(start, text.find_last_not_of(" \t\r") - start + 1);
}

// pyvenv.cfg's "key = value" lines, keys in lower case (Python's own reader is as lenient).
std::map<std::string, std::string> read_cfg(const std::string& path) {
  std::ifstream in(path);
  std::map<std::string, std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trimmed(line.substr(0, eq));
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    values[key] = trimmed(line.substr(eq + 1));
  }
  return values;
}

// "3.11" of "3.11.2" or of virtualenv's "3.11.2.final.0"; "" when it is not a version.
std::string major_minor(const std::string& version) {
  const auto first = version.find('.');
  if (first == std::string::npos) return "";
  const auto second = version.find('.', first + 1);
  return version.substr(0, second);
}

std::string make_hint(const std::string& prefix) {
  return "make it with " + embedded_python() + " -m venv " + prefix + " (add --system-site-packages to keep "
         "Debian's packages)";
}

// The version pyvenv.cfg gives (venv writes version, virtualenv version_info), else the lib/pythonX.Y it holds.
std::string env_version(const std::map<std::string, std::string>& cfg, const std::string& prefix) {
  for (const char* key : {"version", "version_info"}) {
    auto it = cfg.find(key);
    if (it != cfg.end() && !it->second.empty()) return it->second;
  }
  std::error_code ec;
  const std::string own = embedded_python_version();
  return fs::is_directory(prefix + "/lib/python" + own, ec) ? own : "";
}

// Whether pyvenv.cfg's home is the embedded Python's folder (/usr/bin, also as /bin on a merged /usr). Python
// takes its standard library from home: a venv of another build of the same version would mix two Pythons.
bool same_home(const std::string& home) {
  if (home == "?") return true;  // no home: Python itself then looks beside the executable
  std::error_code ec;
  return fs::equivalent(home, fs::path(embedded_python()).parent_path(), ec) && !ec;
}

}  // namespace

std::string embedded_python_version() { return PRS_PYTHON_VERSION; }

std::string embedded_python() { return PRS_PYTHON_EXECUTABLE; }

PythonEnv read_python_env(const std::string& prefix, const std::string& where, const std::string& origin) {
  std::error_code ec;
  const std::string head = where + ": " + prefix;
  if (!fs::exists(prefix, ec)) throw Error(head + ": no such folder; " + make_hint(prefix));
  if (!fs::is_directory(prefix, ec)) throw Error(head + " is not a folder; " + make_hint(prefix));
  const std::string cfg_path = prefix + "/pyvenv.cfg";
  if (!fs::is_regular_file(cfg_path, ec))
    throw Error(head + " is not a virtual environment (it has no pyvenv.cfg); " + make_hint(prefix));
  const auto cfg = read_cfg(cfg_path);
  PythonEnv env;
  env.prefix = prefix;
  env.origin = origin;
  env.version = env_version(cfg, prefix);
  const std::string home = cfg.count("home") != 0 ? cfg.at("home") : "?";
  if (major_minor(env.version) != embedded_python_version()) {
    throw Error(head + " is a virtual environment of Python " + (env.version.empty() ? "?" : env.version) +
                " (pyvenv.cfg: home = " + home + "), but the workers run Python " + embedded_python_version() +
                " (" + embedded_python() + "); make it again with " + embedded_python() + " -m venv --clear " + prefix);
  }
  if (!same_home(home)) {
    throw Error(head + " was made from another Python (pyvenv.cfg: home = " + home + ", version = " + env.version +
                "), but the workers run " + embedded_python() + ": its standard library and compiled packages are "
                "not theirs; make it again with " + embedded_python() + " -m venv --clear " + prefix);
  }
  for (const char* name : {"python3", "python"}) {
    if (fs::exists(prefix + "/bin/" + name, ec)) {
      env.python = prefix + "/bin/" + name;
      break;
    }
  }
  if (env.python.empty()) throw Error(head + " has no bin/python3; " + make_hint(prefix));
  auto sys = cfg.find("include-system-site-packages");
  env.system_site_packages = sys != cfg.end() && (sys->second == "true" || sys->second == "True");
  return env;
}

void use_virtual_env(JobConfig& config) {
  const char* active = std::getenv("VIRTUAL_ENV");
  if (active == nullptr || *active == '\0') return;
  std::string prefix = (fs::current_path() / active).lexically_normal().string();  // an absolute one stays
  while (prefix.size() > 1 && prefix.back() == '/') prefix.pop_back();
  if (!config.python_env.prefix.empty()) {
    if (prefix != config.python_env.prefix) config.virtual_env_unused = prefix;
    return;
  }
  config.python_env = read_python_env(prefix, "VIRTUAL_ENV", "VIRTUAL_ENV");
  config.resolved.push_back({"python_env", prefix, "VIRTUAL_ENV"});
}

std::string describe_python_env(const PythonEnv& env) {
  return env.prefix + " (" + (env.origin == "VIRTUAL_ENV" ? "VIRTUAL_ENV" : "python_env, " + env.origin) +
         "), Python " + env.version + ", " + (env.system_site_packages ? "with" : "without") + " system site packages";
}

std::string encode_python_env(const PythonEnv& env) {
  if (env.prefix.empty()) return "";
  std::string text;
  for (const std::string* field : {&env.prefix, &env.python, &env.version, &env.origin}) text += *field + '\0';
  return text + (env.system_site_packages ? "1" : "0");
}

PythonEnv decode_python_env(const std::string& text) {
  PythonEnv env;
  if (text.empty()) return env;
  std::istringstream in(text);
  for (std::string* field : {&env.prefix, &env.python, &env.version, &env.origin}) std::getline(in, *field, '\0');
  std::string flag;
  std::getline(in, flag, '\0');
  env.system_site_packages = flag == "1";
  return env;
}

}  // namespace prs
