// How far ahead a worker is fed: the running average of run() times and the depth it gives.
#include <catch2/catch.hpp>

#include "prs/mpi/mpi_comm.hpp"
#include "prs/mpi/prefetch.hpp"

using namespace prs;

namespace {

RunTimeAverage of(std::initializer_list<double> seconds) {
  RunTimeAverage a;
  for (double s : seconds) a.add(s);
  return a;
}

}  // namespace

TEST_CASE("the average is unknown until the first run() time, which it takes whole", "[prefetch]") {
  RunTimeAverage a;
  CHECK_FALSE(a.known());
  CHECK(a.mean() == 0);
  a.add(0.4);
  CHECK(a.known());
  CHECK(a.mean() == Approx(0.4));
}

TEST_CASE("each later time weighs a quarter", "[prefetch]") {
  CHECK(of({0.4, 0.0}).mean() == Approx(0.3));
  CHECK(of({0.4, 0.0, 0.0}).mean() == Approx(0.225));
  CHECK(of({0.0, 1.0}).mean() == Approx(0.25));  // one long call makes the next depths shallow at once
  CHECK(of({0.0, -5.0}).mean() == 0);             // a negative time (a clock step) counts as 0
}

TEST_CASE("the depth is the floor until a time is known", "[prefetch]") {
  CHECK(tasks_ahead(RunTimeAverage{}, 2, 8, 0.002) == 2);
  CHECK(tasks_ahead(RunTimeAverage{}, 1, 4, 0.001) == 1);
}

TEST_CASE("short run() calls get the ceiling, long ones the floor", "[prefetch]") {
  CHECK(tasks_ahead(of({0.0}), 2, 8, 0.002) == 8);      // a no-op
  CHECK(tasks_ahead(of({0.00025}), 2, 8, 0.002) == 8);  // 1 + 8, capped
  CHECK(tasks_ahead(of({0.0003}), 2, 8, 0.002) == 7);   // 1 + 6.67
  CHECK(tasks_ahead(of({0.001}), 2, 8, 0.002) == 3);    // 1 + 2
  CHECK(tasks_ahead(of({0.002}), 2, 8, 0.002) == 2);    // 1 + 1
  CHECK(tasks_ahead(of({0.5}), 2, 8, 0.002) == 2);      // 1 + 0, raised to the floor
  CHECK(tasks_ahead(of({3600.0}), 1, 4, 0.001) == 1);
  CHECK(tasks_ahead(of({0.0005}), 1, 4, 0.001) == 3);
}

TEST_CASE("the pause between polls is 4 x run() within 20 us and 1 ms", "[prefetch]") {
  using us = std::chrono::microseconds;
  CHECK(poll_cap(RunTimeAverage{}) == us(1000));  // nothing known yet: workers are in init()
  CHECK(poll_cap(of({0.0})) == us(20));
  CHECK(poll_cap(of({0.000001})) == us(20));
  CHECK(poll_cap(of({0.0001})) == us(400));
  CHECK(poll_cap(of({0.00025})) == us(1000));
  CHECK(poll_cap(of({60.0})) == us(1000));
}

TEST_CASE("the pause while nothing is urgent is a share of run() within poll_cap and 20 ms", "[prefetch]") {
  using us = std::chrono::microseconds;
  CHECK(resting_cap(RunTimeAverage{}) == us(1000));  // nothing known yet: as poll_cap
  CHECK(resting_cap(of({0.0})) == us(20));           // short run(): as poll_cap, the next answer comes soon
  CHECK(resting_cap(of({0.0001})) == us(400));
  CHECK(resting_cap(of({0.01})) == us(1000));        // 625 us is shorter than poll_cap's 1 ms
  CHECK(resting_cap(of({0.032})) == us(2000));
  CHECK(resting_cap(of({0.32})) == us(20000));
  CHECK(resting_cap(of({3600.0})) == us(20000));     // never longer: a commit or a cancel waits at most this
  CHECK(resting_cap(of({1e300})) == us(20000));
  CHECK(resting_cap(RunTimeAverage{}, 0.032) == us(2000));  // the first task has run 32 ms so far
  CHECK(resting_cap(RunTimeAverage{}, 0.001) == us(1000));
  CHECK(resting_cap(of({0.00001}), 0.16) == us(10000));     // far slower than the mean
  CHECK(resting_cap(of({0.32}), 0.016) == us(20000));       // the mean when it is longer
  CHECK(resting_cap(of({1.0}), 0, kTailShare) == us(3906));  // the master at a job's end: 1 s / 256
  CHECK(resting_cap(of({0.1}), 0, kTailShare) == us(1000));  // never under poll_cap
  CHECK(resting_cap(of({0.1}), 0, 0) == us(20000));          // a share under 1 counts as 1
}

TEST_CASE("the backoff doubles from 10 us after four immediate polls, up to its cap", "[prefetch]") {
  using us = std::chrono::microseconds;
  Backoff b(us(20000));
  for (int i = 0; i < 4; ++i) CHECK(b.next() == us(0));
  CHECK(b.next() == us(10));
  CHECK(b.next() == us(20));
  for (int i = 0; i < 9; ++i) b.next();
  CHECK(b.next() == us(20000));  // 10 << 11 = 20480, within the cap
  CHECK(b.next() == us(20000));
  b.set_cap(us(1000));
  CHECK(b.next() == us(1000));
  b.reset();
  CHECK(b.next() == us(0));
}

TEST_CASE("a worker holds no more than its share of the work left, the running task included", "[prefetch]") {
  CHECK(fair_depth(16, 2, 1000000, 3) == 16);  // plenty left: the depth the run() times give
  CHECK(fair_depth(16, 2, 6, 2) == 4);         // 1 + 3
  CHECK(fair_depth(16, 2, 7, 2) == 5);         // 1 + ceil(3.5)
  CHECK(fair_depth(16, 2, 3, 2) == 3);
  CHECK(fair_depth(16, 2, 1, 4) == 2);         // never under the floor
  CHECK(fair_depth(16, 2, 0, 4) == 2);
  CHECK(fair_depth(2, 2, 5, 1) == 2);          // never over the depth
  CHECK(fair_depth(8, 2, 20, 0) == 8);         // no worker counted (all starting or gone): as if one
}
