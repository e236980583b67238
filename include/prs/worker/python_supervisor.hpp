#pragma once
// A worker rank's supervision of its Python process, as the service's agent supervises its workers: it hands the
// process its tasks (a few ahead when run() is short: python_pipeline.hpp), and when the process dies (a signal, an exit, the OOM killer), ignores the run()
// timeout past the grace period (hard timeout), outgrows max_memory_per_child or has served max_tasks_per_child
// mini-batches, it reports what happened and starts a fresh one (init() again). No MPI here: the worker loop
// (worker.cpp) turns the events into messages.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "prs/mpi/prefetch.hpp"
#include "prs/mpi/protocol.hpp"
#include "prs/worker/python_pipeline.hpp"
#include "prs/worker/python_process.hpp"
#include "prs/worker/python_runner.hpp"
#include "prs/worker/row_region.hpp"

namespace prs {

// What the supervisor needs to know.
struct SupervisorSettings {
  std::string exe;                // this program, re-executed in its Python mode
  RunnerSettings runner;          // what the process runs
  std::string where;              // "rank 3 (node7)", for lines on stderr
  std::string stdout_file;        // the process's fd 1 appends here ("" = the rank's own)
  std::string stderr_file;        // its fd 2
  std::string error_file;         // where a failing shutdown() is reported ("" = the rank's stderr)
  double hard_timeout = 0;        // seconds a run() may take before its process is killed; 0 = never
  double shutdown_patience = 60;  // seconds shutdown() may take before the process is killed
  int max_tasks = 0;              // mini-batches per process; 0 = no limit
  std::uint64_t max_memory = 0;   // RSS bytes per process; 0 = no limit
};

// Something the worker loop must report.
struct PythonEvent {
  // not_started: a task handed ahead to a process that died before it began; the worker hands it back.
  enum class Kind { ready, init_failed, outcome, restarting, not_started } kind = Kind::ready;
  std::uint64_t attempt_id = 0;  // outcome, not_started
  RunOutcome outcome;            // outcome: what run() gave, or the cause of its process's death as the error
  std::string text;              // init_failed: the traceback; restarting: why
  RowLease rows;                 // outcome: its rows when they came in the rows region (outcome.rows is empty then)
};

// One worker's Python process, restarted as needed.
class PythonSupervisor {
 public:
  explicit PythonSupervisor(SupervisorSettings settings) : s_(std::move(settings)) {}
  // Starts the first process (init() runs there; a ready or init_failed event follows).
  void start();
  // Takes a prestarted process (prestart.hpp) and the rows region it was started with as the first one instead: its
  // log files, the rank's environment now and the settings go to it, and init() runs there as after start(). Throws
  // prs::Fatal as start() does.
  void adopt(PythonProcess prestarted, std::shared_ptr<RowRegion> region);
  // Tasks the process may hold at once now, the running one included: up to 8 while run() takes well under a
  // millisecond, else 1; 1 after a failed run(), 1 with max_memory_per_child (it is recycled between tasks), and
  // never past max_tasks_per_child.
  int depth() const;
  // A process is there (starting, ready or running).
  bool alive() const { return process_.alive(); }
  // What it was started with.
  const SupervisorSettings& settings() const { return s_; }
  // Seconds from the start (or the adoption) of the current process until its init() returned (after its ready
  // event).
  double init_seconds() const { return std::chrono::duration<double>(init_returned_ - started_).count(); }
  // When the current process's init() returned, by its own clock (the node's steady clock; after its ready event).
  std::chrono::steady_clock::time_point init_returned() const { return init_returned_; }
  // Its process id; 0 when there is none.
  pid_t pid() const { return process_.alive() ? process_.pid() : 0; }
  // It holds a task (in run(), or one waits in its pipe): its answer will wake the rank through the pipe.
  bool running() const { return !handed_.empty(); }
  // Seconds the oldest task it holds has run (since it was handed, or since the one before it ended); 0 if none.
  double running_seconds() const;
  // The running average of its run() times.
  const RunTimeAverage& run_times() const { return run_times_; }
  // Hands a task to the process if it can take one now (init() done, fewer than depth() handed and their frames
  // within the pipe's budget); returns whether it did. The frames go out together at send_offered().
  bool offer(const TaskMsg& task);
  // Hands a read_hdf5 task with the rows its rank read (body: encode_rows_task's) to a process that holds no task
  // (see can_take_rows), at once, its pages lent to the pipe (no copy on this side; kept until the next one);
  // returns whether it did.
  bool offer_rows(const TaskMsg& task, std::string body);
  // A read_hdf5 task would be handed now: init() done and the process holds no task (so the rank reads the
  // rows only when they can go at once).
  bool can_take_rows() const { return ready_ && handed_.empty(); }
  // Writes the frames of the tasks offer() took since the last call, in one write (one wake-up of the process).
  void send_offered();
  // Waits up to `wait` for the process and returns what happened, in the order to report it.
  std::vector<PythonEvent> poll(std::chrono::microseconds wait);
  // Mini-batches whose rows came through the rows region so far.
  std::uint64_t rows_in_region() const { return rows_in_region_; }
  // Mini-batches whose rows (not empty) came through the pipe so far.
  std::uint64_t rows_in_pipe() const { return rows_in_pipe_; }
  // The end of the job: shutdown() within the patience (if init() was done and nothing runs), then the process
  // and whatever it started are killed.
  void stop();

 private:
  void begin_process();
  void on_frame(LinkFrame& frame, std::vector<PythonEvent>& events);
  void on_death(const std::string& cause, std::vector<PythonEvent>& events);
  void check_limits(std::vector<PythonEvent>& events);
  void recycle_if_due(std::vector<PythonEvent>& events);
  void replace(const std::string& why, const std::string& failure, bool timed_out, std::vector<PythonEvent>& events);
  void graceful_stop();
  void report(const std::string& text) const;
  std::string running_text() const;

  void on_outcome(LinkFrame& frame, std::vector<PythonEvent>& events);

  SupervisorSettings s_;
  std::shared_ptr<RowRegion> region_;  // made at the first start (or the prestarted one's; none if refused), kept
  PythonProcess process_;
  bool ready_ = false;       // init() done in the current process
  PythonPipeline handed_;    // the tasks the process holds, the oldest running
  std::string offered_;      // their frames not yet written
  // The body of the last rows_task frame, lent to the pipe (vmsplice): unchanged until the process has read it,
  // which it has when the next one is handed (its outcome came, or the process was replaced). With the one read
  // ahead (rows_ahead.hpp), the rank holds two mini-batches' rows at most.
  std::string lent_rows_;
  RunTimeAverage run_times_;  // of its run() calls: how many tasks it is handed ahead
  bool last_failed_ = false;  // its last run() failed: one task at a time (no attempts queued behind failures)
  std::chrono::steady_clock::time_point started_;  // when the current process was started
  std::chrono::steady_clock::time_point init_returned_;  // when its init() returned, as it said
  std::chrono::steady_clock::time_point next_memory_check_;
  int served_ = 0;       // mini-batches the current process ran
  int init_deaths_ = 0;  // processes in a row that died before init() returned
  int generation_ = 0;   // processes started so far: frames read from one are never taken for the next
  std::string who_;  // "its Python process (pid N)": the current process, as a bad slot outcome's error names it
  std::uint64_t rows_in_region_ = 0;
  std::uint64_t rows_in_pipe_ = 0;
  static constexpr int kInitTries = 3;
  static constexpr int kAheadCeiling = 8;         // tasks a process holds at most
  static constexpr double kAheadCover = 0.001;    // seconds of run() the tasks waiting in its pipe may add up to
};

}  // namespace prs
