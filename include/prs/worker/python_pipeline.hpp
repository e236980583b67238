#pragma once
// The tasks a worker rank has handed to its Python process and not yet seen answered, oldest first. The process
// runs them in order, so the oldest is the one running (or about to) and the others wait in the pipe: handing a
// few ahead when run() is short means the process never waits for the rank between two mini-batches. No I/O here:
// the supervisor (python_supervisor.hpp) writes the frames and asks this class what it may write.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <vector>

namespace prs {

// Bytes of task frames that may wait in the pipe at once: well under Linux's 64 KiB pipe buffer, so handing a task
// ahead never blocks the rank while run() is busy (a larger task is handed only when the process waits for one).
constexpr std::size_t kPipeBudget = 32 * 1024;

// The handed tasks of one Python process.
class PythonPipeline {
 public:
  using Clock = std::chrono::steady_clock;
  // One handed task.
  struct Handed {
    std::uint64_t attempt_id = 0;
    std::uint64_t batch_id = 0;
    std::uint32_t attempt = 0;
    std::size_t bytes = 0;  // its frame
  };

  // A task whose frame has `bytes` may be handed now: none is handed (the process waits for one, whatever its
  // size), or fewer than `depth` are and all their frames stay within kPipeBudget.
  bool can_take(std::size_t bytes, int depth) const;
  // Notes a task handed at `now`; the first one handed to an idle process starts running then.
  void handed(const Handed& task, Clock::time_point now);
  // The outcome of attempt_id came at `now`: it must be the oldest, which is removed; the next one starts running.
  // Throws prs::Fatal naming both attempts otherwise.
  Handed answered(std::uint64_t attempt_id, Clock::time_point now);
  // Empties the pipeline (the process is gone), oldest first: the first one ran, the others never started.
  std::vector<Handed> take_all();

  // Nothing is handed.
  bool empty() const { return tasks_.empty(); }
  // Tasks handed and not answered.
  std::size_t size() const { return tasks_.size(); }
  // The oldest, the one running; only when !empty().
  const Handed& running() const { return tasks_.front(); }
  // When the oldest started running (its predecessor's answer, or when it was handed to an idle process).
  Clock::time_point running_since() const { return since_; }

 private:
  std::deque<Handed> tasks_;
  std::size_t bytes_ = 0;  // of all handed frames
  Clock::time_point since_;
};

}  // namespace prs
