#include "worker_loop.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <iostream>

#include "prs/error.hpp"
#include "prs/output/checksum.hpp"

namespace prs::worker_detail {

int Worker::run() {
  if (idle_) outbox_.send(0, Tag::ready, encode(ReadyMsg{host_, true, getpid()}));
  Backoff backoff;
  int skipped = 0;  // MPI probes left out in a row while the Python process kept answering
  while (!stopped_) {
    // An empty probe yields the core (Open MPI, oversubscribed): while outcomes keep coming and tasks wait here
    // for the Python process, its answers go first and the master's messages wait a pass or two.
    const bool probe = skipped >= kMaxSkippedProbes || queue_.empty();
    bool progress = probe && receive_messages();
    skipped = probe ? 0 : skipped + 1;
    feed_python();
    // While run() is long and the Python process has its task, nothing from the master is urgent (a commit, the
    // next task, a cancel can wait a sixteenth of run()): the rank sleeps on the pipe, which its answer wakes.
    // Without a task (the end of a job, work gone to others) a task or stop may come any time: a 256th of run().
    const RunTimeAverage& times = python_.run_times();
    backoff.set_cap(python_.running() ? resting_cap(times, python_.running_seconds())
                                      : resting_cap(times, 0, kTailShare));
    auto events = python_.poll(progress || !probe ? std::chrono::microseconds(0) : backoff.next());
    for (auto& e : events) on_event(e);
    if (progress || !events.empty()) backoff.reset();
    if (events.empty()) skipped = kMaxSkippedProbes;  // nothing from Python: probe MPI next pass
    feed_python();
    outbox_.progress();
    monitor_.sample_if_due(python_.pid());
  }
  on_cancel();  // the queued tasks and the rows read ahead go
  python_.stop();
  log_sys(10, "rows of " + std::to_string(python_.rows_in_region()) + " mini-batches came through the shared rows "
              "region, of " + std::to_string(python_.rows_in_pipe()) + " through the pipe");
  close_output();  // before finished: once the final collectives are over rank 0 may read the file
  outbox_.send(0, Tag::finished, "");
  outbox_.flush();
  return end_job_collectively(totals_, 0).exit_code;
}

void Worker::end_before_start() {
  python_.poll(std::chrono::microseconds(0));  // an init() that returned has said so by now: it gets shutdown()
  python_.stop();
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

// Hands the Python process what it can take now, in one write: one task, or a few ahead while run() is short.
void Worker::feed_python() {
  while (!queue_.empty()) {
    const TaskMsg& t = queue_.front();
    if (rows_) {
      if (!python_.can_take_rows()) break;
      if (!hand_rows(t)) continue;  // its rows could not be read: that attempt failed, the next one is tried
    } else if (!python_.offer(t)) {
      break;
    }
    note_started(t);
    queue_.pop_front();
  }
  python_.send_offered();
  read_ahead();
}

// While the Python process runs a read_hdf5 mini-batch, the next queued task's rows are read (and framed) here, so
// they are handed the moment run() returns; one mini-batch ahead at most (rows_ahead.hpp).
void Worker::read_ahead() {
  if (!rows_ || queue_.empty() || !python_.running() || rows_->holds(queue_.front().attempt_id)) return;
  const TaskMsg& t = queue_.front();
  const bool read = rows_->read_ahead(t);
  if (level_ <= 10)
    log_sys(10, "mini-batch " + std::to_string(t.batch_id) + " attempt " + std::to_string(t.attempt) +
                    (read ? ": rows read ahead" : ": rows read ahead failed; the attempt fails at its turn"));
}

// A read_hdf5 task: its rows (read ahead, or read now) go with it to the (idle) Python process. false: they could
// not be read (the file changed or vanished since planning): that attempt failed and is off the queue; the worker
// goes on.
bool Worker::hand_rows(const TaskMsg& t) {
  std::string body;
  try {
    body = rows_->take(t);
  } catch (const Error& e) {
    RunOutcome failed;
    failed.error = std::string(e.what()) + "\n";
    const std::uint64_t attempt_id = t.attempt_id;
    note_started(t);
    queue_.pop_front();
    on_outcome(attempt_id, failed);
    return false;
  }
  if (!python_.offer_rows(t, std::move(body))) throw Fatal("worker: an idle Python process refused a read_hdf5 task");
  return true;
}

// What the attempt's log lines will name.
void Worker::note_started(const TaskMsg& t) {
  std::vector<std::string> first(t.items.begin(), t.items.begin() + std::min(t.items.size(), kItemsShown));
  started_[t.attempt_id] = {t.batch_id, t.attempt, t.items.size(), std::move(first), std::time(nullptr),
                            std::chrono::steady_clock::now()};
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
  if (rows_) rows_->drop();  // they were the front task's
}

// The rows go where the master said; a failed write (disk full, a dead mount) makes this rank useless, and the
// master stops the job in order instead of this rank unwinding into collectives the others never reach.
void Worker::on_commit(const CommitMsg& m) {
  auto it = held_.find(m.attempt_id);
  if (it == held_.end()) throw Fatal("worker: commit of unknown attempt " + std::to_string(m.attempt_id));
  Held held = std::move(it->second);  // its slot is freed when this ends, after the write
  held_.erase(it);
  if (out_of_work_) return;  // broken already: the master knows
  std::string joined;
  std::string_view bytes = held.bytes();  // straight from the rows region's mapping when the rows came there
  if (m.with_header) bytes = joined = held.header + std::string(bytes);
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

// A close that fails (a network file system reports write-back errors there) may have lost rows the master counts
// as written: the job ends failed on every rank, and --resume checks each written block against its checksum.
void Worker::close_output() {
  try {
    output_.close();
  } catch (const Fatal& e) {
    std::cerr << "prs_mpi: fatal: rank " << rank_ << ": " << e.what()
              << "; ending every rank (resumable with --resume, which checks the rows written)" << std::endl;
    abort_all(static_cast<int>(ExitCode::job_failed));
  }
}

void Worker::on_event(PythonEvent& e) {
  switch (e.kind) {
    case PythonEvent::Kind::ready:
      log_sys(10, "init() done; ready for mini-batches");
      restarting_ = false;
      if (!out_of_work_) {
        const auto waited = std::chrono::steady_clock::now() - python_.init_returned();  // for the plan, at start-up
        outbox_.send(0, Tag::ready, encode(ReadyMsg{host_, false, getpid(), python_.init_seconds(),
                                                    std::chrono::duration<double>(waited).count()}));
      }
      return;
    case PythonEvent::Kind::init_failed:
      log_sys(40, "init() failed; the worker is retired");
      if (logs_) logs_->error("=== " + log_time(std::time(nullptr)) + " rank " + std::to_string(rank_) + " (" + host_ +
                              "): init() failed; the worker is retired\n" + e.text);
      out_of_work_ = true;
      on_cancel();
      return outbox_.send(0, Tag::init_failed, encode(InitFailedMsg{host_, e.text}));
    case PythonEvent::Kind::restarting:
      log_sys(30, "restarting: " + e.text + "; a fresh Python process runs init()");
      restarting_ = true;
      outbox_.send(0, Tag::restarting, encode(TextMsg{e.text}));
      return on_cancel();  // nothing waits through a fresh init()
    case PythonEvent::Kind::outcome: return on_outcome(e.attempt_id, e.outcome, std::move(e.rows));
    case PythonEvent::Kind::not_started:  // it waited behind the attempt that ended the process
      started_.erase(e.attempt_id);
      return send_cancelled(e.attempt_id);
  }
}

void Worker::on_outcome(std::uint64_t attempt_id, RunOutcome& o, RowLease lease) {
  ResultMsg r;
  r.attempt_id = attempt_id;
  r.status = o.ok ? AttemptStatus::ok : o.timed_out ? AttemptStatus::timed_out : AttemptStatus::failed;
  r.returned = o.returned;
  r.successes = o.successes;
  r.row_bytes = lease ? lease.bytes().size() : o.rows.size();
  r.header_bytes = o.header.size();
  r.seconds = o.seconds;
  log_attempt(attempt_id, o);
  r.error = std::move(o.error);
  r.rows = o.table_rows;
  ++totals_.attempts_run;
  totals_.attempts_failed += !o.ok;
  totals_.timeouts += o.timed_out;
  totals_.run_micros += static_cast<std::uint64_t>(o.seconds * 1e6);
  if (!o.rows.empty() || !o.header.empty() || lease)
    held_[attempt_id] = {std::move(o.header), std::move(o.rows), std::move(lease)};
  outbox_.send(0, Tag::result, encode(r));
}

// A line of sys/node/<node>/processNNN.txt at a logging level (10 DEBUG .. 40 ERROR), kept if logging_level allows.
void Worker::log_sys(int level, const std::string& text) {
  if (logs_ && level >= level_)
    logs_->sys_line(log_time(std::time(nullptr)) + " rank " + std::to_string(rank_) + ": " + text);
}

// One line in sys/node/<node>/processNNN.txt; a failed or short attempt's traceback in user/error/<node>/...
void Worker::log_attempt(std::uint64_t attempt_id, const RunOutcome& o) {
  auto it = started_.find(attempt_id);
  if (it == started_.end()) return;
  Started t = std::move(it->second);
  started_.erase(it);
  if (!logs_) return;
  AttemptRecord r;
  r.rank = rank_;
  r.batch_id = t.batch_id;
  r.attempt = t.attempt;
  r.items = t.items;
  r.succeeded = o.ok ? o.successes : 0;
  r.status = o.ok ? (r.succeeded < r.items ? "short" : "ok") : o.timed_out ? "timed out" : "failed";
  r.start = t.start;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t.since).count();
  r.run_seconds = o.seconds;
  if ((r.status == "ok" ? 20 : 30) >= level_) logs_->sys_line(attempt_line(r));
  if (!o.ok) logs_->error(error_record(r, host_, t.first_items, o.error));
  else if (r.succeeded < r.items)
    logs_->error(error_record(r, host_, t.first_items, "run() returned " + std::to_string(o.returned) + " rows for " +
                                                     std::to_string(r.items) + " items\n"));
}

}  // namespace prs::worker_detail
