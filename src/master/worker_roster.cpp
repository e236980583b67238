#include "prs/master/worker_roster.hpp"

#include <algorithm>

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

std::vector<int> WorkerRoster::record_attempt(int rank, bool failed) {
  WorkerInfo& w = workers_[rank];
  std::vector<int> quarantine;
  if (!failed) {
    ++successes_;
    w.failures_in_row = 0;
    for (int r : held_)  // they failed in a row, and now work succeeds elsewhere; the last active one stays
      if (r != rank && workers_[r].state == WorkerState::active && active_ - static_cast<int>(quarantine.size()) > 1)
        quarantine.push_back(r);
    held_.clear();
    return quarantine;
  }
  if (w.failures_in_row++ == 0) w.ok_at_streak = successes_;
  if (quarantine_after_ == 0 || w.failures_in_row < quarantine_after_ || w.state != WorkerState::active)
    return quarantine;
  bool others_succeed = successes_ > w.ok_at_streak;  // its own successes would have ended the streak
  if (others_succeed && active_ > 1) quarantine.push_back(rank);
  else if (!held(rank)) held_.push_back(rank);
  return quarantine;
}

bool WorkerRoster::held(int rank) const { return std::find(held_.begin(), held_.end(), rank) != held_.end(); }

bool WorkerRoster::all_held() const {
  int active_held = 0;
  for (int r : held_) active_held += workers_[r].state == WorkerState::active;
  return active_held >= starting_ + active_ + restarting_;  // none left that may show the failures are its own
}

bool WorkerRoster::all_fed() const {
  if (active_ == 0) return false;
  for (std::size_t r = 1; r < workers_.size(); ++r)
    if (workers_[r].state == WorkerState::active && workers_[r].tasks < 2) return false;
  return true;
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
