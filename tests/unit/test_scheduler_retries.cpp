// Where the scheduler sends retries (away from the workers that failed them), a worker's attempts, and the
// commits a lost worker never acknowledged.
#include <catch2/catch.hpp>

#include <algorithm>

#include "prs/error.hpp"
#include "prs/master/scheduler.hpp"
#include "scheduler_support.hpp"

using namespace prs;
using namespace prs_test;

namespace {

using Batches = std::vector<std::uint64_t>;

// The batches of a worker's unanswered attempts, in the order attempts_of gives them.
Batches batches_of(const Scheduler& s, int worker) {
  Batches out;
  for (const Attempt& a : s.attempts_of(worker)) out.push_back(a.batch_id);
  return out;
}

Batches sorted(Batches b) {
  std::sort(b.begin(), b.end());
  return b;
}

}  // namespace

TEST_CASE("a retry goes to a worker that has not failed it, before new batches", "[scheduler_retries]") {
  Scheduler s = make(30, 10, 2);
  auto a = s.next_for(1, 2), b = s.next_for(2, 2);
  REQUIRE((a && b));
  CHECK(s.on_result(failed(*a)).retried);
  auto c = s.next_for(2, 2);
  REQUIRE(c);
  CHECK(c->batch_id == 0);
  CHECK(c->number == 2);
  CHECK(c->worker == 2);
  CHECK_FALSE(s.all_scheduled());  // batch 2 still waits
}

TEST_CASE("a worker that failed a batch gets new batches instead of its retry", "[scheduler_retries]") {
  Scheduler s = make(30, 10, 2);
  auto a = s.next_for(1, 2);
  REQUIRE(a);
  CHECK(s.on_result(ok(*a, 4, 40)).retried);  // fewer rows than items: a failure too
  auto b = s.next_for(1, 2), c = s.next_for(1, 2);
  REQUIRE((b && c));
  CHECK(b->batch_id == 1);
  CHECK(c->batch_id == 2);
  CHECK(s.all_scheduled());
  CHECK_FALSE(s.next_for(1, 2));  // only its own failure is left, and worker 2 has not tried it
  auto d = s.next_for(2, 2);
  REQUIRE(d);
  CHECK(d->batch_id == 0);
  CHECK(d->number == 2);
}

TEST_CASE("a retry goes back to a worker that failed it once `working` workers have", "[scheduler_retries]") {
  Scheduler s = make(10, 10, 5);  // one batch, six attempts
  auto a1 = s.next_for(1, 3);
  REQUIRE(a1);
  s.on_result(failed(*a1));
  CHECK_FALSE(s.next_for(1, 3));
  auto a2 = s.next_for(2, 3);
  REQUIRE(a2);
  s.on_result(failed(*a2));
  CHECK_FALSE(s.next_for(1, 3));
  CHECK_FALSE(s.next_for(2, 3));
  auto a3 = s.next_for(3, 3);
  REQUIRE(a3);
  CHECK(a3->number == 3);
  s.on_result(failed(*a3));
  auto a4 = s.next_for(1, 3);  // all three failed it: the data's fault, any of them may try again
  REQUIRE(a4);
  CHECK(a4->batch_id == 0);
  CHECK(a4->number == 4);
  CHECK(a4->worker == 1);
}

TEST_CASE("a worker failing a batch twice counts once among the workers that failed it", "[scheduler_retries]") {
  Scheduler s = make(10, 10, 5);
  auto a1 = s.next_for(1, 2);
  REQUIRE(a1);
  s.on_result(failed(*a1));
  auto a2 = s.next_for(1, 1);  // one worker working at that time: it gets its own retry
  REQUIRE(a2);
  CHECK(a2->number == 2);
  s.on_result(failed(*a2));
  CHECK_FALSE(s.next_for(1, 2));  // one distinct worker failed it, not two
  auto a3 = s.next_for(2, 2);
  REQUIRE(a3);
  CHECK(a3->number == 3);
  s.on_result(failed(*a3));
  auto a4 = s.next_for(1, 2);
  REQUIRE(a4);
  CHECK(a4->number == 4);
}

TEST_CASE("a timed-out attempt is a failure of its worker", "[scheduler_retries]") {
  Scheduler s = make(10, 10, 2);
  auto a = s.next_for(1, 2);
  CHECK(s.on_result(ended(*a, AttemptStatus::timed_out)).retried);
  CHECK_FALSE(s.next_for(1, 2));
  auto b = s.next_for(2, 2);
  REQUIRE(b);
  CHECK(b->number == 2);
}

