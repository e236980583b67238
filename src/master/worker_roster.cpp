#include "prs/master/worker_roster.hpp"

namespace prs {

WorkerRoster::WorkerRoster(int world_size, int quarantine_after)
    : workers_(world_size), quarantine_after_(quarantine_after), starting_(world_size - 1) {}

std::string WorkerRoster::where(int rank) const {
  return "rank " + std::to_string(rank) + " (" + workers_[rank].host + ")";
}

void WorkerRoster::set_state(int rank, WorkerState state) {
  WorkerState& old = workers_[rank].state;
  if (old == WorkerState::lost) return;
  starting_ += (state == WorkerState::starting) - (old == WorkerState::starting);
  active_ += (state == WorkerState::active) - (old == WorkerState::active);
  restarting_ += (state == WorkerState::restarting) - (old == WorkerState::restarting);
  old = state;
}

bool WorkerRoster::record_attempt(int rank, bool failed) {
  WorkerInfo& w = workers_[rank];
  if (!failed) {
    ++successes_;
    w.failures_in_row = 0;
    return false;
  }
  if (w.failures_in_row++ == 0) w.ok_at_streak = successes_;
  bool others_succeed = successes_ > w.ok_at_streak;  // its own successes would have ended the streak
  return quarantine_after_ > 0 && w.failures_in_row >= quarantine_after_ && others_succeed && active_ > 1 &&
         w.state == WorkerState::active;
}

std::vector<int> WorkerRoster::silent(double now, double after) const {
  std::vector<int> ranks;
  for (std::size_t r = 1; r < workers_.size(); ++r) {
    const WorkerInfo& w = workers_[r];
    if (w.holding > 0 && w.state != WorkerState::lost && now - w.last_heard > after) ranks.push_back(static_cast<int>(r));
  }
  return ranks;
}

}  // namespace prs
