#include "prs/worker/preload.hpp"

#include <pybind11/embed.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <sstream>

#include "prs/error.hpp"

namespace py = pybind11;
namespace fs = std::filesystem;

namespace prs {

namespace {

// Run in the prestarted process; returns the names it imported, raises what an import raised.
constexpr const char* kImportAheadSource = R"PY(
import ast, importlib, importlib.util, os, site, sys


def _real(path):
    return os.path.realpath(path)


def _under(path, folders):
    path = _real(path)
    return any(path == f or path.startswith(f.rstrip(os.sep) + os.sep) for f in folders)


def _names(script):
    # The modules of the top-level import statements; nothing when the script does not parse (the real import
    # reports it) or cannot be read.
    try:
        with open(script, "rb") as f:
            tree = ast.parse(f.read(), script)
    except BaseException:
        return []
    # (module, names its `from module import` statements take: a submodule among them is imported too)
    names = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.setdefault(alias.name, [])
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.setdefault(node.module, []).extend(a.name for a in node.names if a.name != "*")
    return list(names.items())


def _submodules(module, taken, sites):
    # What `from module import name` imports besides module: name.py of the package, when module has no such
    # attribute (Python's _handle_fromlist does the same); only where the package is installed.
    found = []
    for name in taken:
        if hasattr(module, name):
            continue
        try:
            spec = importlib.util.find_spec(f"{module.__name__}.{name}")  # its parent is imported already
        except BaseException:
            continue
        if spec is not None and spec.origin and spec.has_location and _under(spec.origin, sites):
            found.append(f"{module.__name__}.{name}")
    return found


def _shadowed(top, folders):
    # A module, package or namespace portion of that name in a folder that goes first on sys.path later (an
    # unreadable folder counts as one that has it: the real import decides).
    for folder in folders:
        if not folder:
            continue
        try:
            entries = os.listdir(folder)
        except OSError:
            return True
        if any(entry == top or entry.startswith(top + ".") for entry in entries):
            return True
    return False


def _installed(top, sites, code_dir):
    # find_spec of a top-level name imports nothing; a module found outside site-packages (the standard library,
    # a PYTHONPATH folder, the code folder itself on PYTHONPATH) is not one to import ahead.
    try:
        spec = importlib.util.find_spec(top)
    except BaseException:
        return False
    if spec is None:
        return False
    places = list(spec.submodule_search_locations or [])
    if spec.origin and spec.has_location:
        places.append(spec.origin)
    return bool(places) and all(_under(p, sites) and not _under(p, [code_dir]) for p in places)


def import_ahead(script, code_dir, module_dir):
    sites = [_real(f) for f in site.getsitepackages()]
    if site.ENABLE_USER_SITE and site.USER_SITE:
        sites.append(_real(site.USER_SITE))
    done = []
    for name, taken in _names(script):
        top = name.partition(".")[0]
        if top in ("prs", "azureml_user", "mpi4py") or _shadowed(top, [code_dir, module_dir]):
            continue
        if _installed(top, sites, _real(code_dir)):
            module = importlib.import_module(name)
            done.append(name)
            for sub in _submodules(module, taken, sites):
                importlib.import_module(sub)
                done.append(sub)
    return done
)PY";

// fd moved onto a memory file; -1 if none could be made.
int hold_fd(int fd, const char* name) {
  const int file = memfd_create(name, MFD_CLOEXEC);
  if (file < 0) return -1;
  if (dup2(file, fd) != fd) {
    ::close(file);
    return -1;
  }
  return file;
}

void copy_all(int from, int to) {
  if (lseek(from, 0, SEEK_SET) != 0) return;
  char buf[65536];
  for (ssize_t n; (n = ::read(from, buf, sizeof buf)) > 0;)
    for (ssize_t done = 0; done < n;) {
      const ssize_t w = ::write(to, buf + done, static_cast<std::size_t>(n - done));
      if (w <= 0) return;
      done += w;
    }
}

}  // namespace

std::vector<std::string> top_level_imports(const std::string& source) {
  static const std::regex line(R"(^(?:import|from)[ \t]+([A-Za-z_][A-Za-z0-9_]*))");
  static const std::regex more(R"(,[ \t]*([A-Za-z_][A-Za-z0-9_]*))");
  std::vector<std::string> names;
  auto add = [&](const std::string& name) {
    for (const std::string& n : names)
      if (n == name) return;
    names.push_back(name);
  };
  std::istringstream in(source);
  for (std::string text; std::getline(in, text);) {
    std::smatch m;
    if (!std::regex_search(text, m, line)) continue;
    add(m[1]);
    if (text.compare(0, 6, "import") != 0) continue;  // from X import a, b: a and b are not modules to look for
    std::string rest = text.substr(static_cast<std::size_t>(m.length(0)));
    rest = rest.substr(0, rest.find('#'));
    for (std::sregex_iterator it(rest.begin(), rest.end(), more), end; it != end; ++it) add((*it)[1]);
  }
  return names;
}

bool installed_under(const std::string& name, const std::vector<std::string>& folders) {
  for (const std::string& folder : folders) {
    std::error_code ec;
    if (fs::is_directory(fs::path(folder) / name, ec) || fs::is_regular_file(fs::path(folder) / (name + ".py"), ec) ||
        fs::is_regular_file(fs::path(folder) / (name + ".so"), ec))
      return true;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string file = it->path().filename().string();
      if (file.size() > name.size() + 4 && file.compare(0, name.size() + 1, name + ".") == 0 &&
          file.compare(file.size() - 3, 3, ".so") == 0)
        return true;
    }
  }
  return false;
}

std::vector<std::string> likely_site_folders(const std::string& python_env_prefix) {
  std::vector<std::string> folders;
  std::istringstream embedded(PRS_PYTHON_SITE_FOLDERS);  // ':'-separated, from CMake
  for (std::string folder; std::getline(embedded, folder, ':');)
    if (!folder.empty()) folders.push_back(folder);
  const std::string lib = std::string("/lib/python") + PRS_PYTHON_VERSION + "/site-packages";
  if (const char* home = std::getenv("HOME")) folders.push_back(std::string(home) + "/.local" + lib);
  if (!python_env_prefix.empty()) folders.push_back(python_env_prefix + lib);
  return folders;
}

std::vector<std::string> import_ahead(const std::string& script, const std::string& code_dir,
                                      const std::string& module_dir) {
  try {
    py::dict scope;
    scope["__name__"] = "_prs_import_ahead";
    py::exec(kImportAheadSource, scope);
    std::vector<std::string> done;
    for (const py::handle name : scope["import_ahead"](script, code_dir, module_dir))
      done.push_back(name.cast<std::string>());
    return done;
  } catch (const py::error_already_set& e) {
    throw Fatal(std::string("an import ahead raised: ") + e.what());
  }
}

bool HeldOutput::hold() {
  files_[0] = hold_fd(STDOUT_FILENO, "prs-held-stdout");
  files_[1] = hold_fd(STDERR_FILENO, "prs-held-stderr");
  return files_[0] >= 0 && files_[1] >= 0;
}

void HeldOutput::release() {
  std::fflush(nullptr);
  for (int i : {0, 1}) {
    if (files_[i] < 0) continue;
    copy_all(files_[i], i == 0 ? STDOUT_FILENO : STDERR_FILENO);
    ::close(files_[i]);
    files_[i] = -1;
  }
}

HeldOutput::~HeldOutput() {
  for (int file : files_)
    if (file >= 0) ::close(file);
}

}  // namespace prs
