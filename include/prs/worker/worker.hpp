#pragma once
// A worker rank: one thread, no Python of its own. It answers the master and supervises the process that runs the
// entry script (python_supervisor.hpp), so that nothing the script does (a run() stuck in C, a segfault, an OOM
// kill, fork or multiprocessing, a thread that never ends) blocks the protocol, the final collectives or the exit
// code. Mirrors master.hpp: each message kind has one handler here and one there.
#include "prs/config/config.hpp"
#include "prs/mpi/mpi_comm.hpp"
#include "prs/output/append_file.hpp"

namespace prs {

// Runs this worker until the master says stop and the final collectives are done; returns the job's exit code.
int run_worker(const JobConfig& config, const NodeInfo& node, int rank, AppendFile& output);

}  // namespace prs
