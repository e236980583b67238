#pragma once
// A worker rank's Python process started before MPI_Init, so that the interpreter starts while MPI starts. Forking
// then is also the safe moment (no MPI state inherited). The process starts the interpreter and prs_mpi's runner,
// which run no code of the job and read nothing of it, and waits: it creates no file (but compiled modules of
// the standard library where Python caches them, as any python3 does) and prints nothing (fds 1 and 2 on
// /dev/null) until the rank adopts it (PythonProcess::adopt) after rank 0's first verdict (until then it runs as
// SCHED_BATCH, so as not to preempt the ranks in MPI_Init); only then are the entry script imported and init() run.
// The rank adopts it only if the interpreter and every startup variable are what the job gives the process now;
// otherwise it is killed and a fresh one started, as without it.
//
// Startup variables (is_startup_variable): what is read while a process and its interpreter start and is not read
// again, so setting it later would not do what the job asks:
//   PYTHON*, _PYTHON*  CPython's configuration (initconfig.c, preconfig.c: PYTHONPATH, PYTHONHOME, PYTHONSAFEPATH,
//                      PYTHONNOUSERSITE, PYTHONUSERBASE, PYTHONPYCACHEPREFIX, PYTHONDONTWRITEBYTECODE,
//                      PYTHONHASHSEED, PYTHONIOENCODING, PYTHONUNBUFFERED, PYTHONUTF8, PYTHONCOERCECLOCALE,
//                      PYTHONMALLOC, PYTHONDEVMODE, PYTHONWARNINGS, PYTHONFAULTHANDLER, ...) and sysconfig's
//                      _PYTHON_SYSCONFIGDATA_NAME & co: sys.path, sys.flags, the stdio streams are made from them;
//   LC_*, LANG, LANGUAGE  the locale (LC_ALL, LC_CTYPE, LANG decide UTF-8 mode, locale coercion and the file
//                      system encoding at pre-initialisation; the others are taken along);
//   HOME               site.py's user site folder (~/.local/lib/pythonX.Y/site-packages) on sys.path;
//   TZ                 the time module's timezone, read at its import;
//   LD_*               the dynamic loader's (LD_LIBRARY_PATH, LD_PRELOAD, ...), read at exec: a later dlopen
//                      (an extension module) still searches the paths of the start;
//   GLIBC_TUNABLES, MALLOC_*  glibc's malloc settings, read at the first malloc.
// Python's site start-up (.pth files, sitecustomize, usercustomize on sys.path, PYTHONPATH included) runs in the
// prestarted process, so before rank 0's checks; the entry script and init() run only after them.
// Every other variable (PRS_*, CUDA_VISIBLE_DEVICES, OMP_NUM_THREADS & co., PATH, VIRTUAL_ENV, the job's other
// environment_variables) is read when the script or a library asks for it, after the rank set the process's
// environment (C environ and os.environ alike) to the very entries it would have inherited.
#include <optional>
#include <string>
#include <vector>

#include "prs/config/config.hpp"
#include "prs/worker/node_env.hpp"
#include "prs/worker/python_process.hpp"

namespace prs {

// This process's MPI rank as its launcher tells it before MPI_Init: the first of OMPI_COMM_WORLD_RANK (Open MPI),
// PMIX_RANK (PMIx), PMI_RANK (MPICH's Hydra, Intel MPI) and SLURM_PROCID (srun) that is set, in this order (an
// mpirun inside a Slurm allocation leaves the batch step's SLURM_PROCID=0 to every rank); nullopt when none is set
// or the first set is not a number.
std::optional<int> launcher_rank(const Environment& env);

// Whether max_concurrency_per_instance (cap; 0 = none) leaves this worker idle wherever rank 0 runs: its worker
// slot on the node is at least its launcher's local rank (OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID,
// SLURM_LOCALID, the first set) minus 1, so a local rank above cap says so; false when unknown.
bool surely_idle(const Environment& env, int cap);

// Whether a worker prestarts its Python process. PRS_PRESTART=on says yes, off (or any other value but auto) no;
// unset or auto: only when the node has a core for each of its ranks and for each of their interpreters
// (2 x local ranks - 1 <= cores; the local rank count from OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS or SLURM_NTASKS_PER_NODE, the first set): where
// cores are short, the interpreters' start takes the CPU MPI_Init needs (measured on 2 cores with 4 ranks and
// OMPI_MCA_pml=ob1: mpirun -> first run() 252 ms with it against 211 ms without). Unknown counts: no prestart.
bool prestart_wanted(const Environment& env, unsigned cores);

// A variable an MPI launcher sets for its ranks (PMIX_*, OMPI_COMM_WORLD_*, ...): the Python process is no rank and
// drops them, so that an mpi4py in the entry script finds itself a singleton.
bool is_launcher_variable(const std::string& name);

// A variable read while a process and its interpreter start (the list above).
bool is_startup_variable(const std::string& name);

// The startup variables of env (NAME=VALUE entries), sorted; launcher variables left out.
std::vector<std::string> startup_entries(const std::vector<std::string>& env);

// The names of the startup variables whose values differ between the two lists of startup_entries, "PYTHONPATH,
// HOME"; "" when none does.
std::string startup_differences(const std::vector<std::string>& started, const std::vector<std::string>& now);

// A prestarted Python process and what it started with.
struct PrestartedPython {
  PythonProcess process;
  std::string python;                // its interpreter (sys.executable)
  std::vector<std::string> startup;  // its startup variables (startup_entries)
};

// On a worker rank (launcher_rank > 0), before MPI_Init: starts the Python process with the interpreter and the
// environment the job will most likely give it: the job file's python_env, else this process's VIRTUAL_ENV (rank
// 0 decides after its checks), and apply_job_environment's variables (none on a worker surely_idle); the interpreter
// and prs_mpi's runner start in it, nothing of the job's. nullopt on rank 0, on an unknown rank, or when it cannot
// start (the worker then starts its process as without this).
std::optional<PrestartedPython> prestart_python(const JobConfig& config);

// Ends a prestarted process (killed and reaped, so no process is left behind) and forgets it; nothing without one.
void end_prestarted(std::optional<PrestartedPython>& prestarted);

// Why the prestarted process cannot run the job as its worker sets it up now: "" if it can, else what differs
// ("it ended: killed by signal 9", "the interpreter is /v/bin/python3, not /usr/bin/python3", "startup variables
// differ: PYTHONHOME", "no log files"). python: the final interpreter ("" = the embedded one's); env: the rank's
// environment now, which the process would inherit.
std::string prestart_mismatch(PrestartedPython& prestarted, const std::string& python,
                              const std::vector<std::string>& env, bool log_files);

}  // namespace prs
