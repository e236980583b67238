#include "prs/mpi/job_end.hpp"

#include <vector>

#include "prs/mpi/mpi_comm.hpp"

namespace prs {

StartVerdict broadcast_verdict(StartVerdict mine) {
  return static_cast<StartVerdict>(broadcast_int(static_cast<int>(mine)));
}

JobEnd end_job_collectively(const WorkerTotals& mine, int exit_code) {
  std::vector<std::uint64_t> sums = reduce_sum(
      {mine.attempts_run, mine.attempts_failed, mine.timeouts, mine.bytes_written, mine.run_micros});
  JobEnd end;
  end.totals = {sums[0], sums[1], sums[2], sums[3], sums[4]};
  end.exit_code = broadcast_int(exit_code);
  return end;
}

}  // namespace prs
