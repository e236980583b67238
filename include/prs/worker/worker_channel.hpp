#pragma once
// The hand-over between a worker's two threads: the MPI thread queues tasks for the Python (main) thread, which
// posts back what happened. Both sides wait on condition variables, so neither spins.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "prs/mpi/protocol.hpp"
#include "prs/worker/python_runner.hpp"

namespace prs {

// Something the Python thread reports to the MPI thread.
struct PythonEvent {
  enum class Kind { init_ok, init_failed, outcome } kind = Kind::outcome;
  std::uint64_t attempt_id = 0;  // with outcome
  RunOutcome outcome;            // with outcome
  std::string text;              // init_failed: the traceback
};

// What the Python thread is doing; the MPI thread reads it to give up on a stuck run() and to know whether the
// process can end normally.
enum class PythonState { init, idle, task, shutdown, done };

// Thread-safe queues between the MPI thread and the Python thread.
class WorkerChannel {
 public:
  // Python thread: says what it does now (wait_task() sets idle and task itself).
  void set_state(PythonState state);
  // MPI thread: what Python does now.
  PythonState state();
  // MPI thread: the attempt Python runs and for how long (seconds); nullopt when not in a task.
  std::optional<std::pair<std::uint64_t, double>> running();
  // MPI thread: queues a task for Python.
  void push_task(TaskMsg task);
  // MPI thread: removes and returns the tasks Python has not started.
  std::vector<TaskMsg> take_queued();
  // MPI thread: no more tasks will come; wait_task() returns nullopt once the queue is empty.
  void close();
  // Python thread: the next task, waiting for it; nullopt after close() with nothing left.
  std::optional<TaskMsg> wait_task();
  // Python thread: reports an event.
  void post(PythonEvent event);
  // MPI thread: the events posted so far, waiting up to max_wait for the first one.
  std::vector<PythonEvent> take_events(std::chrono::microseconds max_wait);

 private:
  std::mutex mutex_;
  std::condition_variable task_ready_;
  std::condition_variable event_ready_;
  std::deque<TaskMsg> tasks_;
  std::vector<PythonEvent> events_;
  bool closed_ = false;
  PythonState state_ = PythonState::init;
  std::uint64_t running_attempt_ = 0;
  std::chrono::steady_clock::time_point running_since_;
};

}  // namespace prs
