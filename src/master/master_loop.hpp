#pragma once
// The master loop's class, shared by the two files that implement it: master.cpp (the loop, dispatch, results,
// stop rules) and master_faults.cpp (workers that restart, break, go silent or keep failing; the end handshake).
// Private to src/master/: the public entry point is run_master() in include/prs/master/master.hpp.
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "prs/master/master.hpp"
#include "prs/master/scheduler.hpp"
#include "prs/master/worker_roster.hpp"
#include "prs/mpi/mpi_comm.hpp"
#include "prs/mpi/protocol.hpp"

namespace prs::master_detail {

constexpr int kPrefetch = 2;              // tasks a worker holds: the one running and the next
constexpr double kProgressEvery = 5;      // seconds between progress lines
constexpr double kSilenceCheckEvery = 1;  // seconds between looks for lost workers

using Clock = std::chrono::steady_clock;

// The last line of a traceback: "ValueError: bad item".
std::string last_line(const std::string& text);

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
        rules_(plan.stop),
        roster_(plan.world_size, plan.config.quarantine_after_failures) {}

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
  void send(int rank, Tag tag, std::string bytes);
  double now() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  std::string where(int rank) const { return roster_.where(rank); }

  const MasterPlan& plan_;
  JobLogs& logs_;
  JournalWriter& journal_;
  Scheduler scheduler_;
  StopRules rules_;
  WorkerRoster roster_;
  std::vector<int> hungry_;  // ranks with a free prefetch slot, one entry per slot
  Outbox outbox_;
  JobOutcome outcome_;
  bool stopping_ = false;
  std::optional<double> abandon_at_;  // when a drain stops waiting for running mini-batches
  bool warned_extra_rows_ = false;
  bool refeed_ = false;  // work went back to the queue outside a message: feed without waiting for one
  int idle_ranks_ = 0;
  std::uint64_t unconfirmed_ = 0;  // committed rows a lost or broken worker never confirmed written
  Clock::time_point start_ = Clock::now();
  double last_progress_line_ = 0;
  double last_silence_check_ = 0;
  std::optional<double> first_task_;
};

}  // namespace prs::master_detail
