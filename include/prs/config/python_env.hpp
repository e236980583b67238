#pragma once
// The user's virtual environment for the workers' Python (python_env: in the job, or VIRTUAL_ENV): read from its
// pyvenv.cfg and checked against the embedded Python before any worker starts.
#include <string>

namespace prs {

// A virtual environment the workers' Python starts in, as its bin/python would.
struct PythonEnv {
  std::string prefix;         // absolute folder of the environment (sys.prefix); empty: none, Debian's python3
  std::string python;         // its interpreter, prefix/bin/python3 (sys.executable)
  std::string version;        // the Python version pyvenv.cfg gives ("3.11.2")
  bool system_site_packages = false;  // include-system-site-packages: Debian's dist-packages stay on sys.path
  std::string origin;         // "job.yml:5" (python_env) or "VIRTUAL_ENV"
};

// The embedded Python's version, "3.11", and interpreter, "/usr/bin/python3".
std::string embedded_python_version();
std::string embedded_python();

// Reads the environment at prefix (absolute) and checks it: a folder with a pyvenv.cfg, of the embedded Python's
// major.minor version, with a bin/python3 (or bin/python). `where` heads the message: "job.yml:5: python_env".
// Throws prs::Error naming the folder, both versions and the interpreter.
PythonEnv read_python_env(const std::string& prefix, const std::string& where, const std::string& origin);

// "/v (python_env, job.yml:5), Python 3.11.2, without system site packages", for the console and the logs.
std::string describe_python_env(const PythonEnv& env);

// The environment as one string and back: rank 0 resolves it (VIRTUAL_ENV is rank 0's), the workers take it.
std::string encode_python_env(const PythonEnv& env);
PythonEnv decode_python_env(const std::string& text);

}  // namespace prs
