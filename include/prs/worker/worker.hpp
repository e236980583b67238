#pragma once
// A worker rank: one thread, no Python of its own. It answers the master and supervises the process that runs the
// entry script (python_supervisor.hpp), so that nothing the script does (a run() stuck in C, a segfault, an OOM
// kill, fork or multiprocessing, a thread that never ends) blocks the protocol, the final collectives or the exit
// code. Mirrors master.hpp: each message kind has one handler here and one there.
#include <optional>

#include "prs/config/config.hpp"
#include "prs/mpi/mpi_comm.hpp"
#include "prs/output/append_file.hpp"
#include "prs/worker/prestart.hpp"

namespace prs {

// Starts the worker's Python process (init() runs while rank 0 lists and plans the input), waits for rank 0's start
// verdict (collective) and runs this worker (which opens the shared output on its own at its first commit and closes
// it before the end) until the master says stop and the final collectives are done; returns the job's exit code. When rank 0 ends the job before
// its first mini-batch, the Python process is ended and the final collectives run at once. prestarted: the Python
// process started before MPI_Init (prestart.hpp), adopted if it fits the job as set up here, else ended.
int run_worker(const JobConfig& config, const NodeInfo& node, int rank,
               std::optional<PrestartedPython> prestarted = std::nullopt);

}  // namespace prs
