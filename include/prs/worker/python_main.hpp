#pragma once
// The entry script's process: `prs_mpi --python-process`, started by a worker rank (python_process.hpp). It embeds
// Python like /usr/bin/python3 (UTF-8 as on a UTF-8 system, PYTHONUTF8 and LC_ALL honoured), never initialises
// MPI, serves init/task/shutdown frames on fds 3 and 4 (python_link.hpp) and ends without finalising Python, so a
// non-daemon thread the script left running cannot keep it alive.

namespace prs {

// The internal mode's main(), for `prs_mpi --python-process` (started after MPI_Init: its settings come at once)
// and `prs_mpi --python-process --prestart PYTHON [--preload SCRIPT CODE_DIR] [MODULE...]` (started before
// MPI_Init, see prestart.hpp); returns the process's exit code (it normally leaves through _exit).
int run_python_process(int argc, char** argv);

}  // namespace prs
