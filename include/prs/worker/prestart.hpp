#pragma once
// A worker rank's Python process started before MPI_Init, so that the interpreter starts while MPI starts. Forking
// then is also the safe moment (no MPI state inherited). The process starts the interpreter and prs_mpi's runner,
// which run no code of the job (with imports ahead, below, it reads the entry script to parse it), and waits: it
// creates no file (but compiled modules of the standard library where Python caches them, as any python3 does) and
// prints nothing (fds 1 and 2 on /dev/null) until the rank adopts it (PythonProcess::adopt) after rank 0's first
// verdict (until then it runs as SCHED_BATCH, so as not to preempt the ranks in MPI_Init); only then are the entry
// script imported and init() run.
// The rank adopts it only if the interpreter and every startup variable are what the job gives the process now;
// otherwise it is killed and a fresh one started, as without it.
//
// Imports ahead (preload.hpp): when the entry script's top-level imports name installed modules (site-packages:
// pandas, sklearn.ensemble, torch; never the code folder's, a PYTHONPATH folder's or the standard library's), the
// process imports them too while MPI starts, and the script's own import later finds them loaded. What a user can
// see of it:
//   - those modules' import-time code runs before rank 0's checks, also for a job rank 0 then refuses (a module
//     that writes a file or connects somewhere at its import does so early); the script and its own modules never;
//   - what they print at their import (a library's warning) is held in memory and written to the log files just
//     after the start marker, stdout's and stderr's each in order (how the two interleaved is lost);
//   - they import with sys.argv [''] (not yet the script's program_arguments) in the rank's working directory, in
//     the environment the worker gives its process later (the job's environment_variables, apply_worker_resources'
//     thread counts and GPU for the node likely_node predicts); what they set in os.environ stays set;
//   - the variables MPI_Init adds to the rank's environment (PSM2_DEVICES) are not set yet while they import;
//   - an adopted process whose environment changes or lacks a variable it imported with (PRS_* and
//     AZUREML_BI_OUTPUT_PATH aside: another node layout than predicted), or one of whose imports ahead raised,
//     re-executes itself as a fresh process before anything runs: the script's import then runs and fails
//     exactly as without this. mpi4py is never imported ahead (its import starts MPI).
// PRS_PRESTART=off leaves all of it out.
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
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "prs/config/config.hpp"
#include "prs/worker/node_env.hpp"
#include "prs/worker/python_process.hpp"
#include "prs/worker/row_region.hpp"

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
// unset or auto: when the entry script has installed modules to import ahead (imports_ahead), or when the node
// has a core for each of its ranks and for each of their interpreters (2 x local ranks - 1 <= cores; the local
// rank count from OMPI_COMM_WORLD_LOCAL_SIZE, MPI_LOCALNRANKS or SLURM_NTASKS_PER_NODE, the first set; unknown: no).
// Where cores are short, an interpreter's start alone takes the CPU MPI_Init needs (2 cores, 4 ranks,
// OMPI_MCA_pml=ob1: mpirun -> first run() 252 ms with it against 211 ms without), but imports ahead pay even there
// (benchmarks/README.md, Peers: 2 cores, 3 ranks, pandas ahead: 0.19 s less to the first run() with Open MPI's
// default transports, 0.02 s with ob1; a prestart without them: 0.01 s less and 0.04 s more).
bool prestart_wanted(const Environment& env, unsigned cores, bool imports_ahead = false);

// The node as node discovery will most likely find it for this worker rank, from its launcher's variables before
// MPI_Init: local rank (OMPI_COMM_WORLD_LOCAL_RANK, MPI_LOCALRANKID, SLURM_LOCALID) and local rank count (as
// prestart_wanted), rank 0 on this node when rank == local rank (ranks placed by slot, as mpirun and srun do by
// default); the host is left empty. nullopt when either is unknown.
std::optional<NodeInfo> likely_node(const Environment& env, int rank);

// Whether the entry script of config has a column-0 import of a module installed in a site-packages folder of its
// interpreter (preload.hpp: top_level_imports, installed_under, likely_site_folders) that neither its code folder
// nor prs_mpi's python/ folder holds: a cheap guess, before MPI_Init, that imports ahead have something to do.
bool has_imports_ahead(const JobConfig& config);

// The names of the variables of the environment a prestarted process imported ahead in (started) that the one it
// is adopted with (now) changes or removes ("CUDA_VISIBLE_DEVICES, OMP_NUM_THREADS", sorted; "" when none),
// launcher variables, PRS_* and AZUREML_BI_OUTPUT_PATH (prs_mpi's own, which installed modules do not read) left
// out: a module may have read any other at its import, so the process is then replaced by a fresh one. Variables
// only `now` has are left out too: MPI_Init adds its own to the rank's environment (PSM2_DEVICES), which the
// imports ahead cannot have seen; every variable prs_mpi gives the process (the job's, the thread counts, the GPU)
// is in `started` already, as predicted.
std::string import_differences(const std::vector<std::string>& started, const std::vector<std::string>& now);

// What differs from before to after (NAME=VALUE entries): NAME=VALUE for a variable set or changed, NAME for one
// removed, in after's order, then before's.
std::vector<std::string> environment_changes(const std::vector<std::string>& before,
                                             const std::vector<std::string>& after);

// env with the changes of environment_changes made to it.
std::vector<std::string> with_changes(const std::vector<std::string>& env, const std::vector<std::string>& changes);

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
  std::shared_ptr<RowRegion> region;  // the rows region it found on fd 5 (the worker keeps it for every process)
  std::string python;                // its interpreter (sys.executable)
  std::vector<std::string> startup;  // its startup variables (startup_entries)
};

// On a worker rank (launcher_rank > 0), before MPI_Init: starts the Python process with the interpreter and the
// environment the job will most likely give it: the job file's python_env, else this process's VIRTUAL_ENV (rank
// 0 decides after its checks), and apply_job_environment's variables (none on a worker surely_idle); the interpreter
// and prs_mpi's runner start in it, nothing of the job's. When has_imports_ahead and likely_node know something, it
// also gets apply_worker_resources' variables for that node and imports the entry script's installed modules ahead
// (preload.hpp). nullopt on rank 0, on an unknown rank, or when it cannot start (the worker then starts its process
// as without this).
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
