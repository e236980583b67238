#pragma once
// When the master must stop a job that has not finished: a drain signal, the Slurm time limit coming, no worker
// ready in time (first_task_creation_timeout), or no progress (progress_update_timeout). No MPI: the master asks
// check() once per pass of its loop; tests drive it with made-up times.
#include <optional>
#include <string>

#include "prs/error.hpp"

namespace prs {

// What the master must do.
struct StopOrder {
  ExitCode code = ExitCode::interrupted;  // interrupted (resumable) or job_failed
  std::string reason;                     // for the console and job_result.txt
  double grace_seconds = 0;               // how long running mini-batches may still take; then they are abandoned
};

// Times in seconds since the master started.
struct StopSettings {
  double first_task_creation_timeout = 600;  // a first mini-batch must start by then
  double progress_update_timeout = 0;        // silence allowed while work is in flight
  double drain_grace = 30;                   // after a signal, running mini-batches get this long
  std::optional<double> walltime_end;        // when the Slurm allocation ends
  double drain_before = 0;                   // stop dispatching this long before walltime_end
  double lost_after = 70;                    // silence of a worker holding work before it counts as lost
  double end_patience = 90;                  // how long the end waits for every worker to answer stop
};

// Decides when to stop.
class StopRules {
 public:
  explicit StopRules(StopSettings settings) : s_(settings) {}
  // A worker said something (a result, a write, ready): the job makes progress.
  void progress(double now) { last_progress_ = now; }
  // The first mini-batch was sent.
  void first_task() { started_ = true; }
  // The order to stop, if any: signal (0 = none), busy = work left (in flight or waiting for a worker).
  std::optional<StopOrder> check(double now, bool busy, int signal) const;

 private:
  StopSettings s_;
  double last_progress_ = 0;
  bool started_ = false;
};

}  // namespace prs
