#include "prs/worker/worker.hpp"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <deque>
#include <iostream>
#include <unordered_map>

#include "prs/error.hpp"
#include "prs/input/mltable.hpp"
#include "prs/mpi/job_end.hpp"
#include "prs/output/checksum.hpp"
#include "prs/worker/node_env.hpp"
#include "prs/worker/python_supervisor.hpp"

namespace prs {

namespace {

// The worker loop: messages from the master on one side, the Python process's events on the other.
class Worker {
 public:
  Worker(SupervisorSettings settings, AppendFile& output, std::string host, bool idle)
      : python_(std::move(settings)), output_(output), host_(std::move(host)), idle_(idle) {}

  // The protocol loop, then the final collectives; returns the job's exit code.
  int run();

 private:
  bool receive_messages();
  void handle(const Message& m);
  void on_task(TaskMsg t);
  void on_commit(const CommitMsg& m);
  void on_discard(const AttemptMsg& m) { held_.erase(m.attempt_id); }
  void on_cancel();
  void on_event(PythonEvent& e);
  void on_outcome(std::uint64_t attempt_id, RunOutcome& o);
  void feed_python();
  void send_cancelled(std::uint64_t attempt_id);
  void report_fatal(const std::string& what);

  struct Held {
    std::string header, rows;
  };
  PythonSupervisor python_;
  AppendFile& output_;
  std::string host_;
  bool idle_;
  bool restarting_ = false;  // said restarting, not yet ready again: tasks that cross it go straight back
  bool out_of_work_ = false;  // retired (init failed) or broken (fatal): takes no task
  bool stopped_ = false;
  std::deque<TaskMsg> queue_;  // tasks waiting for the Python process
  Outbox outbox_;
  std::unordered_map<std::uint64_t, Held> held_;  // rows of attempts waiting for commit or discard
  WorkerTotals totals_;
};

int Worker::run() {
  if (idle_) outbox_.send(0, Tag::ready, encode(ReadyMsg{host_, true, getpid()}));
  else python_.start();
  Backoff backoff;
  while (!stopped_) {
    bool progress = receive_messages();
    feed_python();
    auto events = python_.poll(progress ? std::chrono::microseconds(0) : backoff.next());
    for (auto& e : events) on_event(e);
    if (progress || !events.empty()) backoff.reset();
    feed_python();
    outbox_.progress();
  }
  for (const TaskMsg& t : queue_) send_cancelled(t.attempt_id);
  queue_.clear();
  python_.stop();
  outbox_.send(0, Tag::finished, "");
  outbox_.flush();
  int exit_code = end_job_collectively(totals_, 0).exit_code;
  output_.close();  // collective
  return exit_code;
}

bool Worker::receive_messages() {
  bool progress = false;
  while (!stopped_) {
    auto m = try_receive();
    if (!m) break;
    handle(*m);
    progress = true;
  }
  return progress;
}

void Worker::handle(const Message& m) {
  switch (m.tag) {
    case Tag::task: return on_task(decode_task(m.bytes));
    case Tag::commit: return on_commit(decode_commit(m.bytes));
    case Tag::discard: return on_discard(decode_attempt(m.bytes));
    case Tag::cancel: return on_cancel();
    case Tag::stop: stopped_ = true; return;
    default: throw Fatal(std::string("worker: unexpected ") + tag_name(m.tag) + " message from rank " +
                         std::to_string(m.source));
  }
}

void Worker::on_task(TaskMsg t) {
  if (restarting_ || out_of_work_) return send_cancelled(t.attempt_id);  // sent before the master knew
  queue_.push_back(std::move(t));
}

void Worker::feed_python() {
  if (queue_.empty() || !python_.can_run()) return;
  python_.run(queue_.front());
  queue_.pop_front();
}

void Worker::send_cancelled(std::uint64_t attempt_id) {
  ResultMsg r;
  r.attempt_id = attempt_id;
  r.status = AttemptStatus::cancelled;
  outbox_.send(0, Tag::result, encode(r));
}

void Worker::on_cancel() {
  for (const TaskMsg& t : queue_) send_cancelled(t.attempt_id);
  queue_.clear();
}

// The rows go where the master said; a failed write (disk full, a dead mount) makes this rank useless, and the
// master stops the job in order instead of this rank unwinding into collectives the others never reach.
void Worker::on_commit(const CommitMsg& m) {
  auto it = held_.find(m.attempt_id);
  if (it == held_.end()) throw Fatal("worker: commit of unknown attempt " + std::to_string(m.attempt_id));
  std::string bytes = m.with_header ? it->second.header + it->second.rows : std::move(it->second.rows);
  held_.erase(it);
  if (out_of_work_) return;  // broken already: the master knows
  try {
    output_.write_at(m.offset, bytes);
  } catch (const Fatal& e) {
    return report_fatal(e.what());
  }
  totals_.bytes_written += bytes.size();
  outbox_.send(0, Tag::written, encode(WrittenMsg{m.attempt_id, crc32c(bytes)}));  // the journal keeps the sum
}

void Worker::report_fatal(const std::string& what) {
  out_of_work_ = true;
  on_cancel();
  outbox_.send(0, Tag::fatal, encode(TextMsg{what}));
}

void Worker::on_event(PythonEvent& e) {
  switch (e.kind) {
    case PythonEvent::Kind::ready:
      restarting_ = false;
      if (!out_of_work_) outbox_.send(0, Tag::ready, encode(ReadyMsg{host_, false, getpid()}));
      return;
    case PythonEvent::Kind::init_failed:
      out_of_work_ = true;
      on_cancel();
      return outbox_.send(0, Tag::init_failed, encode(InitFailedMsg{host_, e.text}));
    case PythonEvent::Kind::restarting:
      restarting_ = true;
      outbox_.send(0, Tag::restarting, encode(TextMsg{e.text}));
      return on_cancel();  // nothing waits through a fresh init()
    case PythonEvent::Kind::outcome: return on_outcome(e.attempt_id, e.outcome);
  }
}

void Worker::on_outcome(std::uint64_t attempt_id, RunOutcome& o) {
  ResultMsg r;
  r.attempt_id = attempt_id;
  r.status = o.ok ? AttemptStatus::ok : o.timed_out ? AttemptStatus::timed_out : AttemptStatus::failed;
  r.returned = o.returned;
  r.successes = o.successes;
  r.row_bytes = o.rows.size();
  r.header_bytes = o.header.size();
  r.seconds = o.seconds;
  r.error = std::move(o.error);
  r.rows = o.table_rows;
  ++totals_.attempts_run;
  totals_.attempts_failed += !o.ok;
  totals_.timeouts += o.timed_out;
  totals_.run_micros += static_cast<std::uint64_t>(o.seconds * 1e6);
  if (!o.rows.empty() || !o.header.empty()) held_[attempt_id] = {std::move(o.header), std::move(o.rows)};
  outbox_.send(0, Tag::result, encode(r));
}

RunnerSettings runner_settings(const JobConfig& config) {
  RunnerSettings s;
  s.entry_script = config.entry_script;
  s.code_dir = config.code_dir;
  s.argv.push_back(config.entry_script);
  s.argv.insert(s.argv.end(), config.program_arguments.begin(), config.program_arguments.end());
  s.timeout_seconds = config.timeout;
  s.format_rows = config.output_action == OutputAction::append_row;
  s.dataframe_header = config.append_row_dataframe_header;
  if (config.input_kind == InputKind::mltable) s.table = read_mltable(config.input_path, false).reader;
  return s;
}

std::string own_executable() {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) throw Fatal("worker: cannot find its own executable (/proc/self/exe)");
  return std::string(path, static_cast<std::size_t>(n));
}

}  // namespace

int run_worker(const JobConfig& config, const NodeInfo& node, int rank, AppendFile& output) {
  signal(SIGPIPE, SIG_IGN);  // a Python process that died is seen by waitpid, not by a signal to this rank
  bool idle = node.worker_slot >= active_workers_on_node(config, node);
  SupervisorSettings s;
  s.where = "rank " + std::to_string(rank) + " (" + node.host + ")";
  if (!idle) {
    set_worker_environment(config, node, rank);
    s.exe = own_executable();
    s.runner = runner_settings(config);
    s.hard_timeout = hard_timeout(config);
    s.shutdown_patience = hard_timeout(config);
    s.max_tasks = config.max_tasks_per_child;
    s.max_memory = config.max_memory_per_child;
  }
  Worker worker(std::move(s), output, node.host, idle);
  return worker.run();
}

}  // namespace prs
