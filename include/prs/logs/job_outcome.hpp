#pragma once
// What a job's end reports: the master's counts and the workers' totals, as job_result.txt and job_summary.json
// show them. Plain data, shared by the master (which fills it) and the logs (which write it).
#include <cstdint>
#include <string>
#include <vector>

#include "prs/error.hpp"
#include "prs/mpi/job_end.hpp"

namespace prs {

// Job-wide counts, as reported in job_result.txt.
struct JobCounts {
  std::uint64_t batches = 0, batches_succeeded = 0, batches_failed = 0;
  std::uint64_t items = 0, items_succeeded = 0, items_failed = 0;
  std::uint64_t attempts = 0, retries = 0, cancelled = 0;
  std::uint64_t output_bytes = 0;  // bytes committed to the shared output
  std::uint64_t batches_unconfirmed = 0;  // rows committed to a worker that was lost or broke before confirming them
};

// A bounded uniform sample of durations (reservoir sampling, deterministic): exact up to kept values, a uniform
// sample of them beyond, so the quantiles of a job of millions of mini-batches cost a fixed amount of memory.
struct TimeSample {
  static constexpr std::size_t kept = 100000;  // values kept at most (800 kB)
  std::vector<double> values;  // the sample (all values while seen <= kept)
  std::uint64_t seen = 0;      // values added
  std::uint64_t state = 0x9E3779B97F4A7C15ull;  // the generator's state (splitmix64)
  double max = 0;              // the largest value added (exact)
  // Adds a value: kept, or with probability kept/seen in place of a random one.
  void add(double v);
};

// One worker rank as the master saw it, for job_summary.json's per-worker and per-node stats.
struct WorkerStat {
  int rank = 0;
  std::string host;
  std::string state;              // "active", "retired", "lost", ... at the end
  double init_seconds = -1;       // from the master loop's start to its first init() return (0: before it); -1: never
  std::uint64_t attempts = 0;     // attempts it ended (cancelled ones not counted)
  std::uint64_t failed = 0;       // of those, failed or timed out
  std::uint64_t items_ok = 0;     // successful items of its attempts
  double run_seconds = 0;         // run() wall time summed
};

// How the job ended, as rank 0 reports it.
struct JobOutcome {
  ExitCode code = ExitCode::succeeded;
  std::string reason;          // why it failed; empty on success
  JobCounts counts;            // the master's counts
  WorkerTotals workers;        // the workers' counters
  int workers_started = 0;     // workers that ran init() successfully
  int workers_retired = 0;     // workers whose init() failed
  int workers_lost = 0;        // workers that stopped answering while they held work (their work went elsewhere)
  int workers_quarantined = 0;  // workers taken out of the job after failing mini-batches while others succeeded
  int python_restarts = 0;     // fresh Python processes started after a death, a hard timeout or recycling
  std::vector<int> lost_ranks;  // ranks that cannot join the end of the job: rank 0 aborts the job after the logs
  double seconds = 0;          // wall time of the master loop
  double dispatch_seconds = 0;  // from the first task sent to the end (the loop without workers' start-up)
  double master_cpu_seconds = 0;  // CPU time of rank 0's master loop thread in that time (no listing thread)
  double journal_seconds = 0;     // of the master loop's time, spent writing and syncing the journal
  std::uint64_t journal_bytes = 0;  // size of the journal
  std::vector<WorkerStat> per_worker;  // ranks 1..N in order
  TimeSample init_times;               // seconds from each Python process's start to its init() return (restarts too)
  TimeSample run_times;                // run() seconds of each ended attempt
};

}  // namespace prs
