#pragma once
// prs_mpi status JOB.yml|LOGS_DIR: how a running or ended job stands, from any shell, without disturbing it. It
// reads the logs folder only: the journal (read-only; the counts), job_result.txt (the verdict), the lock (tested
// with F_OFD_GETLK, never taken: held means running, a "running" verdict without a holder means killed) and
// sys/job_progress.json (rate, estimated time left and the slowest running mini-batches, as the master last wrote).
#include <ostream>
#include <string>

#include "prs/config/cli.hpp"

namespace prs {

// Prints the status of the job the command line names (a job file, or a logs folder). Throws prs::Error when
// there is no job there or its journal cannot be read.
void print_status(const CliOptions& cli, std::ostream& out);

// Whether a process holds the lock file's write lock (false when the file is missing).
bool lock_is_held(const std::string& lock_path);

}  // namespace prs
