#pragma once
// The master loop's class, shared by the three files that implement it: master.cpp (the loop, dispatch, results,
// stop rules), master_faults.cpp (workers that restart, break, go silent or keep failing; the end handshake) and
// master_records.cpp (the spans, phases and per-worker statistics of the trace and the summary).
// Private to src/master/: the public entry point is run_master() in include/prs/master/master.hpp.
#include <chrono>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "prs/master/master.hpp"
#include "prs/master/scheduler.hpp"
#include "prs/master/worker_roster.hpp"
#include "prs/mpi/mpi_comm.hpp"
#include "prs/mpi/protocol.hpp"

namespace prs::master_detail {

constexpr int kPrefetchFloor = 2;         // tasks a worker holds at least: the one running and the next
constexpr int kPrefetchCeiling = 16;      // and at most, when run() is short
constexpr double kPrefetchCover = 0.002;  // seconds of run() the tasks queued at a worker should cover
constexpr int kSlowestShown = 5;          // running attempts the status snapshot lists
constexpr double kSilenceCheckEvery = 1;  // seconds between looks for lost workers
constexpr int kListingLowWater = 2 * kPrefetchCeiling;  // per worker: fewer queued mini-batches pull the listing

using Clock = std::chrono::steady_clock;

// The last line of a traceback: "ValueError: bad item".
std::string last_line(const std::string& text);

// An attempt sent and not answered: what the trace and the status of running mini-batches need.
struct Sent {
  std::uint64_t batch = 0;
  std::uint32_t number = 0;
  int rank = 0;
  double at = 0;  // seconds since the start
};

class Master {
 public:
  explicit Master(const MasterPlan& plan)
      : plan_(plan),
        logs_(plan.logs),
        journal_(plan.journal),
        scheduler_(plan.partition, plan.config.max_retries,
                   {plan.config.mini_batch_error_threshold, plan.config.error_threshold,
                    plan.config.allowed_failed_percent},
                   plan.config.append_row_dataframe_header),
        listing_(plan.listing),
        rules_(plan.stop),
        roster_(plan.world_size, plan.config.quarantine_after_failures),
        progress_(plan.progress, plan.progress_every, plan.logs.dir()),
        trace_(plan.trace != nullptr ? *plan.trace : no_trace_),
        stats_(static_cast<std::size_t>(plan.world_size)),
        free_since_(static_cast<std::size_t>(plan.world_size), 0.0) {
    if (listing_ != nullptr) scheduler_.grow(plan.partition, true);
  }

  JobOutcome run();

 private:
  void restore();
  TaskMsg task_for(const Attempt& a) const;
  void handle(const Message& m);
  void on_ready(int rank, const ReadyMsg& m);
  void on_init_failed(int rank, const InitFailedMsg& m);
  void on_restarting(int rank, const TextMsg& m);
  void on_fatal(int rank, const TextMsg& m);
  void on_result(int rank, const ResultMsg& m);
  void on_written(int rank, const WrittenMsg& m);
  void settle(int rank, const Attempt& a, const ResultMsg& m);
  void log_failure(int rank, const Attempt& a, const std::string& error);
  void feed();
  void pull_listing();
  void listing_failed(const std::string& what);
  void listing_ended();
  void top_up(int rank);
  void check_stop();
  void check_silent();
  void lose(int rank, const std::string& why);
  void quarantine(int rank);
  void drop_slots(int rank);
  void forget_writes(int rank);
  void stop(ExitCode code, const std::string& reason, double grace);
  void abandon_running();
  bool done();
  void finish_workers();
  std::string no_worker_reason() const;
  void report_progress(bool force);
  ProgressSnapshot snapshot() const;
  void record_end(int rank, const Attempt& a, const ResultMsg& r);
  void record_ready(int rank, const ReadyMsg& m);
  void record_phases(double loop_end);
  void fill_stats();
  void send(int rank, Tag tag, std::string bytes);
  double now() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  std::string where(int rank) const { return roster_.where(rank); }

  const MasterPlan& plan_;
  JobLogs& logs_;
  JournalWriter& journal_;
  Scheduler scheduler_;
  ListingFeed* listing_;  // a listing that goes on (nullptr once it ended, or for a whole plan)
  StopRules rules_;
  WorkerRoster roster_;
  std::vector<int> hungry_;  // ranks with a free prefetch slot, one entry per slot
  RunTimeAverage run_times_;  // of every worker's run() calls: how long the loop may sleep between polls
  Outbox outbox_;
  JobOutcome outcome_;
  bool stopping_ = false;
  std::optional<double> abandon_at_;  // when a drain stops waiting for running mini-batches
  bool warned_extra_rows_ = false;
  bool refeed_ = false;  // work went back to the queue outside a message: feed without waiting for one
  int idle_ranks_ = 0;
  Clock::time_point start_ = Clock::now();
  ProgressReporter progress_;
  TraceRecorder no_trace_;
  TraceRecorder& trace_;
  std::vector<WorkerStat> stats_;             // per rank (index 0 unused)
  std::vector<double> free_since_;            // per rank: when it last ended an attempt or became ready
  std::unordered_map<std::uint64_t, Sent> sent_;  // by attempt id
  std::uint64_t done_at_start_ = 0;           // mini-batches already ended before this run (--resume)

  double last_silence_check_ = 0;
  std::optional<double> first_task_;
};

}  // namespace prs::master_detail
