// The master's records of what happened, for the trace, the status and the job summary: the span of each attempt
// and init(), the master's own phases, and the per-worker statistics.
#include <algorithm>
#include <cstdio>

#include "master_loop.hpp"

namespace prs::master_detail {

// The end of an attempt, for the trace, the status and the summary: its span runs from when its worker started
// it (run()'s own seconds back from now, never before it was sent) to now.
void Master::record_end(int rank, const Attempt& a, const ResultMsg& r) {
  auto it = sent_.find(a.attempt_id);
  double sent = it == sent_.end() ? 0 : it->second.at;
  if (it != sent_.end()) sent_.erase(it);
  if (r.status == AttemptStatus::cancelled) return;  // it never ran
  double end = now();
  double& free = free_since_.at(static_cast<std::size_t>(rank));
  double start = r.seconds > 0 ? std::max(sent, end - r.seconds) : std::max(sent, free);
  free = end;
  WorkerStat& w = stats_.at(static_cast<std::size_t>(rank));
  ++w.attempts;
  bool failed = r.status != AttemptStatus::ok || r.successes < scheduler_.batch_items(a.batch_id);
  if (failed) ++w.failed;
  w.items_ok += r.successes;
  w.run_seconds += r.seconds;
  outcome_.run_times.add(r.seconds);
  if (!trace_.on()) return;
  static const char* const status_names[] = {"ok", "failed", "timed_out", "cancelled"};
  char args[160];
  std::snprintf(args, sizeof args, "\"mini_batch\":%llu,\"attempt\":%u,\"status\":\"%s\",\"rows\":%llu",
                static_cast<unsigned long long>(a.batch_id), a.number, status_names[static_cast<int>(r.status)],
                static_cast<unsigned long long>(r.successes));
  trace_.span(rank, "mini-batch " + std::to_string(a.batch_id), failed ? "failed" : "run", start, end - start, args);
}

// A worker's init() ended: its span runs from the start of its Python process (as the worker measured it: the
// first one starts while rank 0 still lists the input, before this loop) until init() returned.
void Master::record_ready(int rank, const ReadyMsg& m) {
  double& free = free_since_.at(static_cast<std::size_t>(rank));
  WorkerStat& w = stats_.at(static_cast<std::size_t>(rank));
  const double returned = now() - std::max(0.0, m.ready_for);
  const double began = m.init_seconds > 0 ? returned - m.init_seconds : free;
  if (w.init_seconds < 0) w.init_seconds = std::max(0.0, returned);
  outcome_.init_times.add(returned - began);
  trace_.span(rank, "init()", "init", began, returned - began);
  free = returned;
}

// The master's own phases on its track: start-up until the first task, dispatch, the end of the workers.
void Master::record_phases(double loop_end) {
  if (!trace_.on()) return;
  trace_.process("prs_mpi " + plan_.config.job_name);
  trace_.track(0, "master (rank 0)");
  for (int r = 1; r < roster_.world_size(); ++r) trace_.track(r, where(r));
  double first = first_task_ ? *first_task_ : loop_end;
  trace_.span(0, "start-up (workers in init())", "master", 0, first);
  trace_.span(0, "dispatch", "master", first, loop_end - first);
  trace_.span(0, "end of the workers (shutdown())", "master", loop_end, now() - loop_end);
}

void Master::fill_stats() {
  static const char* const names[] = {"starting", "active", "restarting", "idle", "retired", "quarantined",
                                      "lost", "broken"};
  for (int r = 1; r < roster_.world_size(); ++r) {
    WorkerStat w = stats_.at(static_cast<std::size_t>(r));
    w.rank = r;
    w.host = roster_.at(r).host;
    auto state = static_cast<std::size_t>(roster_.at(r).state);
    w.state = state < sizeof names / sizeof *names ? names[state] : "?";
    outcome_.per_worker.push_back(w);
  }
}

}  // namespace prs::master_detail
