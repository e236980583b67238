// The rules of a worker's Python process started before MPI_Init (prestart.hpp): which rank the launcher says this
// is, which variables must be final before the interpreter starts, and when a prestarted process is not adopted.
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include <catch2/catch.hpp>

#include "prs/worker/prestart.hpp"

using namespace prs;

TEST_CASE("launcher_rank takes the first launcher variable that is set", "[prestart]") {
  CHECK(launcher_rank(Environment({"OMPI_COMM_WORLD_RANK=3", "PMIX_RANK=5", "SLURM_PROCID=0"})) == 3);
  CHECK(launcher_rank(Environment({"SLURM_PROCID=0", "PMIX_RANK=2"})) == 2);  // PMIx before srun's
  CHECK(launcher_rank(Environment({"PMI_RANK=4", "SLURM_PROCID=0"})) == 4);   // Hydra inside an allocation
  CHECK(launcher_rank(Environment({"SLURM_PROCID=7"})) == 7);
  CHECK(launcher_rank(Environment({"OMPI_COMM_WORLD_RANK=0"})) == 0);
}

TEST_CASE("launcher_rank is unknown without a launcher or with a value that is not a rank", "[prestart]") {
  CHECK_FALSE(launcher_rank(Environment({"HOME=/root", "PATH=/bin"})).has_value());
  CHECK_FALSE(launcher_rank(Environment({"OMPI_COMM_WORLD_RANK=", "PMIX_RANK=1"})).has_value());
  CHECK_FALSE(launcher_rank(Environment({"PMIX_RANK=1x"})).has_value());
  CHECK_FALSE(launcher_rank(Environment({"PMI_RANK=-1"})).has_value());
}

TEST_CASE("surely_idle: a local rank above max_concurrency_per_instance, whichever node rank 0 is on", "[prestart]") {
  CHECK(surely_idle(Environment({"OMPI_COMM_WORLD_LOCAL_RANK=3"}), 2));  // slot 2 or 3 of 2 active workers
  CHECK_FALSE(surely_idle(Environment({"OMPI_COMM_WORLD_LOCAL_RANK=2"}), 2));  // slot 1 if rank 0 is on this node
  CHECK_FALSE(surely_idle(Environment({"OMPI_COMM_WORLD_LOCAL_RANK=9"}), 0));  // no cap
  CHECK(surely_idle(Environment({"MPI_LOCALRANKID=2", "SLURM_LOCALID=0"}), 1));
  CHECK_FALSE(surely_idle(Environment({"SLURM_LOCALID=0", "PMIX_RANK=5"}), 1));
  CHECK_FALSE(surely_idle(Environment({"PMIX_RANK=5"}), 1));  // unknown
  CHECK_FALSE(surely_idle(Environment({"OMPI_COMM_WORLD_LOCAL_RANK=x9"}), 1));
}

TEST_CASE("prestart_wanted: on, off, or where the node has a core for every rank and interpreter", "[prestart]") {
  CHECK(prestart_wanted(Environment({"OMPI_COMM_WORLD_LOCAL_SIZE=4"}), 8));      // 4 ranks + 3 interpreters <= 8
  CHECK(prestart_wanted(Environment({"OMPI_COMM_WORLD_LOCAL_SIZE=4"}), 7));
  CHECK_FALSE(prestart_wanted(Environment({"OMPI_COMM_WORLD_LOCAL_SIZE=4"}), 6));
  CHECK_FALSE(prestart_wanted(Environment({"OMPI_COMM_WORLD_LOCAL_SIZE=4"}), 2));  // this VM: 2 cores
  CHECK(prestart_wanted(Environment({"MPI_LOCALNRANKS=9", "OMPI_COMM_WORLD_LOCAL_SIZE=2"}), 3));  // Open MPI's first
  CHECK(prestart_wanted(Environment({"SLURM_NTASKS_PER_NODE=16"}), 64));
  CHECK_FALSE(prestart_wanted(Environment({"SLURM_NTASKS_PER_NODE=2(x3)"}), 64));  // not a count: unknown
  CHECK_FALSE(prestart_wanted(Environment({"PMIX_RANK=1"}), 64));                 // unknown
  CHECK(prestart_wanted(Environment({"PRS_PRESTART=on", "OMPI_COMM_WORLD_LOCAL_SIZE=4"}), 2));
  CHECK_FALSE(prestart_wanted(Environment({"PRS_PRESTART=off", "OMPI_COMM_WORLD_LOCAL_SIZE=2"}), 64));
  CHECK(prestart_wanted(Environment({"PRS_PRESTART=auto", "OMPI_COMM_WORLD_LOCAL_SIZE=2"}), 64));
  CHECK_FALSE(prestart_wanted(Environment({"PRS_PRESTART=yes", "OMPI_COMM_WORLD_LOCAL_SIZE=2"}), 64));
}

TEST_CASE("is_startup_variable: what the interpreter, the loader and malloc read at the start", "[prestart]") {
  for (const char* name : {"PYTHONPATH", "PYTHONHOME", "PYTHONPYCACHEPREFIX", "PYTHONUTF8", "PYTHONSAFEPATH",
                           "_PYTHON_SYSCONFIGDATA_NAME", "LC_ALL", "LC_CTYPE", "LANG", "LANGUAGE", "HOME", "TZ",
                           "LD_LIBRARY_PATH", "LD_PRELOAD", "MALLOC_ARENA_MAX", "GLIBC_TUNABLES"})
    CHECK(is_startup_variable(name));
  for (const char* name : {"PATH", "VIRTUAL_ENV", "PRS_RANK", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "HOMEDIR",
                           "LANGX", "TZDIR", "MY_PYTHONPATH", "OMPI_COMM_WORLD_RANK"})
    CHECK_FALSE(is_startup_variable(name));
}

