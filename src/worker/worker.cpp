#include "prs/worker/worker.hpp"

#include <pybind11/embed.h>
#include <signal.h>

#include <algorithm>
#include <iostream>
#include <optional>
#include <thread>
#include <unordered_map>

#include "prs/error.hpp"
#include "prs/mpi/job_end.hpp"
#include "prs/output/checksum.hpp"
#include "prs/worker/node_env.hpp"
#include "prs/worker/python_runner.hpp"
#include "prs/worker/worker_channel.hpp"

namespace py = pybind11;

namespace prs {

namespace {

// The MPI side of a worker: receives tasks and verdicts, reports outcomes, writes committed rows.
class WorkerComm {
 public:
  WorkerComm(WorkerChannel& channel, AppendFile& output, std::string host, bool idle, double give_up_after)
      : channel_(channel), output_(output), host_(std::move(host)), idle_(idle), give_up_after_(give_up_after) {}

  // The protocol loop, then the final collectives; returns the job's exit code.
  int run();

 private:
  void handle(const Message& m);
  void on_task(TaskMsg t);
  void on_commit(const CommitMsg& m);
  void on_discard(const AttemptMsg& m) { held_.erase(m.attempt_id); }
  void on_cancel();
  void on_event(PythonEvent& e);
  void on_outcome(std::uint64_t attempt_id, RunOutcome& o);
  void give_up_if_stuck();
  void send_cancelled(std::uint64_t attempt_id);
  [[noreturn]] void leave_without_python(int exit_code);

