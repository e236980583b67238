#include "prs/master.hpp"

#include <sys/resource.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <vector>

#include "prs/mpi_comm.hpp"
#include "prs/protocol.hpp"
#include "prs/scheduler.hpp"

namespace prs {

namespace {

constexpr int kPrefetch = 2;  // tasks a worker holds: the one running and the next
constexpr auto kProgressEvery = std::chrono::seconds(5);

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
  return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

class Master {
 public:
  Master(const JobConfig& config, const FileList& files, const Partition& partition, JobLogs& logs, int world_size)
      : config_(config),
        files_(files),
        logs_(logs),
        scheduler_(partition, config.max_retries,
                   {config.mini_batch_error_threshold, config.error_threshold, config.allowed_failed_percent},
                   config.append_row_dataframe_header),
        workers_(world_size) {}

  JobOutcome run();

 private:
  enum class State { starting, active, idle, retired };
  struct Worker {
    State state = State::starting;
    std::string host;
    int queued = 0;  // tasks sent and not yet answered
  };

  void handle(const Message& m);
  void on_ready(int rank, const ReadyMsg& m);
  void on_init_failed(int rank, const InitFailedMsg& m);
  void on_result(int rank, const ResultMsg& m);
  void on_written(int rank, const AttemptMsg& m);
  void feed();
  void check_thresholds();
  bool done();
  void report_progress(bool force);
  std::string where(int rank) const { return "rank " + std::to_string(rank) + " (" + workers_[rank].host + ")"; }

