#include "prs/master/scheduler.hpp"

#include <algorithm>

#include "prs/error.hpp"

namespace prs {

Scheduler::Scheduler(const Partition& partition, int max_retries, Thresholds thresholds, bool dataframe_header)
    : partition_(partition),
      max_retries_(max_retries),
      thresholds_(thresholds),
      dataframe_header_(dataframe_header),
      tries_(partition.batch_count(), 0),
      last_worker_(partition.batch_count(), -1),
      ended_(partition.batch_count(), false) {
  counts_.batches = partition.batch_count();
  counts_.items = partition.item_count();
  unscheduled_ = partition.batch_count();
}

std::optional<Attempt> Scheduler::next_for(int worker, int working) {
  if (auto b = take_retry(worker, 0)) return dispatch(*b, worker);
  while (next_new_ < partition_.batch_count() && ended_[next_new_]) ++next_new_;  // done in an earlier run
  if (next_new_ < partition_.batch_count()) {
    --unscheduled_;
    return dispatch(next_new_++, worker);
  }
  if (auto b = take_retry(worker, working)) return dispatch(*b, worker);
  return std::nullopt;
}

bool Scheduler::failed_on(std::uint64_t batch, int worker) const {
  auto it = failed_by_.find(batch);
  return it != failed_by_.end() && std::find(it->second.begin(), it->second.end(), worker) != it->second.end();
}

// A retry for this worker: one it has not failed; with working > 0 also one every working worker has failed.
std::optional<std::uint64_t> Scheduler::take_retry(int worker, int working) {
  auto it = std::find_if(retry_queue_.begin(), retry_queue_.end(), [&](std::uint64_t b) {
    if (!failed_on(b, worker)) return true;
    auto f = failed_by_.find(b);
    return working > 0 && f->second.size() >= static_cast<std::size_t>(working);
  });
  if (it == retry_queue_.end()) return std::nullopt;
  std::uint64_t batch = *it;
  retry_queue_.erase(it);
  return batch;
}

Attempt Scheduler::dispatch(std::uint64_t batch_id, int worker) {
  Attempt a{batch_id, next_attempt_id_++, ++tries_[batch_id], worker};
  last_worker_[batch_id] = worker;
  attempts_.emplace(a.attempt_id, a);
  ++counts_.attempts;
  return a;
}

const Attempt& Scheduler::attempt(std::uint64_t attempt_id) const {
  auto it = attempts_.find(attempt_id);
  if (it == attempts_.end()) throw Fatal("scheduler: unknown attempt " + std::to_string(attempt_id));
  return it->second;
}

Verdict Scheduler::on_result(const ResultMsg& r) {
  Verdict v = judge(r);
  bool worker_holds_bytes = r.row_bytes > 0 || r.header_bytes > 0;
  if (v.action == Verdict::Action::none && worker_holds_bytes) v.action = Verdict::Action::discard;
  return v;
}

Verdict Scheduler::judge(const ResultMsg& r) {
  Attempt a = attempt(r.attempt_id);
  attempts_.erase(r.attempt_id);
  if (r.status == AttemptStatus::cancelled) {  // never started: not an attempt
    --tries_[a.batch_id];
    --counts_.attempts;
    ++counts_.cancelled;
    retry_queue_.push_front(a.batch_id);
    return {};
  }
  bool complete = r.status == AttemptStatus::ok && r.successes == batch_items(a.batch_id);
  if (!complete && !failed_on(a.batch_id, a.worker)) failed_by_[a.batch_id].push_back(a.worker);
  if (complete || a.number > static_cast<std::uint32_t>(max_retries_)) {
    failed_by_.erase(a.batch_id);
    return end_batch(a, r, complete);
  }
  retry_queue_.push_back(a.batch_id);
  ++counts_.retries;
  Verdict v;
  v.retried = true;
  return v;
}

Verdict Scheduler::end_batch(const Attempt& a, const ResultMsg& r, bool succeeded) {
  BatchEnd end;
  end.succeeded = succeeded;
  end.attempts = a.number;
  end.items_ok = r.status == AttemptStatus::ok ? r.successes : 0;
  count_end(a.batch_id, end);
  Verdict v = r.status == AttemptStatus::ok ? place_rows(r) : Verdict{};
  v.batch_ended = true;
  end.with_header = v.with_header;
  if (v.action == Verdict::Action::commit) {
    end.offset = v.offset;
    end.length = r.row_bytes + (v.with_header ? r.header_bytes : 0);
    end.header_length = v.with_header ? static_cast<std::uint32_t>(r.header_bytes) : 0;
    writing_.emplace(a.attempt_id, Writing{Committed{a.batch_id, end}, a.worker});
  } else {
    v.ended_now = end;
  }
  return v;
}

std::uint64_t Scheduler::batch_items(std::uint64_t batch_id) const {
  if (rows_.empty()) return partition_.batch(batch_id).count;
  return rows_.at(batch_id) == kNoRows ? 1 : rows_[batch_id];
}

void Scheduler::count_rows() {
  rows_.assign(partition_.batch_count(), kNoRows);
  counts_.items = 0;  // grows as batches end
}

void Scheduler::learn_rows(std::uint64_t batch_id, std::uint64_t rows) {
  if (!rows_.empty() && rows != kNoRows) rows_.at(batch_id) = rows;
}

void Scheduler::count_end(std::uint64_t batch, const BatchEnd& end) {
  if (!rows_.empty()) {
    const std::uint64_t known = rows_[batch] == kNoRows ? 0 : rows_[batch];
    if (end.succeeded || end.items_ok > 0) learn_rows(batch, std::max(end.items_ok, known));  // a resumed batch
    counts_.items += batch_items(batch);
  }
  if (batch >= next_new_ && !ended_[batch]) --unscheduled_;  // ended before this run dispatched it
  ended_[batch] = true;
  ++batches_ended_;
  ++(end.succeeded ? counts_.batches_succeeded : counts_.batches_failed);
  counts_.items_succeeded += end.items_ok;
  counts_.items_failed += batch_items(batch) - end.items_ok;
}

// The batch stays ended in this run (its range of the output is taken; --resume checks it and runs the batch again),
// but neither succeeded nor failed: its rows may not be there.
void Scheduler::count_unconfirmed(std::uint64_t batch, const BatchEnd& end) {
  --(end.succeeded ? counts_.batches_succeeded : counts_.batches_failed);
  ++counts_.batches_unconfirmed;
  counts_.items_succeeded -= end.items_ok;
  counts_.items_failed -= batch_items(batch) - end.items_ok;
}

Verdict Scheduler::place_rows(const ResultMsg& r) {
  Verdict v;
  std::uint64_t bytes = r.row_bytes;
  if (dataframe_header_ && !header_placed_ && r.header_bytes > 0) {
    v.with_header = true;
    header_placed_ = true;
    bytes += r.header_bytes;
  }
  if (bytes == 0) return v;
  v.action = Verdict::Action::commit;
  v.offset = counts_.output_bytes;
  counts_.output_bytes += bytes;
  return v;
}

Committed Scheduler::on_written(std::uint64_t attempt_id) {
  auto it = writing_.find(attempt_id);
  if (it == writing_.end()) throw Fatal("scheduler: unexpected write of attempt " + std::to_string(attempt_id));
  Committed c = it->second.committed;
  writing_.erase(it);
  return c;
}

std::vector<Attempt> Scheduler::attempts_of(int worker) const {
  std::vector<Attempt> out;
  for (const auto& [id, a] : attempts_)
    if (a.worker == worker) out.push_back(a);
  std::sort(out.begin(), out.end(), [](const Attempt& x, const Attempt& y) { return x.attempt_id < y.attempt_id; });
  return out;
}

std::vector<std::uint64_t> Scheduler::forget_writes(int worker) {
  std::vector<std::uint64_t> batches;
  for (auto it = writing_.begin(); it != writing_.end();) {
    if (it->second.worker != worker) {
      ++it;
      continue;
    }
    batches.push_back(it->second.committed.batch_id);
    count_unconfirmed(it->second.committed.batch_id, it->second.committed.end);
    it = writing_.erase(it);
  }
  return batches;
}

std::vector<std::uint64_t> Scheduler::take_back_worker(int worker) {
  std::vector<std::uint64_t> batches;
  for (auto it = attempts_.begin(); it != attempts_.end();) {
    if (it->second.worker != worker) {
      ++it;
      continue;
    }
    std::uint64_t b = it->second.batch_id;
    --tries_[b];
    --counts_.attempts;
    retry_queue_.push_front(b);
    batches.push_back(b);
    it = attempts_.erase(it);
  }
  return batches;
}

std::vector<Committed> Scheduler::restore(const JournalState& state, std::uint64_t output_bytes, bool retry_failed) {
  std::vector<Committed> exhausted;
  auto limit = static_cast<std::uint32_t>(max_retries_) + 1;
  for (std::uint64_t b = 0; b < state.batch_count && b < tries_.size(); ++b) {
    const auto& end = state.ended[b];
    bool failed = end ? !end->succeeded : state.tries[b] >= limit;
    if (retry_failed && failed) continue;  // a fresh set of attempts
    tries_[b] = state.tries[b];
    counts_.attempts += state.tries[b];
    if (end) {
      count_end(b, *end);
      header_placed_ = header_placed_ || end->with_header;
    } else if (failed) {
      BatchEnd end_now;
      end_now.attempts = state.tries[b];
      count_end(b, end_now);
      exhausted.push_back({b, end_now});
    }
  }
  counts_.output_bytes = output_bytes;
  return exhausted;
}

bool Scheduler::finished() const {
  return !growing_ && batches_ended_ == partition_.batch_count() && writing_.empty();
}

void Scheduler::grow(const Partition& partition, bool growing) {
  const std::uint64_t before = partition_.batch_count(), now = partition.batch_count();
  if (now < before) throw Fatal("internal error: the plan shrinks from " + std::to_string(before) + " mini-batches");
  partition_ = partition;
  growing_ = growing;
  tries_.resize(now, 0);
  last_worker_.resize(now, -1);
  ended_.resize(now, false);
  unscheduled_ += now - before;
  counts_.batches = now;
  counts_.items = partition.item_count();
}

std::optional<std::string> Scheduler::exceeded_threshold() const {
  const auto& c = counts_;
  auto n = [](std::uint64_t v) { return std::to_string(v); };
  if (thresholds_.mini_batch_error_threshold >= 0 &&
      c.batches_failed > static_cast<std::uint64_t>(thresholds_.mini_batch_error_threshold))
    return "mini_batch_error_threshold exceeded: " + n(c.batches_failed) + " mini-batches failed, more than the " +
           std::to_string(thresholds_.mini_batch_error_threshold) + " allowed";
  if (thresholds_.error_threshold >= 0 && c.items_failed > static_cast<std::uint64_t>(thresholds_.error_threshold))
    return "error_threshold exceeded: " + n(c.items_failed) + " items failed, more than the " +
           std::to_string(thresholds_.error_threshold) + " allowed";
  if (thresholds_.allowed_failed_percent < 100 && all_scheduled() && c.batches > 0 &&
      c.batches_failed * 100 > static_cast<std::uint64_t>(thresholds_.allowed_failed_percent) * c.batches)
    return "allowed_failed_percent exceeded: " + n(c.batches_failed) + " of " + n(c.batches) +
           " mini-batches failed, more than " + std::to_string(thresholds_.allowed_failed_percent) + "%";
  return std::nullopt;
}

}  // namespace prs
