#include <catch2/catch.hpp>

#include "prs/error.hpp"
#include "prs/master/scheduler.hpp"
#include "scheduler_support.hpp"

using namespace prs;
using namespace prs_test;

TEST_CASE("new batches go out in order with unique attempt ids", "[scheduler]") {
  Scheduler s = make(25, 10, 2);
  auto a = s.next_for(1), b = s.next_for(2), c = s.next_for(1);
  REQUIRE((a && b && c));
  CHECK(a->batch_id == 0);
  CHECK(b->batch_id == 1);
  CHECK(c->batch_id == 2);
  CHECK(a->number == 1);
  CHECK(a->attempt_id != b->attempt_id);
  CHECK_FALSE(s.next_for(3));
  CHECK(s.all_scheduled());
  CHECK(s.in_flight() == 3);
}

TEST_CASE("successes get consecutive offsets and finish after the writes", "[scheduler]") {
  Scheduler s = make(20, 10, 2);
  auto a = s.next_for(1), b = s.next_for(2);
  Verdict vb = s.on_result(ok(*b, 10, 100));
  Verdict va = s.on_result(ok(*a, 10, 50));
  CHECK(vb.action == Verdict::Action::commit);
  CHECK(vb.offset == 0);
  CHECK(va.offset == 100);
  CHECK_FALSE(s.finished());
  s.on_written(b->attempt_id);
  s.on_written(a->attempt_id);
  CHECK(s.finished());
  CHECK(s.counts().output_bytes == 150);
  CHECK(s.counts().items_succeeded == 20);
  CHECK(s.counts().batches_succeeded == 2);
}

TEST_CASE("a failed attempt is retried on another worker and its rows discarded", "[scheduler]") {
  Scheduler s = make(20, 10, 2);
  auto a = s.next_for(1);
  ResultMsg short_result = ok(*a, 7, 70);  // fewer rows than items: a failed attempt
  Verdict v = s.on_result(short_result);
  CHECK(v.retried);
  CHECK(v.action == Verdict::Action::discard);
  s.next_for(1);  // a new batch for the worker that failed it
  auto again = s.next_for(2);  // the retry for the other one
  REQUIRE(again);
  CHECK(again->batch_id == 0);
  CHECK(again->number == 2);
  CHECK(s.on_result(ok(*again, 10, 100)).offset == 0);
  CHECK(s.counts().retries == 1);
  CHECK(s.counts().items_failed == 0);
}

TEST_CASE("the same worker gets a retry when there is nothing else", "[scheduler]") {
  Scheduler s = make(1, 1, 1);
  auto a = s.next_for(1);
  s.on_result(failed(*a));
  auto again = s.next_for(1);
  REQUIRE(again);
  CHECK(again->number == 2);
}

TEST_CASE("the final short attempt keeps its rows and counts its missing items", "[scheduler]") {
  Scheduler s = make(10, 10, 1);
  auto a1 = s.next_for(1);
  s.on_result(failed(*a1));
  auto a2 = s.next_for(2);
  Verdict v = s.on_result(ok(*a2, 6, 60));
  CHECK(v.batch_ended);
  CHECK(v.action == Verdict::Action::commit);
  CHECK(s.counts().batches_failed == 1);
  CHECK(s.counts().items_failed == 4);
  CHECK(s.counts().items_succeeded == 6);
}

TEST_CASE("a final exception fails every item and writes nothing", "[scheduler]") {
  Scheduler s = make(5, 5, 0);
  auto a = s.next_for(1);
  Verdict v = s.on_result(failed(*a));
  CHECK(v.batch_ended);
  CHECK(v.action == Verdict::Action::none);
  CHECK(s.counts().items_failed == 5);
  CHECK(s.finished());
}

TEST_CASE("cancelled tasks are not attempts and go out first again", "[scheduler]") {
  Scheduler s = make(30, 10, 0);
  auto a = s.next_for(1);
  auto b = s.next_for(1);
  ResultMsg r;
  r.attempt_id = b->attempt_id;
  r.status = AttemptStatus::cancelled;
  s.on_result(r);
  CHECK(s.counts().attempts == 1);
  CHECK(s.counts().cancelled == 1);
  auto again = s.next_for(2);
  REQUIRE(again);
  CHECK(again->batch_id == 1);
  CHECK(again->number == 1);
  (void)a;
}

