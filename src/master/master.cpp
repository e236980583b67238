#include "prs/master/master.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <vector>

#include "prs/master/scheduler.hpp"
#include "prs/master/signals.hpp"
#include "prs/mpi/mpi_comm.hpp"
#include "prs/mpi/protocol.hpp"

namespace prs {

namespace {

constexpr int kPrefetch = 2;  // tasks a worker holds: the one running and the next
constexpr double kProgressEvery = 5;  // seconds between progress lines

using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// The last line of a traceback: "ValueError: bad item".
std::string last_line(const std::string& text) {
  auto end = text.find_last_not_of("\n ");
  if (end == std::string::npos) return text;
  auto start = text.rfind('\n', end);
  start = start == std::string::npos ? 0 : start + 1;
  return text.substr(start, end - start + 1);
}

class Master {
 public:
  explicit Master(const MasterPlan& plan)
      : plan_(plan),
        logs_(plan.logs),
        journal_(plan.journal),
        scheduler_(plan.partition, plan.config.max_retries,
                   {plan.config.mini_batch_error_threshold, plan.config.error_threshold,
                    plan.config.allowed_failed_percent},
                   plan.config.append_row_dataframe_header),
        rules_(plan.stop),
        workers_(plan.world_size),
        starting_(plan.world_size - 1) {}

  JobOutcome run();

 private:
  enum class State { starting, active, idle, retired };
  struct Worker {
    State state = State::starting;
    std::string host;
  };

  void restore();
  void handle(const Message& m);
  void on_ready(int rank, const ReadyMsg& m);
  void on_init_failed(int rank, const InitFailedMsg& m);
  void on_result(int rank, const ResultMsg& m);
  void on_gave_up(int rank, const ResultMsg& m);
  void on_written(int rank, const WrittenMsg& m);
  void log_failure(int rank, const Attempt& a, const ResultMsg& m);
  void feed();
  void check_stop();
  void stop(ExitCode code, const std::string& reason, double grace);
  void abandon_running();
  void set_state(int rank, State state);
  bool done();
  std::string no_worker_reason() const;
  void report_progress(bool force);
  double now() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }
  std::string where(int rank) const { return "rank " + std::to_string(rank) + " (" + workers_[rank].host + ")"; }

  const MasterPlan& plan_;
  JobLogs& logs_;
  JournalWriter& journal_;
  Scheduler scheduler_;
  StopRules rules_;
  std::vector<Worker> workers_;  // indexed by rank; entry 0 unused
  int starting_;                 // workers that have not said ready or init_failed yet
  int active_ = 0;               // workers that take work
  std::vector<int> hungry_;      // ranks with a free prefetch slot, one entry per slot
  Outbox outbox_;
  JobOutcome outcome_;
  bool stopping_ = false;
  std::optional<double> abandon_at_;  // when a drain stops waiting for running mini-batches
  bool warned_extra_rows_ = false;
  int idle_ranks_ = 0;
  Clock::time_point start_ = Clock::now();
  double last_progress_line_ = 0;
  std::optional<double> first_task_;
};

JobOutcome Master::run() {
  double cpu0 = cpu_seconds();
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
    } else {
      backoff.wait();
    }
    check_stop();
    journal_.flush();  // one write per pass: the records of everything this pass decided
    journal_.sync_if_due();
    outbox_.progress();
    report_progress(false);
  }
  for (std::size_t r = 1; r < workers_.size(); ++r) outbox_.send(static_cast<int>(r), Tag::stop, "");
  outbox_.flush();
  report_progress(true);
  outcome_.counts = scheduler_.counts();
  outcome_.seconds = now();
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
  std::cout << "prs_mpi: resuming: " << c.batches_succeeded + c.batches_failed << " of " << c.batches
            << " mini-batches already done (" << c.batches_failed << " failed)" << std::endl;
}

void Master::handle(const Message& m) {
  switch (m.tag) {
    case Tag::ready: return on_ready(m.source, decode_ready(m.bytes));
    case Tag::init_failed: return on_init_failed(m.source, decode_init_failed(m.bytes));
    case Tag::result: return on_result(m.source, decode_result(m.bytes));
    case Tag::gave_up: return on_gave_up(m.source, decode_result(m.bytes));
    case Tag::written: return on_written(m.source, decode_written(m.bytes));
    default: throw Fatal(std::string("master: unexpected ") + tag_name(m.tag) + " message from rank " +
                         std::to_string(m.source));
  }
}

