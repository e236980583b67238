#pragma once
// The collective start and end of a job, on every rank at once. At the start rank 0 says whether the job goes on
// once it has listed and planned the input (the workers' Python processes run init() meanwhile). At the end the
// workers' counters are summed onto rank 0 and rank 0's exit code is broadcast so that every rank leaves with it.
// Each worker has closed the shared output before it (append_file.hpp), so rank 0 may read the file after it.
#include <cstdint>

namespace prs {

// Rank 0's word once the input is planned: go, or why the job ends before its first mini-batch.
enum class StartVerdict : int { go = 0, fatal = 1, bad_input = 2, nothing_to_do = 4 };

// Collective over MPI_COMM_WORLD; waits without spinning (rank 0 may take minutes to list a slow file system while
// the workers wait here). Rank 0 passes its verdict, the others anything; every rank gets rank 0's.
StartVerdict broadcast_verdict(StartVerdict mine);

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
