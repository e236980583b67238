#pragma once
// Rank 0: hands out mini-batches over MPI, places committed rows in the shared output, enforces thresholds.
// It never starts Python and never reads input data. Mirrors worker.hpp: each message kind has one handler here
// and one there.
#include "prs/config.hpp"
#include "prs/file_list.hpp"
#include "prs/job_logs.hpp"
#include "prs/partition.hpp"

namespace prs {

// Runs the master loop until every worker has been told to stop; returns the verdict and the master's counts
// (the workers' counters are added by the final collectives).
JobOutcome run_master(const JobConfig& config, const FileList& files, const Partition& partition, JobLogs& logs,
                      int world_size);

}  // namespace prs
