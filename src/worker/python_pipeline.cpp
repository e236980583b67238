#include "prs/worker/python_pipeline.hpp"

#include <string>

#include "prs/error.hpp"

namespace prs {

bool PythonPipeline::can_take(std::size_t bytes, int depth) const {
  if (tasks_.empty()) return true;
  return tasks_.size() < static_cast<std::size_t>(depth) && bytes_ + bytes <= kPipeBudget;
}

void PythonPipeline::handed(const Handed& task, Clock::time_point now) {
  if (tasks_.empty()) since_ = now;
  tasks_.push_back(task);
  bytes_ += task.bytes;
}

PythonPipeline::Handed PythonPipeline::answered(std::uint64_t attempt_id, Clock::time_point now) {
  if (tasks_.empty() || tasks_.front().attempt_id != attempt_id)
    throw Fatal("worker: the Python process answered attempt " + std::to_string(attempt_id) + ", not " +
                (tasks_.empty() ? std::string("one it was handed") : "attempt " + std::to_string(tasks_.front().attempt_id) +
                                                                         ", the oldest it runs"));
  Handed done = tasks_.front();
  tasks_.pop_front();
  bytes_ -= done.bytes;
  since_ = now;
  return done;
}

std::vector<PythonPipeline::Handed> PythonPipeline::take_all() {
  std::vector<Handed> all(tasks_.begin(), tasks_.end());
  tasks_.clear();
  bytes_ = 0;
  return all;
}

}  // namespace prs
