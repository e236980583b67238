// Tests of the python_env reader (python_env.hpp): pyvenv.cfg's keys as venv and virtualenv write them, the checks
// against the embedded Python, and the string rank 0 broadcasts.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "prs/config/python_env.hpp"
#include "prs/error.hpp"

namespace fs = std::filesystem;

namespace {

// A fresh folder laid out as a venv: bin/python3 (a symlink to the embedded Python) and the pyvenv.cfg given.
std::string make_env(const std::string& name, const std::string& cfg) {
  const fs::path dir = fs::temp_directory_path() / ("prs_test_python_env_" + name);
  fs::remove_all(dir);
  fs::create_directories(dir / "bin");
  fs::create_symlink(prs::embedded_python(), dir / "bin" / "python3");
  if (!cfg.empty()) std::ofstream(dir / "pyvenv.cfg") << cfg;
  return dir.string();
}

std::string home() { return fs::path(prs::embedded_python()).parent_path().string(); }

std::string error_of(const std::string& prefix) {
  try {
    prs::read_python_env(prefix, "job.yml:3: python_env", "job.yml:3");
  } catch (const prs::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("python env: venv's and virtualenv's pyvenv.cfg", "[python_env]") {
  const std::string version = prs::embedded_python_version();
  std::string dir = make_env("venv", "home = " + home() + "\ninclude-system-site-packages = false\nversion = " +
                                         version + ".2\nexecutable = /usr/bin/python3\n");
  prs::PythonEnv env = prs::read_python_env(dir, "job.yml:3: python_env", "job.yml:3");
  CHECK(env.prefix == dir);
  CHECK(env.python == dir + "/bin/python3");
  CHECK(env.version == version + ".2");
  CHECK_FALSE(env.system_site_packages);
  CHECK(prs::describe_python_env(env) ==
        dir + " (python_env, job.yml:3), Python " + version + ".2, without system site packages");

  dir = make_env("virtualenv", "home = " + home() + "\nimplementation = CPython\nversion_info = " + version +
                                   ".2.final.0\nInclude-System-Site-Packages = True\n");
  env = prs::read_python_env(dir, "VIRTUAL_ENV", "VIRTUAL_ENV");
  CHECK(env.version == version + ".2.final.0");
  CHECK(env.system_site_packages);
  CHECK(prs::describe_python_env(env) ==
        dir + " (VIRTUAL_ENV), Python " + version + ".2.final.0, with system site packages");
}

TEST_CASE("python env: without a version, the lib/pythonX.Y folder decides", "[python_env]") {
  std::string dir = make_env("no_version", "home = " + home() + "\n");
  CHECK_THAT(error_of(dir), Catch::Contains("is a virtual environment of Python ? (pyvenv.cfg: home = " + home()));
  fs::create_directories(dir + "/lib/python" + prs::embedded_python_version());
  CHECK(prs::read_python_env(dir, "job.yml:3: python_env", "job.yml:3").version == prs::embedded_python_version());
}

TEST_CASE("python env: what is refused", "[python_env]") {
  const std::string py = prs::embedded_python();
  std::string dir = make_env("old", "home = /opt/py37/bin\nversion = 3.7.3\n");
  CHECK(error_of(dir) == "job.yml:3: python_env: " + dir + " is a virtual environment of Python 3.7.3 (pyvenv.cfg: "
                             "home = /opt/py37/bin), but the workers run Python " + prs::embedded_python_version() +
                             " (" + py + "); make it again with " + py + " -m venv --clear " + dir);
  dir = make_env("other_build", "home = /opt/py/bin\nversion = " + prs::embedded_python_version() + ".99\n");
  CHECK_THAT(error_of(dir), Catch::StartsWith("job.yml:3: python_env: " + dir + " was made from another Python"));
  dir = make_env("no_cfg", "");
  CHECK_THAT(error_of(dir), Catch::StartsWith("job.yml:3: python_env: " + dir + " is not a virtual environment"));
  CHECK_THAT(error_of(dir + "/nowhere"),
             Catch::StartsWith("job.yml:3: python_env: " + dir + "/nowhere: no such folder"));
  dir = make_env("no_bin", "home = " + home() + "\nversion = " + prs::embedded_python_version() + ".1\n");
  fs::remove(dir + "/bin/python3");
  CHECK(error_of(dir) == "job.yml:3: python_env: " + dir + " has no bin/python3; make it with " + py + " -m venv " +
                             dir + " (add --system-site-packages to keep Debian's packages)");
}

TEST_CASE("python env: the broadcast string round-trips, and none is empty", "[python_env]") {
  prs::PythonEnv env{"/v env", "/v env/bin/python3", "3.11.2", true, "VIRTUAL_ENV"};
  prs::PythonEnv back = prs::decode_python_env(prs::encode_python_env(env));
  CHECK(back.prefix == env.prefix);
  CHECK(back.python == env.python);
  CHECK(back.version == env.version);
  CHECK(back.system_site_packages);
  CHECK(back.origin == env.origin);
  CHECK(prs::encode_python_env(prs::PythonEnv{}).empty());
  CHECK(prs::decode_python_env("").prefix.empty());
}
