#include "prs/worker/worker_channel.hpp"

namespace prs {

void WorkerChannel::push_task(TaskMsg task) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    tasks_.push_back(std::move(task));
  }
  task_ready_.notify_one();
}

std::vector<TaskMsg> WorkerChannel::take_queued() {
  std::lock_guard<std::mutex> lock(mutex_);
  std::vector<TaskMsg> out(std::make_move_iterator(tasks_.begin()), std::make_move_iterator(tasks_.end()));
  tasks_.clear();
  return out;
}

void WorkerChannel::close() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    closed_ = true;
  }
  task_ready_.notify_all();
}

std::optional<TaskMsg> WorkerChannel::wait_task() {
  std::unique_lock<std::mutex> lock(mutex_);
  state_ = PythonState::idle;
  task_ready_.wait(lock, [this] { return closed_ || !tasks_.empty(); });
  if (tasks_.empty()) return std::nullopt;
  TaskMsg task = std::move(tasks_.front());
  tasks_.pop_front();
  state_ = PythonState::task;
  running_attempt_ = task.attempt_id;
  running_since_ = std::chrono::steady_clock::now();
  return task;
}

void WorkerChannel::set_state(PythonState state) {
  std::lock_guard<std::mutex> lock(mutex_);
  state_ = state;
}

PythonState WorkerChannel::state() {
  std::lock_guard<std::mutex> lock(mutex_);
  return state_;
}

std::optional<std::pair<std::uint64_t, double>> WorkerChannel::running() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (state_ != PythonState::task) return std::nullopt;
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - running_since_).count();
  return std::make_pair(running_attempt_, seconds);
}

void WorkerChannel::post(PythonEvent event) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (event.kind == PythonEvent::Kind::outcome) state_ = PythonState::idle;
    events_.push_back(std::move(event));
  }
  event_ready_.notify_one();
}

std::vector<PythonEvent> WorkerChannel::take_events(std::chrono::microseconds max_wait) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (events_.empty() && max_wait.count() > 0)
    event_ready_.wait_for(lock, max_wait, [this] { return !events_.empty(); });
  std::vector<PythonEvent> out;
  out.swap(events_);
  return out;
}

}  // namespace prs