void Master::on_ready(int rank, const ReadyMsg& m) {
  Worker& w = workers_[rank];
  w.host = m.host;
  if (m.idle) {
    set_state(rank, State::idle);
    logs_.master_note(where(rank) + " idle: max_concurrency_per_instance reached on its node");
    if (++idle_ranks_ == 1)
      std::cerr << "prs_mpi: warning: " << where(rank) << " and any other rank beyond max_concurrency_per_instance ("
                << plan_.config.max_concurrency_per_instance << ") on its node stay idle (listed in " << logs_.dir()
                << "/sys/master_role.txt)\n";
    return;
  }
  set_state(rank, State::active);
  ++outcome_.workers_started;
  for (int i = 0; i < kPrefetch; ++i) hungry_.push_back(rank);
}

void Master::on_init_failed(int rank, const InitFailedMsg& m) {
  Worker& w = workers_[rank];
  w.host = m.host;
  set_state(rank, State::retired);
  ++outcome_.workers_retired;
  logs_.entry_script_error(where(rank) + ": init() failed; the worker is retired", m.traceback);
  std::cerr << "prs_mpi: " << where(rank) << ": init() failed, worker retired: " << last_line(m.traceback) << "\n";
}

void Master::log_failure(int rank, const Attempt& a, const ResultMsg& m) {
  std::string heading =
      where(rank) + ": mini-batch " + std::to_string(a.batch_id) + ", attempt " + std::to_string(a.number);
  logs_.entry_script_error(heading, m.error);
  std::cerr << "prs_mpi: " << heading << " failed: " << last_line(m.error) << "\n";
}

void Master::on_result(int rank, const ResultMsg& m) {
  if (stopping_ && !scheduler_.is_running(m.attempt_id)) return;  // abandoned by a drain that stopped waiting
  Attempt a = scheduler_.attempt(m.attempt_id);
  if (m.status == AttemptStatus::cancelled) {
    journal_.abandoned(a.batch_id);
  } else {
    journal_.resulted(a.batch_id);
    if (m.status != AttemptStatus::ok) log_failure(rank, a, m);
  }
  Verdict v = scheduler_.on_result(m);
  if (v.ended_now) journal_.ended(a.batch_id, *v.ended_now);
  if (v.action == Verdict::Action::commit)
    outbox_.send(rank, Tag::commit, encode(CommitMsg{m.attempt_id, v.offset, v.with_header}));
  else if (v.action == Verdict::Action::discard)
    outbox_.send(rank, Tag::discard, encode(AttemptMsg{m.attempt_id}));
  std::uint64_t items = scheduler_.batch_items(a.batch_id);
  if (m.status == AttemptStatus::ok && m.returned > items && !warned_extra_rows_) {
    warned_extra_rows_ = true;
    std::cerr << "prs_mpi: warning: run() returned " << m.returned << " rows for the " << items << " items of mini-batch "
              << a.batch_id << "; successes are capped at the item count (warned once)\n";
  }
  if (workers_[rank].state == State::active) hungry_.push_back(rank);
  auto reason = stopping_ ? std::nullopt : scheduler_.exceeded_threshold();  // checked per result: exact counts
  if (reason) stop(ExitCode::job_failed, *reason, 1e9);
}

void Master::on_gave_up(int rank, const ResultMsg& m) {
  set_state(rank, State::retired);
  ++outcome_.workers_given_up;
  hungry_.erase(std::remove(hungry_.begin(), hungry_.end(), rank), hungry_.end());
  logs_.master_note(where(rank) + " given up: run() ignored the timeout; its mini-batch goes to another worker");
  on_result(rank, m);
}

void Master::on_written(int rank, const WrittenMsg& m) {
  Committed c = scheduler_.on_written(m.attempt_id);
  c.end.checksum = m.checksum;  // --resume checks the output against it
  journal_.ended(c.batch_id, c.end);  // only now: the rows are in the file
}