  const JobConfig& config_;
  const FileList& files_;
  JobLogs& logs_;
  Scheduler scheduler_;
  std::vector<Worker> workers_;  // indexed by rank; entry 0 unused
  std::vector<int> hungry_;      // ranks with a free prefetch slot, one entry per slot
  Outbox outbox_;
  JobOutcome outcome_;
  bool stopping_ = false;
  bool warned_extra_rows_ = false;
  int idle_ranks_ = 0;
  Clock::time_point start_ = Clock::now(), last_progress_ = start_;
  std::optional<Clock::time_point> first_task_;
};

JobOutcome Master::run() {
  double cpu0 = cpu_seconds();
  Backoff backoff;
  while (!done()) {
    bool progress = false;
    while (auto m = try_receive()) {
      handle(*m);
      progress = true;
    }
    if (progress) {
      feed();
      check_thresholds();  // allowed_failed_percent starts counting once feed() scheduled the last batch
      backoff.reset();
    } else {
      backoff.wait();
    }
    outbox_.progress();
    report_progress(false);
  }
  for (std::size_t r = 1; r < workers_.size(); ++r) outbox_.send(static_cast<int>(r), Tag::stop, "");
  outbox_.flush();
  report_progress(true);
  outcome_.counts = scheduler_.counts();
  auto end = Clock::now();
  outcome_.seconds = std::chrono::duration<double>(end - start_).count();
  if (first_task_) outcome_.dispatch_seconds = std::chrono::duration<double>(end - *first_task_).count();
  outcome_.master_cpu_seconds = cpu_seconds() - cpu0;
  return outcome_;
}

void Master::handle(const Message& m) {
  switch (m.tag) {
    case Tag::ready: return on_ready(m.source, decode_ready(m.bytes));
    case Tag::init_failed: return on_init_failed(m.source, decode_init_failed(m.bytes));
    case Tag::result: return on_result(m.source, decode_result(m.bytes));
    case Tag::written: return on_written(m.source, decode_attempt(m.bytes));
    default: throw Fatal(std::string("master: unexpected ") + tag_name(m.tag) + " message from rank " +
                         std::to_string(m.source));
  }
}

void Master::on_ready(int rank, const ReadyMsg& m) {
  Worker& w = workers_[rank];
  w.host = m.host;
  if (m.idle) {
    w.state = State::idle;
    logs_.master_note(where(rank) + " idle: max_concurrency_per_instance reached on its node");
    if (++idle_ranks_ == 1)
      std::cerr << "prs_mpi: warning: " << where(rank) << " and any other rank beyond max_concurrency_per_instance ("
                << config_.max_concurrency_per_instance << ") on its node stay idle (listed in "
                << logs_.dir() << "/sys/master_role.txt)\n";
    return;
  }
  w.state = State::active;
  ++outcome_.workers_started;
  for (int i = 0; i < kPrefetch; ++i) hungry_.push_back(rank);
}

void Master::on_init_failed(int rank, const InitFailedMsg& m) {
  Worker& w = workers_[rank];
  w.host = m.host;
  w.state = State::retired;
  ++outcome_.workers_retired;
  logs_.entry_script_error(where(rank) + ": init() failed; the worker is retired", m.traceback);
  std::cerr << "prs_mpi: " << where(rank) << ": init() failed, worker retired: " << last_line(m.traceback) << "\n";
}

void Master::on_result(int rank, const ResultMsg& m) {
  Attempt a = scheduler_.attempt(m.attempt_id);
  --workers_[rank].queued;
  if (m.status != AttemptStatus::ok && m.status != AttemptStatus::cancelled) {
    std::string heading = where(rank) + ": mini-batch " + std::to_string(a.batch_id) + ", attempt " +
                          std::to_string(a.number);
    logs_.entry_script_error(heading, m.error);
    std::cerr << "prs_mpi: " << heading << " failed: " << last_line(m.error) << "\n";
  }
  Verdict v = scheduler_.on_result(m);
  if (v.action == Verdict::Action::commit)
    outbox_.send(rank, Tag::commit, encode(CommitMsg{m.attempt_id, v.offset, v.with_header}));
  else if (v.action == Verdict::Action::discard)
    outbox_.send(rank, Tag::discard, encode(AttemptMsg{m.attempt_id}));
  if (m.status == AttemptStatus::ok && m.returned > scheduler_.batch_items(a.batch_id) && !warned_extra_rows_) {
    warned_extra_rows_ = true;
    std::cerr << "prs_mpi: warning: run() returned " << m.returned << " rows for the " << scheduler_.batch_items(a.batch_id)
              << " items of mini-batch " << a.batch_id << "; successes are capped at the item count (warned once)\n";
  }
  if (workers_[rank].state == State::active) hungry_.push_back(rank);
  check_thresholds();  // after each result, so the reason names the counts at the moment it was exceeded
}

void Master::on_written(int rank, const AttemptMsg& m) { scheduler_.on_written(m.attempt_id); }

void Master::feed() {
  if (stopping_) return;
  std::vector<int> still_hungry;
  while (!hungry_.empty()) {
    int rank = hungry_.back();
    hungry_.pop_back();
    auto a = scheduler_.next_for(rank);
    if (!a) {
      still_hungry.push_back(rank);
      continue;
    }
    TaskMsg t{a->batch_id, a->attempt_id, a->number, {}};
    ItemRange range = scheduler_.batch_range(a->batch_id);
    t.items.reserve(range.count);
    for (std::uint64_t i = range.first; i < range.first + range.count; ++i) t.items.emplace_back(files_.at(i));
    outbox_.send(rank, Tag::task, encode(t));
    if (!first_task_) first_task_ = Clock::now();
    ++workers_[rank].queued;
  }
  hungry_.swap(still_hungry);
}

void Master::check_thresholds() {
  if (stopping_) return;
  auto reason = scheduler_.exceeded_threshold();
  if (!reason) return;
  stopping_ = true;
  outcome_.code = ExitCode::job_failed;
  outcome_.reason = *reason;
  logs_.master_note("stopping: " + *reason);
  std::cerr << "prs_mpi: stopping: " << *reason << "\n";
  for (std::size_t r = 1; r < workers_.size(); ++r)
    if (workers_[r].state == State::active) outbox_.send(static_cast<int>(r), Tag::cancel, "");
}

bool Master::done() {
  int starting = 0, active = 0;
  for (std::size_t r = 1; r < workers_.size(); ++r) {
    starting += workers_[r].state == State::starting;
    active += workers_[r].state == State::active;
  }
  if (starting > 0) return false;
  if (stopping_) return scheduler_.in_flight() == 0;
  if (scheduler_.finished()) return true;
  if (active > 0) return false;
  stopping_ = true;
  outcome_.code = ExitCode::job_failed;
  outcome_.reason = "no worker left: init() failed on all " + std::to_string(outcome_.workers_retired) +
                    " workers (tracebacks in " + logs_.dir() + "/user/error.txt)";
  if (outcome_.workers_retired == 0) outcome_.reason = "no worker left: every worker is idle (max_concurrency_per_instance)";
  return true;
}

void Master::report_progress(bool force) {
  auto now = Clock::now();
  if (!force && now - last_progress_ < kProgressEvery) return;
  last_progress_ = now;
  const JobCounts& c = scheduler_.counts();
  std::cout << "prs_mpi: processed " << c.batches_succeeded + c.batches_failed << " of " << c.batches
            << " mini-batches (" << c.batches_failed << " failed, " << c.retries << " retried) in "
            << format_duration(std::chrono::duration<double>(now - start_).count()) << std::endl;
}

}  // namespace

JobOutcome run_master(const JobConfig& config, const FileList& files, const Partition& partition, JobLogs& logs,
                      int world_size) {
  return Master(config, files, partition, logs, world_size).run();
}

}  // namespace prs
