#pragma once
// The entry script's installed imports, imported ahead by a prestarted Python process (prestart.hpp) while MPI
// starts: the modules its top-level `import X` and `from X import Y` statements name (Y too when it is a submodule
// of X, as the import itself would take it) that resolve in the interpreter's site-packages (not in the code
// folder, not in prs_mpi's own python/ folder, not on a PYTHONPATH of the job, not the standard library; never
// mpi4py, whose import starts MPI). No line of the job runs for this: the script is parsed (Python's ast), not
// executed. A script that does not parse, or names nothing installed, imports nothing ahead; one whose import
// raises makes the prestarted process unfit (once adopted it re-executes itself as a fresh process, whose real
// import reports the error as without this).
#include <string>
#include <vector>

namespace prs {

// The modules of the column-0 `import A, B.C` and `from D.E import F` lines of a Python source (relative imports
// and indented lines left out), top-level names only (A, B, D), each once, in order. A cheap guess made without
// Python: prestart_wanted's hint whether the script has anything to import ahead.
std::vector<std::string> top_level_imports(const std::string& source);

// Whether the name is an installed module under one of the folders (site-packages): a folder `name`, or a file
// `name.py`, `name.so` or `name.<tag>.so` there.
bool installed_under(const std::string& name, const std::vector<std::string>& folders);

// The site-packages folders the interpreter of a job most likely searches: the embedded Python's
// (site.getsitepackages() at build time), the user's (~/.local/lib/pythonX.Y/site-packages) and, with a
// python_env, its lib/pythonX.Y/site-packages.
std::vector<std::string> likely_site_folders(const std::string& python_env_prefix);

// In the prestarted process (its interpreter running): imports the installed modules the entry script at `script`
// names at its top level (the header's rule; code_dir and module_dir are not on sys.path now, and a name either
// holds is left to the real import) and returns their names as imported ("pandas", "sklearn.ensemble"); empty
// when the script does not parse or names none. Throws prs::Fatal when an import raised (anything: ImportError,
// SystemExit, ...): the process is then unfit, its modules half imported.
std::vector<std::string> import_ahead(const std::string& script, const std::string& code_dir,
                                      const std::string& module_dir);

// What a prestarted process writes on fds 1 and 2 while it imports ahead (a library's warning at its import),
// kept in memory files until its rank adopts it and then written to its log files, after their start marker.
class HeldOutput {
 public:
  // Puts fds 1 and 2 on two memory files; false if it could not (they stay on /dev/null).
  bool hold();
  // Writes what the memory files hold to fds 1 and 2 as they are now (the log files), and closes them.
  void release();
  HeldOutput() = default;
  ~HeldOutput();
  HeldOutput(const HeldOutput&) = delete;
  HeldOutput& operator=(const HeldOutput&) = delete;

 private:
  int files_[2] = {-1, -1};  // the memory files of fds 1 and 2
};

}  // namespace prs
