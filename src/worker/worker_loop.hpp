#pragma once
// The worker loop's class, shared by worker.cpp (the loop: the master's messages, the Python process's events, the
// rows held for commit) and worker_start.cpp (the worker's set-up before the loop: its logs, its environment, the
// prestarted process kept or ended). Private to src/worker/: the entry point is run_worker() in
// include/prs/worker/worker.hpp.
#include <chrono>
#include <cstdint>
#include <ctime>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "prs/logs/process_logs.hpp"
#include "prs/logs/resource_monitor.hpp"
#include "prs/mpi/job_end.hpp"
#include "prs/mpi/mpi_comm.hpp"
#include "prs/mpi/protocol.hpp"
#include "prs/output/append_file.hpp"
#include "prs/worker/prestart.hpp"
#include "prs/worker/python_supervisor.hpp"
#include "prs/worker/rows_ahead.hpp"

namespace prs::worker_detail {

constexpr int kMaxSkippedProbes = 3;  // passes in a row without an MPI probe while the Python process answers

// The worker loop: messages from the master on one side, the Python process's events on the other.
class Worker {
 public:
  Worker(SupervisorSettings settings, AppendFile& output, std::string host, int rank, bool idle,
         std::optional<ProcessLogs> logs, int level, ResourceMonitor monitor)
      : python_(std::move(settings)), output_(output), host_(std::move(host)), rank_(rank), idle_(idle),
        logs_(std::move(logs)), level_(level), monitor_(std::move(monitor)) {
    if (python_.settings().runner.table.format == TableFormat::hdf5) rows_.emplace(python_.settings().runner.table);
  }

  // Starts the Python process, or adopts the prestarted one (init() runs there while rank 0 still lists the
  // input); idle workers start none. note: what became of a prestarted process, for the sys log.
  void start(std::optional<PrestartedPython> prestarted, const std::string& note) {
    if (!note.empty()) log_sys(10, note);
    if (idle_) return;
    if (prestarted) python_.adopt(std::move(prestarted->process), std::move(prestarted->region));
    else python_.start();
  }
  // The protocol loop, then the final collectives; returns the job's exit code.
  int run();
  // The job ends before its first mini-batch (rank 0 found bad input while listing it): the Python process is
  // ended as at the end of a job (shutdown() if init() returned, else killed).
  void end_before_start();

 private:
  bool receive_messages();
  void handle(const Message& m);
  void on_task(TaskMsg t);
  void on_commit(const CommitMsg& m);
  void on_discard(const AttemptMsg& m) { held_.erase(m.attempt_id); }
  void on_cancel();
  void on_event(PythonEvent& e);
  void on_outcome(std::uint64_t attempt_id, RunOutcome& o, RowLease lease = {});
  void feed_python();
  bool hand_rows(const TaskMsg& t);
  void read_ahead();
  void note_started(const TaskMsg& t);
  void send_cancelled(std::uint64_t attempt_id);
  void report_fatal(const std::string& what);
  void close_output();
  void log_attempt(std::uint64_t attempt_id, const RunOutcome& o);
  void log_sys(int level, const std::string& text);

  // An attempt's rows waiting for commit or discard: in `rows`, or in a slot of the rows region (freed with it).
  struct Held {
    std::string header, rows;
    RowLease lease;
    std::string_view bytes() const { return lease ? lease.bytes() : std::string_view(rows); }
  };
  // A task handed to the Python process, as its log lines name it.
  struct Started {
    std::uint64_t batch_id = 0;
    std::uint32_t attempt = 0;
    std::uint64_t items = 0;
    std::vector<std::string> first_items;  // the few an error record names
    std::time_t start = 0;
    std::chrono::steady_clock::time_point since;
  };
  PythonSupervisor python_;
  AppendFile& output_;
  std::string host_;
  int rank_;
  bool idle_;
  std::optional<ProcessLogs> logs_;  // sys/node/... and user/error/... of this worker; none when idle
  int level_;                        // logging_level as a number: the sys lines below it are left out
  ResourceMonitor monitor_;  // logs/sys/perf/<node>/processNNN.csv every resource_monitor_interval seconds
  std::optional<RowsAhead> rows_;  // read_hdf5: the rank reads each mini-batch's rows, one ahead, for Python
  std::unordered_map<std::uint64_t, Started> started_;  // by attempt id, until its outcome
  bool restarting_ = false;  // said restarting, not yet ready again: tasks that cross it go straight back
  bool out_of_work_ = false;  // retired (init failed) or broken (fatal): takes no task
  bool stopped_ = false;
  std::deque<TaskMsg> queue_;  // tasks waiting for the Python process
  Outbox outbox_;
  std::unordered_map<std::uint64_t, Held> held_;  // rows of attempts waiting for commit or discard
  WorkerTotals totals_;
};

}  // namespace prs::worker_detail
