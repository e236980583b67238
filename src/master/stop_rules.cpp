#include "prs/master/stop_rules.hpp"

#include <algorithm>

#include "prs/master/signals.hpp"

namespace prs {

namespace {

std::string secs(double s) { return std::to_string(static_cast<long long>(s)) + " s"; }

}  // namespace

std::optional<StopOrder> StopRules::check(double now, bool busy, int signal) const {
  if (signal != 0)
    return StopOrder{ExitCode::interrupted, std::string("interrupted by ") + signal_name(signal), s_.drain_grace};
  if (s_.walltime_end && now >= *s_.walltime_end - s_.drain_before) {
    double left = std::max(0.0, *s_.walltime_end - now - 10);  // 10 s to flush and leave before the kill
    return StopOrder{ExitCode::interrupted,
                     "the Slurm time limit ends in " + secs(*s_.walltime_end - now) + " (drain-before " +
                         secs(s_.drain_before) + ")",
                     std::min(left, s_.drain_before)};
  }
  if (!started_ && now > s_.first_task_creation_timeout)
    return StopOrder{ExitCode::job_failed,
                     "no mini-batch started within first_task_creation_timeout (" + secs(s_.first_task_creation_timeout) +
                         "): no worker finished init() in time",
                     0};
  if (started_ && busy && now - last_progress_ > s_.progress_update_timeout)
    return StopOrder{ExitCode::job_failed,
                     "no progress for " + secs(now - last_progress_) + " (progress_update_timeout " +
                         secs(s_.progress_update_timeout) + "): no worker reported a result",
                     0};
  return std::nullopt;
}

}  // namespace prs
