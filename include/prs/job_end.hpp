#pragma once
// The collective end of a job, on every rank at once: the workers' counters are summed onto rank 0, rank 0's exit
// code is broadcast so that every rank leaves with it, and the shared output is closed.
#include "prs/append_file.hpp"
#include "prs/job_logs.hpp"

namespace prs {

// What every rank learns at the end.
struct JobEnd {
  WorkerTotals totals;  // summed over all ranks (meaningful on rank 0)
  int exit_code = 0;    // rank 0's verdict
};

// Collective over MPI_COMM_WORLD; waits without spinning. Rank 0 passes the job's exit code, the others anything.
JobEnd end_job_collectively(const WorkerTotals& mine, int exit_code, AppendFile& output);

}  // namespace prs
