#pragma once
// Rank 0: hands out mini-batches over MPI, places committed rows in the shared output, journals every batch,
// enforces thresholds and stop rules (signals, walltime, timeouts). It never starts Python and never reads input
// data. Mirrors worker.hpp: each message kind has one handler here and one there.
#include "prs/config/config.hpp"
#include "prs/input/file_list.hpp"
#include "prs/input/partition.hpp"
#include "prs/input/table_plan.hpp"
#include "prs/logs/job_logs.hpp"
#include "prs/logs/progress.hpp"
#include "prs/logs/trace.hpp"
#include "prs/master/journal.hpp"
#include "prs/master/listing_feed.hpp"
#include "prs/master/stop_rules.hpp"

namespace prs {

// What the master works from.
struct MasterPlan {
  const JobConfig& config;
  const FileList& files;
  const Partition& partition;
  JobLogs& logs;
  JournalWriter& journal;
  int world_size = 2;
  const JournalState* resume = nullptr;  // with --resume: what the journal says
  std::uint64_t output_size = 0;         // committed bytes already in the output
  bool retry_failed = false;             // --retry-failed
  StopSettings stop;                     // timeouts, drain grace, walltime
  ProgressMode progress = ProgressMode::lines;  // resolved: bar, lines or none
  double progress_every = 5;             // seconds between plain progress lines
  TraceRecorder* trace = nullptr;        // --trace: spans recorded here (written by the caller)
  const TablePlan* table = nullptr;      // tabular input: the cuts (then files is empty, partition 1 per batch)
  const MLTable* mltable = nullptr;      // with table: how its header records are found
  ListingFeed* listing = nullptr;        // a listing that goes on: files and partition grow as it lists
};

// Runs the master loop until every worker has been told to stop; returns the verdict and the master's counts
// (the workers' counters are added by the final collectives).
JobOutcome run_master(const MasterPlan& plan);

}  // namespace prs
