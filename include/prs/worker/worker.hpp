#pragma once
// A worker rank: Python on the main thread (where its signal handlers run, so the run() timeout can interrupt it),
// MPI on a second thread, so that a run() stuck in C code never blocks the protocol, the final collectives or the
// exit code. Mirrors master.hpp: each message kind has one handler here and one there.
#include "prs/config/config.hpp"
#include "prs/mpi/mpi_comm.hpp"
#include "prs/output/append_file.hpp"

namespace prs {

// Runs this worker until the master says stop and the final collectives are done; returns the job's exit code.
// Owns the embedded interpreter for its whole life.
int run_worker(const JobConfig& config, const NodeInfo& node, int rank, AppendFile& output);

}  // namespace prs
