#pragma once
// Internal to src/app*.cpp: rank 0's preparation of a job, in two steps around the start of the workers.
//
// Step 1, before any worker starts Python, holds every check that can fail fast: the job file and its values
// (the entry script exists, an MLTable file reads), the refusal of an earlier run's output or journal (or, with
// --resume, of a job without a journal), the folders, the job lock. A failure is one line and exit 2, nothing
// written. (An existing output without a journal may be one of the inputs: the listing says so first, in step 2.)
// Step 2 runs while the workers start their Python processes, import the entry script and run init(): the listing
// (for a streamed listing, its first mini-batch: the rest goes on while the master dispatches),
// the partition, the fingerprint (from the listing's own stat() of each file), --resume's checks against the
// journal, --overwrite's removal, the fresh output, the journal and the logs. A failure there (an unreadable input,
// a changed plan) is the same line and exit code; the workers' Python processes are ended first (shutdown() where
// init() returned), and the folders step 1 created for this job are removed, so nothing is left behind either.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "prs/config/cli.hpp"
#include "prs/config/config.hpp"
#include "prs/input/file_list.hpp"
#include "prs/input/input_plan.hpp"
#include "prs/input/listing_stream.hpp"
#include "prs/input/mltable.hpp"
#include "prs/input/partition.hpp"
#include "prs/input/table_plan.hpp"
#include "prs/logs/job_logs.hpp"
#include "prs/logs/trace.hpp"
#include "prs/master/job_lock.hpp"
#include "prs/master/journal.hpp"
#include "prs/master/listing_feed.hpp"

namespace prs::app_detail {

// A file as the file system knows it: a removed and recreated path has another.
struct FileIdentity {
  std::uint64_t device = 0;
  std::uint64_t inode = 0;
  bool operator==(const FileIdentity& o) const { return device == o.device && inode == o.inode; }
};

// Rank 0's start-up phases, for --trace: seconds since the process started (before MPI_Init).
class StartupClock {
 public:
  StartupClock();
  // Seconds since the start.
  double now() const;
  // Ends the phase that began where the previous one ended.
  void end(const std::string& name);
  // The wall-clock time of the start (Unix seconds).
  double origin_unix() const { return origin_unix_; }
  // Records the phases as spans on the master's track.
  void record(TraceRecorder& trace) const;

 private:
  struct Phase {
    std::string name;
    double start, seconds;
  };
  std::chrono::steady_clock::time_point origin_;
  double origin_unix_ = 0;
  double last_ = 0;
  std::vector<Phase> phases_;
};

// What rank 0 prepares before the master loop.
struct MasterSetup : InputPlan {  // the input: files and partition, or a table's cuts (see input_plan.hpp)
  JobConfig config;
  JournalState journal;         // fresh, or what --resume continues from
  std::uint64_t output_size = 0;  // committed bytes already in the output
  bool finished = false;        // --resume of a job that already ended: nothing to do
  JobLock lock;                 // one job per output and logs folder: held until rank 0 ends
  std::optional<JobLogs> logs;  // the logs folder, open (unless finished)
  JournalWriter journal_writer;  // the journal, created (unless finished)
  std::vector<std::string> created_folders;  // the topmost folders step 1's own mkdir created
  bool output_created = false;  // this job made its fresh output (an output there otherwise is another job's)
  std::optional<FileIdentity> output_identity;  // the append_row output the workers write, once it is there
  StartupClock* clock = nullptr;  // the phases are timed here when set
  std::unique_ptr<ListingStream> stream;  // a uri_folder listing that goes on while the master dispatches
  std::optional<ListingFeed> feed;        // with stream: files and partition grow from it (the master pulls)
};

// "" while the append_row output is still the file the job started with (or there is none); else why the rows the
// workers wrote may not be in it: it was removed or replaced while the job ran (a handle open on the file still
// writes into the removed one). For rank 0 after the final collectives.
std::string output_gone(const MasterSetup& s);

// Step 1: loads the job file and does every check that needs no listing, creates the folders, takes the lock.
// Throws prs::Error (bad input: exit 2) or another exception (fatal).
void check_before_workers(const CliOptions& cli, MasterSetup& s);

// Step 2a: lists and plans the input (s.index: the index pass it still needs). Throws as step 1. A fresh run of a
// uri_folder or uri_file input streams its listing (input/listing_stream.hpp), and so does a --resume of one whose
// journal's listing never ended: this step then ends with the first mini-batch listed (a resume: as many as the
// journal names; s.feed set, the master takes the rest as it comes), or with the whole listing if it ended first
// (an empty or unreadable input fails here as it always did).
void plan_while_workers_start(const CliOptions& cli, MasterSetup& s);

// Step 2b, after the collective index pass (input/index_pass.hpp) finished the plan: the fingerprint, --resume's
// checks against the journal, --overwrite's removal or a fresh output, the journal and the logs. Throws as step 1.
void finish_start(const CliOptions& cli, MasterSetup& s);

// The input's whole plan (a table's cuts, the index pass run serially, or the file listing) without a
// fingerprint: for --dry-run.
void plan_only(MasterSetup& s);

// Removes the folders step 1 created, with what was written in them since (the workers' logs of a job that ended
// before its first mini-batch). Warns instead of failing.
void remove_created_folders(const MasterSetup& s);

// With ordered: true, a finished job's rows are put in mini-batch order (the journal is read back for the layout).
void order_if_asked(const MasterSetup& setup);

}  // namespace prs::app_detail