TEST_CASE("thresholds name themselves and the counts", "[scheduler]") {
  SECTION("mini_batch_error_threshold") {
    Scheduler s = make(3, 1, 0, {1, -1, 100});
    s.on_result(failed(*s.next_for(1)));
    CHECK_FALSE(s.exceeded_threshold());
    s.on_result(failed(*s.next_for(1)));
    CHECK(s.exceeded_threshold() ==
          std::string("mini_batch_error_threshold exceeded: 2 mini-batches failed, more than the 1 allowed"));
  }
  SECTION("error_threshold counts items") {
    Scheduler s = make(10, 5, 0, {-1, 3, 100});
    s.on_result(ok(*s.next_for(1), 3, 30));  // 2 items failed
    CHECK_FALSE(s.exceeded_threshold());
    s.on_result(ok(*s.next_for(1), 3, 30));  // 4 items failed
    CHECK(s.exceeded_threshold() == std::string("error_threshold exceeded: 4 items failed, more than the 3 allowed"));
  }
  SECTION("allowed_failed_percent waits until all are scheduled") {
    Scheduler s = make(4, 1, 0, {-1, -1, 25});
    auto a = s.next_for(1), b = s.next_for(1);
    s.on_result(failed(*a));
    s.on_result(failed(*b));
    CHECK_FALSE(s.exceeded_threshold());  // 2 of 4 failed, but 2 never scheduled yet
    s.next_for(1);
    s.next_for(1);
    CHECK(s.exceeded_threshold() ==
          std::string("allowed_failed_percent exceeded: 2 of 4 mini-batches failed, more than 25%"));
  }
  SECTION("-1 and 100 ignore failures") {
    Scheduler s = make(2, 1, 0, {-1, -1, 100});
    s.on_result(failed(*s.next_for(1)));
    s.on_result(failed(*s.next_for(1)));
    CHECK_FALSE(s.exceeded_threshold());
    CHECK(s.finished());
  }
}

TEST_CASE("the header goes with the first commit that has one", "[scheduler]") {
  Scheduler s(Partition(2, 1), 0, {}, true);
  auto a = s.next_for(1), b = s.next_for(1);
  ResultMsg ra = ok(*a, 1, 10);
  ra.header_bytes = 4;
  ResultMsg rb = ok(*b, 1, 10);
  rb.header_bytes = 4;
  Verdict va = s.on_result(ra), vb = s.on_result(rb);
  CHECK(va.with_header);
  CHECK(va.offset == 0);
  CHECK_FALSE(vb.with_header);
  CHECK(vb.offset == 14);
}

TEST_CASE("a retried attempt holding only a header is discarded", "[scheduler]") {
  Scheduler s(Partition(3, 3), 1, {}, true);
  ResultMsg r = ok(*s.next_for(1), 0, 0);
  r.header_bytes = 4;
  CHECK(s.on_result(r).action == Verdict::Action::discard);
}

TEST_CASE("unknown attempts and writes are fatal", "[scheduler]") {
  Scheduler s = make(1, 1, 0);
  ResultMsg r;
  r.attempt_id = 999;
  CHECK_THROWS_AS(s.on_result(r), Fatal);
  CHECK_THROWS_AS(s.on_written(999), Fatal);
}

TEST_CASE("a lost worker's attempts go back to the queue", "[scheduler]") {
  Scheduler s = make(2, 1, 2);
  auto a = s.next_for(1);
  s.next_for(2);
  CHECK(s.take_back_worker(1) == std::vector<std::uint64_t>{a->batch_id});
  CHECK(s.in_flight() == 1);
  auto again = s.next_for(2);
  REQUIRE(again);
  CHECK(again->batch_id == a->batch_id);
}

