// The master's side of workers that do not simply work: a Python process that restarts, a rank that breaks, goes
// silent or keeps failing, and the end handshake that a lost rank cannot join.
#include <algorithm>
#include <iostream>

#include "master_loop.hpp"

namespace prs::master_detail {

// Its Python process ended (the attempt it ran comes as a failed result) and a fresh one runs init().
void Master::on_restarting(int rank, const TextMsg& m) {
  ++outcome_.python_restarts;
  free_since_.at(static_cast<std::size_t>(rank)) = now();  // its next init() span starts here
  logs_.master_note(where(rank) + ": " + m.text + "; a fresh Python process runs init()");
  if (roster_.at(rank).state != WorkerState::active) return;
  drop_slots(rank);
  roster_.set_state(rank, WorkerState::restarting);
}

void Master::on_fatal(int rank, const TextMsg& m) {
  drop_slots(rank);
  roster_.set_state(rank, WorkerState::broken);
  forget_writes(rank);
  if (!stopping_) stop(ExitCode::job_failed, where(rank) + ": " + m.text, plan_.stop.drain_grace);
}

// A worker that holds work and has said nothing for longer than its run() can take (timeout, grace, the kill of
// its Python process) is frozen or stuck in the kernel: its work goes elsewhere and the job ends without it.
void Master::check_silent() {
  last_silence_check_ = now();
  for (int rank : roster_.silent(now(), plan_.stop.lost_after))
    lose(rank, "sent nothing for " + std::to_string(static_cast<long long>(now() - roster_.at(rank).last_heard)) +
                   " s while holding work (frozen, or stuck on a file system that stopped answering?)");
}

void Master::lose(int rank, const std::string& why) {
  WorkerInfo& w = roster_.at(rank);
  std::string line = where(rank) + ", pid " + std::to_string(w.pid) + ", " + why +
                     "; its mini-batches go to other workers and the job ends without it";
  std::cerr << "prs_mpi: " << line << "\n";
  logs_.master_note("lost: " + line);
  drop_slots(rank);
  roster_.set_state(rank, WorkerState::lost);
  ++outcome_.workers_lost;
  outcome_.lost_ranks.push_back(rank);
  std::vector<Attempt> held = scheduler_.attempts_of(rank);
  for (std::size_t i = 0; i < held.size(); ++i) {  // the oldest is the one it ran: that counts as an attempt
    ResultMsg r;
    r.attempt_id = held[i].attempt_id;
    r.status = i == 0 ? AttemptStatus::timed_out : AttemptStatus::cancelled;
    r.error = where(rank) + " stopped answering while it ran this mini-batch\n";
    settle(rank, held[i], r);
  }
  forget_writes(rank);
  refeed_ = true;
}

void Master::forget_writes(int rank) {
  for (std::uint64_t b : scheduler_.forget_writes(rank)) {
    logs_.master_note("mini-batch " + std::to_string(b) + ": its rows were committed to " + where(rank) +
                      ", which never confirmed writing them; --resume runs it again");
  }
}

void Master::quarantine(int rank) {
  std::string line = where(rank) + " quarantined: its last " + std::to_string(roster_.at(rank).failures_in_row) +
                     " mini-batches failed while other workers succeeded (quarantine_after_failures " +
                     std::to_string(plan_.config.quarantine_after_failures) + "); it takes no more work";
  std::cerr << "prs_mpi: " << line << "\n";
  logs_.master_note(line);
  drop_slots(rank);
  roster_.set_state(rank, WorkerState::quarantined);
  ++outcome_.workers_quarantined;
  send(rank, Tag::cancel, "");  // its queued tasks come back as cancelled and go to others
}

void Master::drop_slots(int rank) {
  hungry_.erase(std::remove(hungry_.begin(), hungry_.end(), rank), hungry_.end());
  roster_.at(rank).slots = 0;
}

// Tells every worker to stop and waits for each one's finished: only then can the final collectives run. A worker
// that does not answer in time is lost, and rank 0 ends the job by aborting it once the logs are written.
void Master::finish_workers() {
  for (int r = 1; r < roster_.world_size(); ++r) send(r, Tag::stop, "");
  double stop_sent = now();
  int waiting = 0;
  for (int r = 1; r < roster_.world_size(); ++r) waiting += roster_.at(r).state != WorkerState::lost;
  double deadline = now() + plan_.stop.end_patience;
  Backoff backoff;
  while (waiting > 0 && now() < deadline) {
    auto m = try_receive();
    if (!m) {
      backoff.wait();
      continue;
    }
    backoff.reset();
    WorkerInfo& w = roster_.at(m->source);
    if (m->tag == Tag::finished && !w.finished && w.state != WorkerState::lost) {
      w.finished = true;
      --waiting;
      trace_.span(m->source, "shutdown()", "shutdown", stop_sent, now() - stop_sent);
    }  // anything else is a late word about work that is over
  }
  for (int r = 1; r < roster_.world_size(); ++r) {
    if (roster_.at(r).finished || roster_.at(r).state == WorkerState::lost) continue;
    lose(r, "did not answer the end of the job within " +
                std::to_string(static_cast<long long>(plan_.stop.end_patience)) + " s");
  }
  outbox_.flush(outcome_.lost_ranks);
}

std::string Master::no_worker_reason() const {
  int retired = outcome_.workers_retired, lost = outcome_.workers_lost, quarantined = outcome_.workers_quarantined;
  std::string errors = " (tracebacks in " + logs_.dir() + "/user/error.txt)";
  if (lost == 0 && quarantined == 0 && retired > 0)
    return "no worker left: init() failed on all " + std::to_string(retired) + " workers" + errors;
  if (retired + lost + quarantined == 0) return "no worker left: every rank is idle (max_concurrency_per_instance)";
  return "no worker left: " + std::to_string(retired) + " retired after init() failed, " + std::to_string(lost) +
         " lost, " + std::to_string(quarantined) + " quarantined" + errors;
}

}  // namespace prs::master_detail