TEST_CASE("cancelled attempts do not count as failures", "[scheduler_retries]") {
  Scheduler s = make(20, 10, 2);
  auto a = s.next_for(1, 2), b = s.next_for(1, 2);
  REQUIRE((a && b));
  Verdict v = s.on_result(ended(*b, AttemptStatus::cancelled));
  CHECK_FALSE(v.retried);
  CHECK(s.all_scheduled());
  auto again = s.next_for(1, 2);  // worker 1 never ran it: it may take it again at once
  REQUIRE(again);
  CHECK(again->batch_id == 1);
  CHECK(again->number == 1);
  CHECK(s.counts().retries == 0);
  CHECK(s.counts().cancelled == 1);
  CHECK(s.counts().attempts == 2);

  SECTION("a cancel after a failure keeps the failure, adds none") {
    s.on_result(failed(*again));  // worker 1 failed batch 1
    auto c = s.next_for(2, 2);
    REQUIRE(c);
    CHECK(c->batch_id == 1);
    CHECK(c->number == 2);
    s.on_result(ended(*c, AttemptStatus::cancelled));  // worker 2 never ran it
    CHECK_FALSE(s.next_for(1, 2));  // still only worker 1 failed it
    auto d = s.next_for(2, 2);
    REQUIRE(d);
    CHECK(d->batch_id == 1);
    CHECK(d->number == 2);
  }
}

TEST_CASE("attempts_of lists a worker's unanswered attempts, oldest first", "[scheduler_retries]") {
  Scheduler s = make(40, 1, 0);
  Batches mine;
  std::uint64_t last_id = 0;
  for (int i = 0; i < 40; ++i) {
    int worker = i % 3 == 0 ? 2 : 1;
    auto a = s.next_for(worker);
    REQUIRE(a);
    CHECK(a->attempt_id > last_id);
    last_id = a->attempt_id;
    if (worker == 1) mine.push_back(a->batch_id);
  }
  REQUIRE(mine.size() == 26);
  CHECK(batches_of(s, 1) == mine);
  CHECK(batches_of(s, 2) == Batches{0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39});
  CHECK(s.attempts_of(3).empty());
  std::vector<Attempt> of1 = s.attempts_of(1);
  for (std::size_t i = 1; i < of1.size(); ++i) CHECK(of1[i - 1].attempt_id < of1[i].attempt_id);
  for (const Attempt& a : of1) CHECK(a.worker == 1);

  s.on_result(ok(of1[0], 1, 1));  // answered: no longer its
  s.on_result(ended(of1[5], AttemptStatus::cancelled));
  mine.erase(mine.begin() + 5);
  mine.erase(mine.begin());
  CHECK(batches_of(s, 1) == mine);
  CHECK(s.attempts_of(1).size() == 24);
}

TEST_CASE("forget_writes drops only that worker's unacknowledged commits", "[scheduler_retries]") {
  Scheduler s = make(50, 10, 0);
  auto b0 = s.next_for(1), b1 = s.next_for(2), b2 = s.next_for(1), b3 = s.next_for(1), b4 = s.next_for(2);
  REQUIRE((b0 && b1 && b2 && b3 && b4));
  CHECK(s.on_result(ok(*b0, 10, 10)).offset == 0);
  CHECK(s.on_result(ok(*b1, 10, 20)).offset == 10);
  CHECK(s.on_result(ok(*b2, 10, 30)).offset == 30);
  s.on_written(b0->attempt_id);  // acknowledged: stays
  CHECK(s.in_flight() == 4);  // b1 and b2 writing, b3 and b4 running

  CHECK(s.forget_writes(1) == Batches{2});
  CHECK(s.in_flight() == 3);
  CHECK(batches_of(s, 1) == Batches{3});  // its running attempt is not a write
  CHECK_THROWS_MATCHES(s.on_written(b2->attempt_id), Fatal,
                       Catch::Message("scheduler: unexpected write of attempt " + std::to_string(b2->attempt_id)));
  CHECK(s.forget_writes(1).empty());

  CHECK(s.on_result(ok(*b3, 10, 40)).offset == 60);  // after the forgotten rows: they may be half written
  CHECK(s.on_result(ok(*b4, 10, 50)).offset == 100);
  CHECK(s.in_flight() == 3);  // b1, b3 and b4 writing
  CHECK_FALSE(s.finished());
  CHECK(sorted(s.forget_writes(2)) == Batches{1, 4});
  CHECK(s.in_flight() == 1);
  CHECK_FALSE(s.finished());
  s.on_written(b3->attempt_id);
  CHECK(s.in_flight() == 0);
  CHECK(s.finished());  // every batch ended; the forgotten ones run again on --resume
  CHECK(s.counts().output_bytes == 150);
  // Only the confirmed ones succeeded: b0 and b3; b1, b2 and b4 are unconfirmed, neither succeeded nor failed.
  CHECK(s.counts().batches_succeeded == 2);
  CHECK(s.counts().batches_failed == 0);
  CHECK(s.counts().batches_unconfirmed == 3);
  CHECK(s.counts().items_succeeded == 20);
  CHECK(s.counts().items_failed == 0);
}

TEST_CASE("forget_writes of a worker with nothing committed returns nothing", "[scheduler_retries]") {
  Scheduler s = make(10, 10, 0);
  auto a = s.next_for(1);
  REQUIRE(a);
  CHECK(s.forget_writes(1).empty());
  CHECK(s.forget_writes(2).empty());
  CHECK(s.in_flight() == 1);
  s.on_result(ok(*a, 10, 5));
  CHECK(s.forget_writes(2).empty());
  CHECK_FALSE(s.finished());
  CHECK(s.forget_writes(1) == Batches{0});
  CHECK(s.finished());
}