  struct Held {
    std::string header, rows;
  };
  WorkerChannel& channel_;
  AppendFile& output_;
  std::string host_;
  bool idle_;
  double give_up_after_;  // seconds a run() may take past which its worker gives it up; 0 = never
  std::optional<std::uint64_t> given_up_;  // the attempt given up on
  bool stopped_ = false;
  Outbox outbox_;
  std::unordered_map<std::uint64_t, Held> held_;  // rows of attempts waiting for commit or discard
  WorkerTotals totals_;
};

int WorkerComm::run() {
  if (idle_) outbox_.send(0, Tag::ready, encode(ReadyMsg{host_, true}));
  Backoff backoff;
  while (!stopped_) {
    bool progress = false;
    while (!stopped_) {
      auto m = try_receive();
      if (!m) break;
      handle(*m);
      progress = true;
    }
    auto events = channel_.take_events(progress ? std::chrono::microseconds(0) : backoff.next());
    for (auto& e : events) on_event(e);
    if (progress || !events.empty()) backoff.reset();
    give_up_if_stuck();
    outbox_.progress();
  }
  outbox_.flush();
  int exit_code = end_job_collectively(totals_, 0).exit_code;
  output_.close();  // collective
  PythonState python = channel_.state();
  if (python == PythonState::init || python == PythonState::task) leave_without_python(exit_code);
  return exit_code;
}

// Python is stuck (a run() or init() that never returns): the collectives are done, so leave without it.
void WorkerComm::leave_without_python(int exit_code) {
  std::cout.flush();
  std::cerr.flush();
  finalize_and_exit(exit_code);
}

void WorkerComm::on_task(TaskMsg t) {
  if (given_up_) return send_cancelled(t.attempt_id);  // sent before the master knew
  channel_.push_task(std::move(t));
}

void WorkerComm::send_cancelled(std::uint64_t attempt_id) {
  ResultMsg r;
  r.attempt_id = attempt_id;
  r.status = AttemptStatus::cancelled;
  outbox_.send(0, Tag::result, encode(r));
}

// A run() that outlived its timeout by the grace period ignored the TimeoutError (stuck in C, signals blocked):
// hand its queued tasks back, report the attempt as timed out and take no more work.
void WorkerComm::give_up_if_stuck() {
  if (given_up_ || give_up_after_ <= 0) return;
  auto running = channel_.running();
  if (!running || running->second < give_up_after_) return;
  given_up_ = running->first;
  on_cancel();
  ResultMsg r;
  r.attempt_id = running->first;
  r.status = AttemptStatus::timed_out;
  r.seconds = running->second;
  r.error = "run() is still running " + std::to_string(static_cast<int>(running->second)) +
            " s after it started, past its timeout and the grace period (stuck in C code or with signals blocked); "
            "this worker is given up and its mini-batch goes to another worker\n";
  ++totals_.attempts_run;
  ++totals_.attempts_failed;
  ++totals_.timeouts;
  outbox_.send(0, Tag::gave_up, encode(r));
}

void WorkerComm::handle(const Message& m) {
  switch (m.tag) {
    case Tag::task: return on_task(decode_task(m.bytes));
    case Tag::commit: return on_commit(decode_commit(m.bytes));
    case Tag::discard: return on_discard(decode_attempt(m.bytes));
    case Tag::cancel: return on_cancel();
    case Tag::stop:
      stopped_ = true;
      channel_.close();
      return;
    default: throw Fatal(std::string("worker: unexpected ") + tag_name(m.tag) + " message from rank " +
                         std::to_string(m.source));
  }
}

void WorkerComm::on_commit(const CommitMsg& m) {
  auto it = held_.find(m.attempt_id);
  if (it == held_.end()) throw Fatal("worker: commit of unknown attempt " + std::to_string(m.attempt_id));
  std::string bytes = m.with_header ? it->second.header + it->second.rows : std::move(it->second.rows);
  output_.write_at(m.offset, bytes);
  totals_.bytes_written += bytes.size();
  held_.erase(it);
  outbox_.send(0, Tag::written, encode(WrittenMsg{m.attempt_id, crc32c(bytes)}));  // the journal keeps the sum
}

void WorkerComm::on_cancel() {
  for (const TaskMsg& t : channel_.take_queued()) send_cancelled(t.attempt_id);
}

void WorkerComm::on_event(PythonEvent& e) {
  switch (e.kind) {
    case PythonEvent::Kind::init_ok: return outbox_.send(0, Tag::ready, encode(ReadyMsg{host_, false}));
    case PythonEvent::Kind::init_failed:
      return outbox_.send(0, Tag::init_failed, encode(InitFailedMsg{host_, e.text}));
    case PythonEvent::Kind::outcome: return on_outcome(e.attempt_id, e.outcome);
  }
}

void WorkerComm::on_outcome(std::uint64_t attempt_id, RunOutcome& o) {
  if (given_up_ == attempt_id) return;  // reported when it was given up
  ResultMsg r;
  r.attempt_id = attempt_id;
  r.status = o.ok ? AttemptStatus::ok : o.timed_out ? AttemptStatus::timed_out : AttemptStatus::failed;
  r.returned = o.returned;
  r.successes = o.successes;
  r.row_bytes = o.rows.size();
  r.header_bytes = o.header.size();
  r.seconds = o.seconds;
  r.error = std::move(o.error);
  ++totals_.attempts_run;
  totals_.attempts_failed += !o.ok;
  totals_.timeouts += o.timed_out;
  totals_.run_micros += static_cast<std::uint64_t>(o.seconds * 1e6);
  if (!o.rows.empty() || !o.header.empty()) held_[attempt_id] = {std::move(o.header), std::move(o.rows)};
  outbox_.send(0, Tag::result, encode(r));
}

// Starts the MPI thread with the signals Python must see blocked, so they reach the main thread.
std::thread start_comm_thread(WorkerComm& comm, int& exit_code) {
  sigset_t block, old;
  sigemptyset(&block);
  for (int s : {SIGALRM, SIGINT, SIGTERM, SIGUSR1, SIGUSR2}) sigaddset(&block, s);
  pthread_sigmask(SIG_BLOCK, &block, &old);
  std::thread t([&comm, &exit_code] {
    try {
      exit_code = comm.run();
    } catch (const std::exception& e) {
      std::cerr << "prs_mpi: fatal: " << e.what() << std::endl;
      abort_all(1);
    }
  });
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  return t;
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
  return s;
}

// The Python side: init() once, run() per task until the channel closes, shutdown() at the end.
void serve_python(const JobConfig& config, WorkerChannel& channel, const std::string& where) {
  PythonRunner runner(runner_settings(config));
  try {
    runner.init();
  } catch (const EntryScriptError& e) {
    channel.post({PythonEvent::Kind::init_failed, 0, {}, e.what()});
    while (channel.wait_task()) {}  // retired: no task comes; wait for stop
    channel.set_state(PythonState::done);
    return;
  }
  channel.post({PythonEvent::Kind::init_ok, 0, {}, {}});
  while (auto task = channel.wait_task()) {
    PythonEvent e{PythonEvent::Kind::outcome, task->attempt_id, runner.run_files(task->items), {}};
    channel.post(std::move(e));
  }
  channel.set_state(PythonState::shutdown);
  std::string error = runner.shutdown();
  if (!error.empty()) std::cerr << "prs_mpi: " << where << ": shutdown() raised:\n" << error;
  channel.set_state(PythonState::done);
}

// A run() gets its timeout, then this grace period to honour the TimeoutError, before its worker gives it up.
double give_up_after(const JobConfig& config) {
  return config.timeout + std::clamp(0.1 * config.timeout, 2.0, 60.0);
}

}  // namespace

int run_worker(const JobConfig& config, const NodeInfo& node, int rank, AppendFile& output) {
  bool idle = node.worker_slot >= active_workers_on_node(config, node);
  WorkerChannel channel;
  WorkerComm comm(channel, output, node.host, idle, give_up_after(config));
  int exit_code = 1;
  if (idle) {
    channel.set_state(PythonState::done);  // no Python on an idle rank
    std::thread t = start_comm_thread(comm, exit_code);
    t.join();
    return exit_code;
  }
  set_worker_environment(config, node, rank);
  py::scoped_interpreter interpreter{false};  // no Python SIGINT handler: Ctrl-C means drain, not a failed batch
  std::thread t = start_comm_thread(comm, exit_code);
  serve_python(config, channel, "rank " + std::to_string(rank) + " (" + node.host + ")");
  t.join();
  return exit_code;
}

}  // namespace prs
