#pragma once
// The collective end of a job, on every rank at once: the workers' counters are summed onto rank 0 and rank 0's
// exit code is broadcast so that every rank leaves with it. The caller closes the shared output after it.
#include <cstdint>

namespace prs {

// Sums over all workers, reduced to rank 0 at the end of the job.
struct WorkerTotals {
  std::uint64_t attempts_run = 0;     // run() calls
  std::uint64_t attempts_failed = 0;  // raised, timed out, returned a wrong type or too few rows
  std::uint64_t timeouts = 0;         // run() calls interrupted by the timeout
  std::uint64_t bytes_written = 0;    // output bytes written with MPI-IO
  std::uint64_t run_micros = 0;       // time spent inside run()
};

// What every rank learns at the end.
struct JobEnd {
  WorkerTotals totals;  // summed over all ranks (meaningful on rank 0)
  int exit_code = 0;    // rank 0's verdict
};

// Collective over MPI_COMM_WORLD; waits without spinning. Rank 0 passes the job's exit code, the others anything.
JobEnd end_job_collectively(const WorkerTotals& mine, int exit_code);

}  // namespace prs
