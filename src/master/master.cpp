#include "prs/master/master.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <iostream>
#include <utility>

#include "master_loop.hpp"
#include "prs/logs/process_logs.hpp"
#include "prs/master/signals.hpp"

namespace prs {

namespace master_detail {

namespace {

// The master loop's thread only: a listing thread that still lists the input beside it is not the master's cost.
double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_THREAD, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

bool takes_messages(WorkerState s) { return s != WorkerState::lost; }

}  // namespace

std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of("\n ");
  if (end == std::string::npos) return text;
  auto start = text.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return text.substr(start, end - start + 1);
}

JobOutcome Master::run() {
  double cpu0 = cpu_seconds();
  static const char* const modes[] = {"auto", "bar", "lines", "none"};
  logs_.master_note(std::string("console progress: ") + modes[static_cast<int>(plan_.progress)] +
                    (plan_.trace != nullptr && plan_.trace->on() ? "; trace: " + plan_.trace->path() : ""));
  if (plan_.table != nullptr) scheduler_.count_rows();
  restore();
  Backoff backoff;
  while (!done()) {
    bool progress = false;
    while (auto m = try_receive()) {
      handle(*m);
      progress = true;
    }
    if (progress) {
      rules_.progress(now());
      feed();
      backoff.reset();
      backoff.set_cap(resting_cap(run_times_, 0, roster_.all_fed() ? 16 : kTailShare));  // the end waits less
    } else {
      backoff.wait();
    }
    check_stop();
    pull_listing();
    if (std::exchange(refeed_, false)) feed();  // work taken back from a lost worker waits for idle ones
    journal_.flush();  // one write per pass: the records of everything this pass decided
    journal_.sync_if_due();
    outbox_.progress();
    report_progress(false);
  }
  const std::uint64_t unconfirmed = scheduler_.counts().batches_unconfirmed;
  if (unconfirmed > 0 && outcome_.code == ExitCode::succeeded) {
    outcome_.code = ExitCode::interrupted;
    outcome_.reason = "the rows of " + std::to_string(unconfirmed) +
                      " committed mini-batches were never confirmed written by a worker that was lost";
  }
  double loop_end = now();
  finish_workers();
  progress_.finish(snapshot());
  outcome_.counts = scheduler_.counts();
  outcome_.seconds = now();
  record_phases(loop_end);
  fill_stats();
  if (first_task_) outcome_.dispatch_seconds = now() - *first_task_;
  outcome_.master_cpu_seconds = cpu_seconds() - cpu0;
  journal_.flush();
  outcome_.journal_seconds = journal_.seconds();
  outcome_.journal_bytes = journal_.bytes();
  return outcome_;
}

void Master::restore() {
  if (plan_.resume == nullptr) return;
  for (const Committed& c : scheduler_.restore(*plan_.resume, plan_.output_size, plan_.retry_failed)) {
    journal_.ended(c.batch_id, c.end);
    logs_.master_note("mini-batch " + std::to_string(c.batch_id) + " failed: its " + std::to_string(c.end.attempts) +
                      " attempts were all used before the resume (use --retry-failed to try it again)");
  }
  const JobCounts& c = scheduler_.counts();
  done_at_start_ = c.batches_succeeded + c.batches_failed;
  std::cout << "prs_mpi: resuming: " << c.batches_succeeded + c.batches_failed << " of " << c.batches
            << " mini-batches already done (" << c.batches_failed << " failed)" << std::endl;
}

void Master::handle(const Message& m) {
  if (!takes_messages(roster_.at(m.source).state)) return;  // a lost rank's late word: its work went elsewhere
  roster_.heard(m.source, now());
  switch (m.tag) {
    case Tag::ready: return on_ready(m.source, decode_ready(m.bytes));
    case Tag::init_failed: return on_init_failed(m.source, decode_init_failed(m.bytes));
    case Tag::restarting: return on_restarting(m.source, decode_text(m.bytes));
    case Tag::fatal: return on_fatal(m.source, decode_text(m.bytes));
    case Tag::result: return on_result(m.source, decode_result(m.bytes));
    case Tag::written: return on_written(m.source, decode_written(m.bytes));
    default: throw Fatal(std::string("master: unexpected ") + tag_name(m.tag) + " message from rank " +
                         std::to_string(m.source));
  }
}

void Master::on_ready(int rank, const ReadyMsg& m) {
  WorkerInfo& w = roster_.at(rank);
  w.host = m.host;
  w.pid = m.pid;
  if (m.idle) {
    roster_.set_state(rank, WorkerState::idle);
    logs_.master_note(where(rank) + " idle: max_concurrency_per_instance reached on its node");
    if (++idle_ranks_ == 1)
      std::cerr << "prs_mpi: warning: " << where(rank) << " and any other rank beyond max_concurrency_per_instance ("
                << plan_.config.max_concurrency_per_instance << ") on its node stay idle (listed in " << logs_.dir()
                << "/sys/master_role.txt)\n";
    return;
  }
  if (w.state == WorkerState::starting) ++outcome_.workers_started;
  if (w.state != WorkerState::starting && w.state != WorkerState::restarting) return;  // quarantined meanwhile
  record_ready(rank, m);
  roster_.set_state(rank, WorkerState::active);
  top_up(rank);
}

void Master::on_init_failed(int rank, const InitFailedMsg& m) {
  roster_.at(rank).host = m.host;
  trace_.span(rank, "init() failed", "init", free_since_.at(rank), now() - free_since_.at(rank));
  drop_slots(rank);
  roster_.set_state(rank, WorkerState::retired);
  ++outcome_.workers_retired;
  logs_.entry_script_error(where(rank) + ": init() failed; the worker is retired", m.traceback);
  std::cerr << "prs_mpi: " << where(rank) << ": init() failed, worker retired: " << last_line(m.traceback)
            << " (traceback: " << process_log_paths(logs_.dir(), m.host, rank).error_file << ")\n";
}

void Master::log_failure(int rank, const Attempt& a, const std::string& error) {
  std::string heading =
      where(rank) + ": mini-batch " + std::to_string(a.batch_id) + ", attempt " + std::to_string(a.number);
  logs_.entry_script_error(heading, error);
  // The worker wrote the traceback to its own file, unless it was lost (then only user/error.txt has it).
  const WorkerInfo& w = roster_.at(rank);
  std::string file = w.state == WorkerState::lost ? logs_.dir() + "/user/error.txt"
                                                  : process_log_paths(logs_.dir(), w.host, rank).error_file;
  std::cerr << "prs_mpi: " << heading << " failed: " << last_line(error) << " (traceback: " << file << ")\n";
}

void Master::on_result(int rank, const ResultMsg& m) {
  WorkerInfo& w = roster_.at(rank);
  --w.holding;
  --w.tasks;
  if (m.status != AttemptStatus::cancelled) {
    w.run.add(m.seconds);
    run_times_.add(m.seconds);
  }
  if (!scheduler_.is_running(m.attempt_id)) {  // taken back (a drain stopped waiting): its rows are not wanted
    if (m.row_bytes > 0 || m.header_bytes > 0) send(rank, Tag::discard, encode(AttemptMsg{m.attempt_id}));
    return;
  }
  Attempt a = scheduler_.attempt(m.attempt_id);
  scheduler_.learn_rows(a.batch_id, m.rows);
  ResultMsg r = m;
  if (w.state == WorkerState::broken) r.status = AttemptStatus::cancelled;  // it cannot write rows any more
  settle(rank, a, r);
  if (r.status != AttemptStatus::cancelled) {
    bool failed = r.status != AttemptStatus::ok || r.successes < scheduler_.batch_items(a.batch_id);
    for (int q : roster_.record_attempt(rank, failed)) quarantine(q);
  }
  if (w.state == WorkerState::active) top_up(rank);
  auto reason = stopping_ ? std::nullopt : scheduler_.exceeded_threshold();  // checked per result: exact counts
  if (reason) stop(ExitCode::job_failed, *reason, 1e9);
}

// Journals an attempt's end, applies the scheduler's verdict and tells the worker what to do with its rows.
void Master::settle(int rank, const Attempt& a, const ResultMsg& r) {
  std::uint64_t items = scheduler_.batch_items(a.batch_id);
  if (r.status == AttemptStatus::cancelled) {
    journal_.abandoned(a.batch_id);
  } else {
    journal_.resulted(a.batch_id);
    if (r.status != AttemptStatus::ok) log_failure(rank, a, r.error);
    else if (r.successes < items)
      log_failure(rank, a, "run() returned " + std::to_string(r.returned) + (r.returned == 1 ? " row" : " rows") +
                               " for " + std::to_string(items) + (items == 1 ? " item" : " items") +
                               ": every item needs its row (the missing ones count as failed)\n");
  }
  record_end(rank, a, r);
  Verdict v = scheduler_.on_result(r);
  if (v.ended_now) journal_.ended(a.batch_id, *v.ended_now);
  if (v.action == Verdict::Action::commit) {
    send(rank, Tag::commit, encode(CommitMsg{r.attempt_id, v.offset, v.with_header}));
    ++roster_.at(rank).holding;
  } else if (v.action == Verdict::Action::discard) {
    send(rank, Tag::discard, encode(AttemptMsg{r.attempt_id}));
  }
  if (r.status == AttemptStatus::ok && r.returned > items && !warned_extra_rows_) {
    warned_extra_rows_ = true;
    std::cerr << "prs_mpi: warning: run() returned " << r.returned << " rows for the " << items << " items of mini-batch "
              << a.batch_id << "; successes are capped at the item count (warned once)\n";
  }
}

void Master::on_written(int rank, const WrittenMsg& m) {
  --roster_.at(rank).holding;
  Committed c = scheduler_.on_written(m.attempt_id);
  c.end.checksum = m.checksum;  // --resume checks the output against it
  journal_.ended(c.batch_id, c.end);  // only now: the rows are in the file
}

void Master::feed() {
  if (stopping_) return;
  std::vector<std::pair<int, TaskMsg>> tasks;
  std::vector<int> still_hungry;
  bool all_held = roster_.all_held();
  for (int rank : hungry_) {
    if (!all_held && roster_.held(rank)) {  // its failures may be its own: others show first
      still_hungry.push_back(rank);
      continue;
    }
    auto a = scheduler_.next_for(rank, roster_.may_work());
    if (!a) {
      still_hungry.push_back(rank);
      continue;
    }
    journal_.dispatched(a->batch_id, a->number, rank);
    sent_[a->attempt_id] = Sent{a->batch_id, a->number, rank, now()};
    tasks.emplace_back(rank, task_for(*a));
    WorkerInfo& w = roster_.at(rank);
    ++w.tasks;
    --w.slots;
  }
  hungry_.swap(still_hungry);
  if (tasks.empty()) return;
  journal_.flush();  // an attempt counts before its worker can crash the job with it
  for (auto& [rank, t] : tasks) {
    ++roster_.at(rank).holding;
    send(rank, Tag::task, encode(t));
  }
  if (!first_task_) first_task_ = now();
  rules_.first_task();
}

// Free prefetch slots for an active worker, up to the depth its run() times call for (deep when run() is short).
// A worker whose last attempt failed gets the floor: fast failures must not drain the queue into it before
// quarantine can tell whether the failures are its own; and none gets more than its share of what is left.
void Master::top_up(int rank) {
  WorkerInfo& w = roster_.at(rank);
  int depth = w.failures_in_row > 0 ? kPrefetchFloor
                                    : tasks_ahead(w.run, kPrefetchFloor, kPrefetchCeiling, kPrefetchCover);
  depth = fair_depth(depth, kPrefetchFloor, scheduler_.waiting(), roster_.may_work());
  for (; w.tasks + w.slots < depth; ++w.slots) hungry_.push_back(rank);
}

// A file-list task names its files; a tabular one its byte range and header record.
TaskMsg Master::task_for(const Attempt& a) const {
  TaskMsg t;
  t.batch_id = a.batch_id;
  t.attempt_id = a.attempt_id;
  t.attempt = a.number;
  if (plan_.table != nullptr) {
    const TablePlan& plan = *plan_.table;
    t.is_table = true;
    for (std::uint64_t c : plan.batch_cuts(a.batch_id)) {
      const TableCut& cut = plan.batches.at(c);
      TableRange r{plan.files[cut.file].path, cut.offset, cut.length, "", 0, 0};
      const int header = plan.header_file(cut.file, plan_.mltable->reader.header);
      if (header >= 0) {
        const TableFile& h = plan.files[static_cast<std::size_t>(header)];
        r.header_path = h.path;
        r.header_offset = h.header_offset;
        r.header_length = h.header_length;
      }
      t.table.ranges.push_back(std::move(r));
    }
    if (plan.key_mode != KeyMode::none) {
      t.table.key_use = plan.key_mode == KeyMode::folders ? KeyUse::add_columns : KeyUse::keep_rows;
      t.table.key_names = plan.key_names;
      t.table.key_values = plan.group_values.at(a.batch_id);
    }
    return t;
  }
  ItemRange range = scheduler_.batch_range(a.batch_id);
  t.items.reserve(range.count);
  for (std::uint64_t i = range.first; i < range.first + range.count; ++i) t.items.emplace_back(plan_.files.at(i));
  return t;
}

void Master::check_stop() {
  if (now() - last_silence_check_ >= kSilenceCheckEvery) check_silent();
  if (abandon_at_ && now() >= *abandon_at_) abandon_running();
  if (stopping_) return;
  if (auto reason = scheduler_.exceeded_threshold()) return stop(ExitCode::job_failed, *reason, 1e9);
  // Busy while any work is left, in flight or queued: a worker whose fresh Python process never finishes init()
  // leaves a retry queued and nothing in flight, which must not wait forever either; waiting for the listing only
  // is not waiting for a worker.
  if (auto order = rules_.check(now(), !scheduler_.finished() && !scheduler_.waits_for_plan(), drain_signal()))
    stop(order->code, order->reason, order->grace_seconds);
}

void Master::send(int rank, Tag tag, std::string bytes) {
  if (roster_.at(rank).state != WorkerState::lost) outbox_.send(rank, tag, std::move(bytes));
}

void Master::stop(ExitCode code, const std::string& reason, double grace) {
  stopping_ = true;
  outcome_.code = code;
  outcome_.reason = reason;
  logs_.master_note("stopping: " + reason);
  std::cerr << "prs_mpi: stopping: " << reason << "\n";
  for (int r = 1; r < roster_.world_size(); ++r)
    if (roster_.at(r).state == WorkerState::active) send(r, Tag::cancel, "");
  abandon_at_ = now() + grace;
}

// Stops waiting for running mini-batches: their attempts are taken back (journaled as abandoned) and their
// workers kill their Python processes when told to stop; committed writes still complete.
void Master::abandon_running() {
  abandon_at_.reset();
  for (int r = 1; r < roster_.world_size(); ++r) {
    for (std::uint64_t b : scheduler_.take_back_worker(r)) {
      journal_.abandoned(b);
      for (auto it = sent_.begin(); it != sent_.end();) it = it->second.batch == b ? sent_.erase(it) : std::next(it);
      logs_.master_note("mini-batch " + std::to_string(b) + " abandoned on " + where(r));
    }
  }
}

// A stopping job does not wait for workers still in init(): they are told to stop like the others.
bool Master::done() {
  if (stopping_) return scheduler_.in_flight() == 0;
  if (roster_.starting() > 0) return false;
  if (scheduler_.finished()) return true;
  if (roster_.working() > 0) return false;
  stopping_ = true;
  outcome_.code = ExitCode::job_failed;
  outcome_.reason = no_worker_reason();
  return true;
}

void Master::report_progress(bool force) {
  if (force || progress_.due(now())) progress_.report(snapshot());
}

ProgressSnapshot Master::snapshot() const {
  const JobCounts& c = scheduler_.counts();
  ProgressSnapshot s;
  s.done = c.batches_succeeded + c.batches_failed;
  s.total = c.batches;
  s.listing = scheduler_.growing();
  s.failed = c.batches_failed;
  s.retried = c.retries;
  s.in_flight = sent_.size();
  s.elapsed = now();
  double working = first_task_ ? now() - *first_task_ : 0;
  if (working > 0 && s.done > done_at_start_) {
    s.rate = static_cast<double>(s.done - done_at_start_) / working;
    if (!s.listing) s.eta = static_cast<double>(s.total - s.done) / s.rate;
  }
  std::vector<const Sent*> oldest(static_cast<std::size_t>(roster_.world_size()), nullptr);  // per rank: running
  for (const auto& entry : sent_) {
    const Sent*& o = oldest.at(static_cast<std::size_t>(entry.second.rank));
    if (o == nullptr || entry.second.at < o->at) o = &entry.second;
  }
  for (const Sent* o : oldest) {
    if (o == nullptr) continue;
    double since = std::max(o->at, free_since_.at(static_cast<std::size_t>(o->rank)));
    s.slowest.push_back({o->batch, o->number, o->rank, roster_.at(o->rank).host, now() - since});
  }
  std::sort(s.slowest.begin(), s.slowest.end(),
            [](const RunningAttempt& x, const RunningAttempt& y) { return x.seconds > y.seconds; });
  if (s.slowest.size() > kSlowestShown) s.slowest.resize(kSlowestShown);
  return s;
}

}  // namespace master_detail

JobOutcome run_master(const MasterPlan& plan) { return master_detail::Master(plan).run(); }

}  // namespace prs
