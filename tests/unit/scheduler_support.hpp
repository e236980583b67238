#pragma once
// Results and schedulers for the scheduler's unit tests (test_scheduler.cpp, test_scheduler_retries.cpp).
#include <cstdint>

#include "prs/master/scheduler.hpp"

namespace prs_test {

// An ok result of an attempt with its successes and the bytes the worker holds.
inline prs::ResultMsg ok(const prs::Attempt& a, std::uint64_t successes, std::uint64_t bytes) {
  prs::ResultMsg r;
  r.attempt_id = a.attempt_id;
  r.status = prs::AttemptStatus::ok;
  r.returned = successes;
  r.successes = successes;
  r.row_bytes = bytes;
  return r;
}

// A result with this status and a traceback.
inline prs::ResultMsg ended(const prs::Attempt& a, prs::AttemptStatus status) {
  prs::ResultMsg r;
  r.attempt_id = a.attempt_id;
  r.status = status;
  r.error = "ValueError";
  return r;
}

// A failed result.
inline prs::ResultMsg failed(const prs::Attempt& a) { return ended(a, prs::AttemptStatus::failed); }

// A scheduler over `items` items in batches of `batch`, with these retries and thresholds.
inline prs::Scheduler make(std::uint64_t items, std::uint64_t batch, int retries, prs::Thresholds t = {}) {
  return prs::Scheduler(prs::Partition(items, batch), retries, t, false);
}

}  // namespace prs_test
