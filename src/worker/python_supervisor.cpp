#include "prs/worker/python_supervisor.hpp"

#include <cstdlib>
#include <algorithm>
#include <ctime>
#include <fstream>
#include <iostream>
#include <thread>
#include <tuple>

#include "prs/error.hpp"
#include "prs/logs/process_logs.hpp"
#include "prs/worker/node_env.hpp"

namespace prs {

namespace {

using Clock = std::chrono::steady_clock;

std::string gib(std::uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f GiB", static_cast<double>(bytes) / (1 << 30));
  return buf;
}

PythonEvent failed_outcome(std::uint64_t attempt_id, const std::string& error, bool timed_out, double seconds) {
  PythonEvent e{PythonEvent::Kind::outcome, attempt_id, {}, {}, {}};
  e.outcome.error = error;
  e.outcome.timed_out = timed_out;
  e.outcome.seconds = seconds;
  return e;
}

// The process's init_ok says when init() returned, in nanoseconds of the node's steady clock (CLOCK_MONOTONIC, the
// same in every process of the node); a body that says nothing readable counts as now.
Clock::time_point init_return_time(const std::string& body) {
  char* end = nullptr;
  const long long ns = std::strtoll(body.c_str(), &end, 10);
  const Clock::time_point now = Clock::now();
  if (body.empty() || end == body.c_str() || ns <= 0) return now;
  const Clock::time_point at{std::chrono::nanoseconds(ns)};
  return at < now ? at : now;
}

}  // namespace

void PythonSupervisor::start() {
  started_ = Clock::now();
  if (!region_) region_ = RowRegion::create_or_none();
  process_ = PythonProcess::start(s_.exe, s_.runner, region_ ? region_->fd() : -1, s_.stdout_file, s_.stderr_file);
  begin_process();
}

void PythonSupervisor::adopt(PythonProcess prestarted, std::shared_ptr<RowRegion> region) {
  started_ = Clock::now();
  region_ = std::move(region);  // none: it was started without one, and its rows take the pipe
  process_ = std::move(prestarted);
  process_.adopt(s_.runner, s_.stdout_file, s_.stderr_file, Environment::current().entries());
  begin_process();
}

void PythonSupervisor::begin_process() {
  ++generation_;
  who_ = "its Python process (pid " + std::to_string(process_.pid()) + ")";  // named once, not per outcome
  ready_ = false;
  handed_.take_all();
  offered_.clear();
  last_failed_ = false;
  served_ = 0;
  next_memory_check_ = Clock::now();
}

int PythonSupervisor::depth() const {
  if (s_.max_memory > 0 || last_failed_) return 1;
  int depth = tasks_ahead(run_times_, 1, kAheadCeiling, kAheadCover);
  if (s_.max_tasks > 0) depth = std::min(depth, s_.max_tasks - served_);
  return std::max(depth, 1);
}

bool PythonSupervisor::offer(const TaskMsg& task) {
  if (!ready_ || (!handed_.empty() && handed_.size() >= static_cast<std::size_t>(depth()))) return false;
  std::string body = encode(task);
  const std::size_t bytes = body.size() + kFrameHeadBytes;
  if (!handed_.can_take(bytes, depth())) return false;
  handed_.handed({task.attempt_id, task.batch_id, task.attempt, bytes}, Clock::now());
  append_frame(offered_, LinkKind::task, body);
  return true;
}

bool PythonSupervisor::offer_rows(const TaskMsg& task, std::string body) {
  if (!can_take_rows() || !offered_.empty()) return false;
  handed_.handed({task.attempt_id, task.batch_id, task.attempt, body.size() + kFrameHeadBytes}, Clock::now());
  lent_rows_ = std::move(body);  // the last one's pages were read: the process answered it or is gone
  process_.lend(LinkKind::rows_task, lent_rows_);  // a process that died meanwhile shows up in poll()
  return true;
}

void PythonSupervisor::send_offered() {
  if (offered_.empty()) return;
  process_.send_frames(offered_);  // a process that died meanwhile shows up in poll()
  offered_.clear();
}

std::vector<PythonEvent> PythonSupervisor::poll(std::chrono::microseconds wait) {
  std::vector<PythonEvent> events;
  if (!process_.alive()) {
    if (wait.count() > 0) std::this_thread::sleep_for(wait);
    return events;
  }
  bool closed = false;
  const int generation = generation_;
  for (auto& f : process_.receive(wait, closed)) {
    on_frame(f, events);
    if (generation_ != generation || !process_.alive()) return events;  // replaced or retired: its frames are over
  }
  if (auto status = process_.try_reap()) {
    on_death(describe_exit(*status), events);
  } else if (closed) {
    auto status = process_.kill_and_reap(std::chrono::seconds(2));
    on_death(status ? describe_exit(*status) : "closed its link to the worker", events);
  } else {
    check_limits(events);
  }
  return events;
}

void PythonSupervisor::on_frame(LinkFrame& f, std::vector<PythonEvent>& events) {
  switch (f.kind) {
    case LinkKind::init_ok:
      ready_ = true;
      init_deaths_ = 0;
      init_returned_ = init_return_time(f.body);
      events.push_back({PythonEvent::Kind::ready, 0, {}, {}, {}});
      return;
    case LinkKind::init_failed:
      process_.kill_and_reap(std::chrono::seconds(2));
      events.push_back({PythonEvent::Kind::init_failed, 0, {}, std::move(f.body), {}});
      return;
    case LinkKind::outcome:
    case LinkKind::slot_outcome:
      return on_outcome(f, events);
    default: throw Fatal("worker: unexpected frame from the Python process");
  }
}

// An outcome, its rows in the frame or in a slot of the rows region (leased here, checked first).
void PythonSupervisor::on_outcome(LinkFrame& f, std::vector<PythonEvent>& events) {
  PythonEvent e{PythonEvent::Kind::outcome, 0, {}, {}, {}};
  if (f.kind == LinkKind::slot_outcome) {
    SlotRef where;
    std::tie(e.attempt_id, e.outcome) = decode_slot_outcome(std::move(f.body), where);
    if (!region_) throw Fatal("worker: " + who_ + " says its rows are in slot " + std::to_string(where.slot) +
                              " of a rows region it was never given");
    e.rows = region_->lease(where.slot, where.bytes, who_);
    ++rows_in_region_;
  } else {
    std::tie(e.attempt_id, e.outcome) = decode_outcome(std::move(f.body));
    rows_in_pipe_ += !e.outcome.rows.empty();
  }
  handed_.answered(e.attempt_id, Clock::now());
  ++served_;
  run_times_.add(e.outcome.seconds);
  last_failed_ = !e.outcome.ok;
  events.push_back(std::move(e));
  recycle_if_due(events);
}

// The process ended by itself: a fresh one takes over; one that keeps dying in init() retires the worker.
void PythonSupervisor::on_death(const std::string& cause, std::vector<PythonEvent>& events) {
  if (!ready_) {
    std::string text = "the entry script's process " + cause + " before init() returned";
    if (++init_deaths_ >= kInitTries) {
      events.push_back({PythonEvent::Kind::init_failed, 0, {},
                        text + " (" + std::to_string(kInitTries) + " times in a row)\n", {}});
      return;
    }
    return replace(text + "; trying again", "", false, events);
  }
  std::string failure = "the entry script's process was " + cause + running_text() + "; run() never returned\n";
  if (cause.rfind("exited", 0) == 0) failure = "the entry script's process " + cause + running_text() + "\n";
  replace("its Python process " + cause + running_text(), failure, false, events);
}

void PythonSupervisor::check_limits(std::vector<PythonEvent>& events) {
  if (!handed_.empty() && s_.hard_timeout > 0 && running_seconds() > s_.hard_timeout) {
    process_.kill_and_reap(std::chrono::seconds(2));
    std::string why = "run() ignored the timeout of " + std::to_string(s_.runner.timeout_seconds) + " s" +
                      running_text() + " (stuck in C code or with signals blocked)";
    return replace(why + "; its process was killed", "run() is still running " +
                   std::to_string(static_cast<int>(running_seconds())) + " s after it started, past its timeout and "
                   "the grace period (stuck in C code or with signals blocked); its process was killed and a fresh "
                   "one started\n", true, events);
  }
  if (s_.max_memory == 0 || Clock::now() < next_memory_check_) return;
  next_memory_check_ = Clock::now() + std::chrono::seconds(1);
  std::uint64_t rss = process_.rss_bytes();
  if (rss <= s_.max_memory) return;
  process_.kill_and_reap(std::chrono::seconds(2));
  std::string why = "its Python process used " + gib(rss) + " of memory, more than max_memory_per_child (" +
                    gib(s_.max_memory) + ")" + running_text();
  replace(why + "; it was killed", why + "; it was killed and a fresh one started\n", false, events);
}

// Recycling between tasks: the process ends cleanly (shutdown()) and a fresh one starts.
void PythonSupervisor::recycle_if_due(std::vector<PythonEvent>& events) {
  std::string why;
  if (s_.max_tasks > 0 && served_ >= s_.max_tasks) {
    why = "its Python process served " + std::to_string(served_) + " mini-batches (max_tasks_per_child)";
  } else if (s_.max_memory > 0) {
    std::uint64_t rss = process_.rss_bytes();
    if (rss > s_.max_memory)
      why = "its Python process uses " + gib(rss) + " of memory, more than max_memory_per_child (" +
            gib(s_.max_memory) + ")";
  }
  if (why.empty()) return;
  graceful_stop();
  replace(why + "; recycled", "", false, events);
}

// Reports why, fails the running attempt (if any) with the failure text, hands back the tasks that waited behind
// it, and starts a fresh process.
void PythonSupervisor::replace(const std::string& why, const std::string& failure, bool timed_out,
                               std::vector<PythonEvent>& events) {
  events.push_back({PythonEvent::Kind::restarting, 0, {}, why, {}});
  const double seconds = running_seconds();
  const auto handed = handed_.take_all();
  for (std::size_t i = 0; i < handed.size(); ++i) {
    if (i == 0) events.push_back(failed_outcome(handed[0].attempt_id, failure.empty() ? why + "\n" : failure,
                                                timed_out, seconds));
    else events.push_back({PythonEvent::Kind::not_started, handed[i].attempt_id, {}, {}, {}});
  }
  process_.kill_and_reap(std::chrono::seconds(2));
  if (region_) region_->reset_unleased();  // the slots it claimed and never handed over
  start();
}

void PythonSupervisor::graceful_stop() {
  if (!process_.alive()) return;
  if (ready_ && handed_.empty() && process_.send(LinkKind::shutdown, "")) {
    auto deadline = Clock::now() + std::chrono::duration<double>(s_.shutdown_patience);
    bool done = false, closed = false;
    while (!done && !closed && Clock::now() < deadline) {
      bool ended = process_.try_reap().has_value();  // then read once more: its last frame may still be in the pipe
      for (auto& f : process_.receive(std::chrono::milliseconds(ended ? 0 : 20), closed)) {
        if (f.kind != LinkKind::shutdown_done) continue;
        done = true;
        if (!f.body.empty()) report(s_.where + ": shutdown() raised:\n" + f.body);
      }
      if (ended) break;
    }
    if (!done && Clock::now() >= deadline)
      report(s_.where + ": shutdown() did not return within " + std::to_string(static_cast<int>(s_.shutdown_patience)) +
             " s; its process was killed\n");
  }
  process_.kill_and_reap(std::chrono::seconds(2));  // threads and children the script left behind go too
}

// Workers are quiet on the console: what goes wrong at shutdown goes to the worker's error file.
void PythonSupervisor::report(const std::string& text) const {
  std::ofstream out;
  if (!s_.error_file.empty()) out.open(s_.error_file, std::ios::app);
  if (out.is_open()) out << "=== " << log_time(std::time(nullptr)) << " " << text << std::flush;
  else std::cerr << "prs_mpi: " << text;
}

void PythonSupervisor::stop() {
  graceful_stop();
  if (region_) region_->reset_unleased();
  ready_ = false;
  handed_.take_all();
}

std::string PythonSupervisor::running_text() const {
  if (handed_.empty()) return "";
  const auto& t = handed_.running();
  return " in mini-batch " + std::to_string(t.batch_id) + ", attempt " + std::to_string(t.attempt);
}

double PythonSupervisor::running_seconds() const {
  if (handed_.empty()) return 0.0;
  return std::chrono::duration<double>(Clock::now() - handed_.running_since()).count();
}

}  // namespace prs