TEST_CASE("restore skips ended batches, keeps counts and continues attempts", "[scheduler]") {
  Scheduler s = make(4, 1, 1);  // 4 batches, 2 attempts each
  JournalState j = fresh_journal({}, 4);
  j.ended[0] = BatchEnd{true, false, 1, 0, 10, 1, 0};
  j.tries[0] = 1;
  j.tries[1] = 1;  // was running when the job died: one attempt used
  j.tries[2] = 2;  // used both attempts, never ended: it crashes its worker
  auto exhausted = s.restore(j, 10, false);
  REQUIRE(exhausted.size() == 1);
  CHECK(exhausted[0].batch_id == 2);
  CHECK(exhausted[0].end.attempts == 2);
  CHECK_FALSE(exhausted[0].end.succeeded);
  CHECK(s.counts().batches_succeeded == 1);
  CHECK(s.counts().batches_failed == 1);
  CHECK(s.counts().items_failed == 1);
  CHECK(s.counts().output_bytes == 10);
  auto a = s.next_for(1), b = s.next_for(1);
  REQUIRE((a && b));
  CHECK(a->batch_id == 1);
  CHECK(a->number == 2);
  CHECK(b->batch_id == 3);
  CHECK(b->number == 1);
  CHECK_FALSE(s.next_for(1));
  CHECK(s.all_scheduled());
  CHECK(s.on_result(ok(*a, 1, 5)).offset == 10);  // new rows go after the committed ones
}

TEST_CASE("restore with retry_failed gives failed batches a fresh set of attempts", "[scheduler]") {
  Scheduler s = make(2, 1, 0);
  JournalState j = fresh_journal({}, 2);
  j.ended[0] = BatchEnd{false, false, 1, 0, 0, 0, 0};
  j.tries[0] = 1;
  j.tries[1] = 1;
  CHECK(s.restore(j, 0, true).empty());
  CHECK(s.counts().batches_failed == 0);
  auto a = s.next_for(1);
  REQUIRE(a);
  CHECK(a->batch_id == 0);
  CHECK(a->number == 1);
}

TEST_CASE("a plan that grows while its listing goes on: more batches, and nothing counted as whole before its end",
          "[scheduler]") {
  Scheduler s = make(4, 2, 0, {-1, -1, 25});  // the first 2 mini-batches of a listing that goes on
  s.grow(Partition(4, 2), true);
  auto a = s.next_for(1), b = s.next_for(1);
  REQUIRE((a && b));
  CHECK_FALSE(s.next_for(1));  // nothing more until the plan grows
  s.on_result(failed(*a));
  REQUIRE(s.on_result(ok(*b, 2, 20)).action == Verdict::Action::commit);
  s.on_written(b->attempt_id);
  CHECK(s.waits_for_plan());
  CHECK_FALSE(s.finished());  // more may come
  CHECK_FALSE(s.all_scheduled());
  CHECK_FALSE(s.exceeded_threshold());  // 1 of 2 failed so far, but the total is not known yet
  s.grow(Partition(9, 2), true);  // 5 mini-batches listed: the 3 new ones go out after the first two
  CHECK_FALSE(s.waits_for_plan());
  CHECK(s.counts().batches == 5);
  CHECK(s.counts().items == 9);
  for (std::uint64_t batch = 2; batch < 5; ++batch) {
    auto next = s.next_for(2);
    REQUIRE(next);
    CHECK(next->batch_id == batch);
    CHECK(s.batch_range(batch).first == 2 * batch);
    REQUIRE(s.on_result(ok(*next, s.batch_items(batch), 10)).action == Verdict::Action::commit);
    s.on_written(next->attempt_id);
  }
  CHECK_FALSE(s.finished());
  CHECK_FALSE(s.exceeded_threshold());
  s.grow(Partition(9, 2), false);  // the listing ended: 1 of 5 failed is 20%, within 25%
  CHECK(s.finished());
  CHECK_FALSE(s.exceeded_threshold());
  CHECK_THROWS_AS(s.grow(Partition(3, 2), false), Fatal);  // a plan never shrinks
}

TEST_CASE("a failed share over allowed_failed_percent counts once the listing ended", "[scheduler]") {
  Scheduler s = make(2, 1, 0, {-1, -1, 25});
  s.grow(Partition(2, 1), true);
  s.on_result(failed(*s.next_for(1)));
  s.on_result(failed(*s.next_for(1)));
  CHECK_FALSE(s.exceeded_threshold());  // 2 of 2 so far, but more are being listed
  s.grow(Partition(3, 1), false);
  CHECK_FALSE(s.exceeded_threshold());  // the third is not scheduled yet
  s.next_for(1);
  CHECK(s.exceeded_threshold() ==
        std::string("allowed_failed_percent exceeded: 2 of 3 mini-batches failed, more than 25%"));
}