void Master::feed() {
  if (stopping_) return;
  std::vector<std::pair<int, TaskMsg>> tasks;
  std::vector<int> still_hungry;
  for (int rank : hungry_) {
    auto a = scheduler_.next_for(rank);
    if (!a) {
      still_hungry.push_back(rank);
      continue;
    }
    journal_.dispatched(a->batch_id, a->number, rank);
    TaskMsg t{a->batch_id, a->attempt_id, a->number, {}};
    ItemRange range = scheduler_.batch_range(a->batch_id);
    t.items.reserve(range.count);
    for (std::uint64_t i = range.first; i < range.first + range.count; ++i) t.items.emplace_back(plan_.files.at(i));
    tasks.emplace_back(rank, std::move(t));
  }
  hungry_.swap(still_hungry);
  if (tasks.empty()) return;
  journal_.flush();  // an attempt counts before its worker can crash the job with it
  for (auto& [rank, t] : tasks) {
    outbox_.send(rank, Tag::task, encode(t));
  }
  if (!first_task_) first_task_ = now();
  rules_.first_task();
}

void Master::check_stop() {
  if (abandon_at_ && now() >= *abandon_at_) abandon_running();
  if (stopping_) return;
  if (auto reason = scheduler_.exceeded_threshold()) return stop(ExitCode::job_failed, *reason, 1e9);
  if (auto order = rules_.check(now(), scheduler_.in_flight() > 0, drain_signal()))
    stop(order->code, order->reason, order->grace_seconds);
}

void Master::stop(ExitCode code, const std::string& reason, double grace) {
  stopping_ = true;
  outcome_.code = code;
  outcome_.reason = reason;
  logs_.master_note("stopping: " + reason);
  std::cerr << "prs_mpi: stopping: " << reason << "\n";
  for (std::size_t r = 1; r < workers_.size(); ++r)
    if (workers_[r].state == State::active) outbox_.send(static_cast<int>(r), Tag::cancel, "");
  abandon_at_ = now() + grace;
}

// Stops waiting for running mini-batches: their attempts are taken back (journaled as abandoned) and their
// workers leave without finishing Python; committed writes still complete (they do not wait for Python).
void Master::abandon_running() {
  abandon_at_.reset();
  for (std::size_t r = 1; r < workers_.size(); ++r) {
    for (std::uint64_t b : scheduler_.take_back_worker(static_cast<int>(r))) {
      journal_.abandoned(b);
      logs_.master_note("mini-batch " + std::to_string(b) + " abandoned on " + where(static_cast<int>(r)));
    }
  }
}

// Keeps the counts done() reads, so the loop never walks all workers.
void Master::set_state(int rank, State state) {
  State& old = workers_[rank].state;
  starting_ -= old == State::starting;
  active_ += (state == State::active) - (old == State::active);
  old = state;
}

// A stopping job does not wait for workers still in init(): they are told to stop like the others.
bool Master::done() {
  if (stopping_) return scheduler_.in_flight() == 0;
  if (starting_ > 0) return false;
  if (scheduler_.finished()) return true;
  if (active_ > 0) return false;
  stopping_ = true;
  outcome_.code = ExitCode::job_failed;
  outcome_.reason = no_worker_reason();
  return true;
}

std::string Master::no_worker_reason() const {
  int retired = outcome_.workers_retired, given_up = outcome_.workers_given_up;
  std::string errors = " (tracebacks in " + logs_.dir() + "/user/error.txt)";
  if (given_up == 0 && retired > 0)
    return "no worker left: init() failed on all " + std::to_string(retired) + " workers" + errors;
  if (retired + given_up == 0) return "no worker left: every rank is idle (max_concurrency_per_instance)";
  return "no worker left: " + std::to_string(retired) + " retired after init() failed, " + std::to_string(given_up) +
         " given up after run() ignored the timeout" + errors;
}

void Master::report_progress(bool force) {
  if (!force && now() - last_progress_line_ < kProgressEvery) return;
  last_progress_line_ = now();
  const JobCounts& c = scheduler_.counts();
  std::cout << "prs_mpi: processed " << c.batches_succeeded + c.batches_failed << " of " << c.batches
            << " mini-batches (" << c.batches_failed << " failed, " << c.retries << " retried) in "
            << format_duration(now()) << std::endl;
}

}  // namespace

JobOutcome run_master(const MasterPlan& plan) { return Master(plan).run(); }

}  // namespace prs