TEST_CASE("startup_entries keeps the startup variables, sorted, launcher variables left out", "[prestart]") {
  CHECK(startup_entries({"PATH=/bin", "PYTHONPATH=./lib", "HOME=/root", "PMIX_RANK=1", "PRS_RANK=1", "LANG=C.UTF-8"}) ==
        std::vector<std::string>{"HOME=/root", "LANG=C.UTF-8", "PYTHONPATH=./lib"});
}

TEST_CASE("startup_differences names each variable set, unset or changed, once", "[prestart]") {
  const std::vector<std::string> started = startup_entries({"HOME=/root", "PYTHONHOME=/usr", "LANG=C"});
  CHECK(startup_differences(started, started).empty());
  CHECK(startup_differences(started, startup_entries({"HOME=/root", "LANG=C", "PATH=/v/bin:/bin"})) ==
        "PYTHONHOME");
  CHECK(startup_differences(started, startup_entries({"HOME=/home/u", "PYTHONHOME=/usr", "LANG=C",
                                                      "PYTHONPATH=./lib"})) == "HOME, PYTHONPATH");
}

TEST_CASE("Environment changes its entries as setenv and unsetenv change the process's", "[prestart]") {
  Environment env({"A=1", "B=2", "C=3"});
  env.set("B", "20");
  env.set("D", "4");
  env.set("A", "10", false);  // overwrite 0: what is there stays
  env.unset("C");
  CHECK(env.entries() == std::vector<std::string>{"A=1", "B=20", "D=4"});
  CHECK(std::string(env.get("D")) == "4");
  CHECK(env.get("C") == nullptr);
  CHECK(env.get("") == nullptr);
}

TEST_CASE("apply_job_environment: the venv's activation, environment_variables, no bytecode for code in the input",
          "[prestart]") {
  JobConfig config;
  config.python_env.prefix = "/v";
  config.python_env.python = "/v/bin/python3";
  config.environment_variables = {{"PYTHONPATH", "./lib"}};
  config.input_path = "/job/data";
  config.code_dir = "/job/src";
  Environment env({"HOME=/root", "PATH=/bin", "PYTHONHOME=/usr"});
  apply_job_environment(config, env);
  CHECK(env.entries() == std::vector<std::string>{"HOME=/root", "PATH=/v/bin:/bin", "VIRTUAL_ENV=/v",
                                                  "PYTHONPATH=./lib"});  // Python caches as it always does
  config.code_dir = "/job/data/src";  // inside the input: nothing is written there while it is listed
  Environment inside({"HOME=/root"});
  apply_job_environment(config, inside);
  CHECK(inside.get("PYTHONDONTWRITEBYTECODE") == std::string("1"));
  config.code_dir = "/job/data-src";  // a sibling whose name starts the same is not inside
  Environment sibling({"HOME=/root"});
  apply_job_environment(config, sibling);
  CHECK(sibling.get("PYTHONDONTWRITEBYTECODE") == nullptr);
  config.code_dir = "/job/data/src";
  Environment elsewhere({"PYTHONPYCACHEPREFIX=/cache"});  // the user's cache folder: the modules go there
  apply_job_environment(config, elsewhere);
  CHECK(elsewhere.get("PYTHONDONTWRITEBYTECODE") == nullptr);
}

namespace {

// A stand-in for prs_mpi --python-process --prestart: a shell script that waits (its arguments ignored).
std::string waiting_script() {
  const std::string path = "/tmp/prs_unit_prestart_" + std::to_string(getpid()) + ".sh";
  FILE* f = std::fopen(path.c_str(), "w");
  REQUIRE(f != nullptr);
  std::fputs("#!/bin/sh\nexec sleep 30\n", f);
  std::fclose(f);
  REQUIRE(chmod(path.c_str(), 0755) == 0);
  return path;
}

}  // namespace

TEST_CASE("prestart_mismatch: adopted only with the same interpreter, startup variables and log files", "[prestart]") {
  const std::string script = waiting_script();
  const std::vector<std::string> env{"HOME=/root", "PATH=/bin", "PYTHONPATH=./lib"};
  PrestartedPython p;
  p.python = "/usr/bin/python3";
  p.process = PythonProcess::prestart(script, p.python, -1, env);
  p.startup = startup_entries(env);
  std::remove(script.c_str());
  CHECK(prestart_mismatch(p, "/usr/bin/python3", {"PATH=/v/bin:/bin", "HOME=/root", "PYTHONPATH=./lib", "PRS_RANK=1"},
                          true) == "");
  CHECK(prestart_mismatch(p, "/v/bin/python3", env, true) == "the interpreter is /v/bin/python3, not /usr/bin/python3");
  CHECK(prestart_mismatch(p, "/usr/bin/python3", {"HOME=/root", "PATH=/bin"}, true) ==
        "startup variables differ: PYTHONPATH");
  CHECK(prestart_mismatch(p, "/usr/bin/python3", env, false) == "no log files: its output goes to the console");
  REQUIRE(kill(p.process.pid(), SIGKILL) == 0);
  std::string why;
  for (int i = 0; i < 2000 && why.rfind("it ended", 0) != 0; ++i) {  // until the kernel has ended it
    why = prestart_mismatch(p, "/usr/bin/python3", env, true);
    usleep(1000);
  }
  CHECK(why == "it ended: killed by signal 9 (SIGKILL, from the kernel's out-of-memory killer or another process)");
  std::optional<PrestartedPython> none;
  end_prestarted(none);
  CHECK_FALSE(none.has_value());
}
