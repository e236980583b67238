// The tasks a worker rank hands its Python process ahead: what it may hand, the order of the answers, when the
// running one started, and what a dead process leaves.
#include <catch2/catch.hpp>

#include "prs/error.hpp"
#include "prs/worker/python_pipeline.hpp"

using namespace prs;
using Clock = PythonPipeline::Clock;

namespace {

PythonPipeline::Handed task(std::uint64_t attempt_id, std::size_t bytes = 100) {
  return {attempt_id, attempt_id * 10, 1, bytes};
}

std::vector<std::uint64_t> ids(const std::vector<PythonPipeline::Handed>& tasks) {
  std::vector<std::uint64_t> out;
  for (const auto& t : tasks) out.push_back(t.attempt_id);
  return out;
}

}  // namespace

TEST_CASE("an idle process takes one task of any size", "[python_pipeline]") {
  PythonPipeline p;
  CHECK(p.empty());
  CHECK(p.can_take(10 * kPipeBudget, 1));
  CHECK(p.can_take(10, 4));
  p.handed(task(1, 10 * kPipeBudget), Clock::now());
  CHECK(p.size() == 1);
  CHECK_FALSE(p.can_take(10, 4));  // that one fills the budget: nothing waits behind it in the pipe
}

TEST_CASE("tasks go ahead up to the depth", "[python_pipeline]") {
  PythonPipeline p;
  p.handed(task(1), Clock::now());
  CHECK_FALSE(p.can_take(100, 1));  // depth 1: one at a time, as for a long run()
  CHECK(p.can_take(100, 3));
  p.handed(task(2), Clock::now());
  p.handed(task(3), Clock::now());
  CHECK_FALSE(p.can_take(100, 3));
  CHECK(p.can_take(100, 4));
}

TEST_CASE("the frames waiting in the pipe stay within its budget", "[python_pipeline]") {
  PythonPipeline p;
  p.handed(task(1, kPipeBudget / 2), Clock::now());
  CHECK(p.can_take(kPipeBudget / 2, 4));
  CHECK_FALSE(p.can_take(kPipeBudget / 2 + 1, 4));
  p.handed(task(2, kPipeBudget / 2), Clock::now());
  CHECK_FALSE(p.can_take(1, 4));
  p.answered(1, Clock::now());  // its bytes left the pipe
  CHECK(p.can_take(kPipeBudget / 2, 4));
}

TEST_CASE("answers come oldest first and the next one runs from its predecessor's answer", "[python_pipeline]") {
  PythonPipeline p;
  const auto t0 = Clock::now();
  p.handed(task(1), t0);
  p.handed(task(2), t0 + std::chrono::seconds(1));  // handed later, while 1 runs: 1's start stays
  CHECK(p.running().attempt_id == 1);
  CHECK(p.running_since() == t0);
  auto done = p.answered(1, t0 + std::chrono::seconds(5));
  CHECK(done.attempt_id == 1);
  CHECK(done.batch_id == 10);
  CHECK(p.running().attempt_id == 2);
  CHECK(p.running_since() == t0 + std::chrono::seconds(5));
  p.answered(2, t0 + std::chrono::seconds(6));
  CHECK(p.empty());
  p.handed(task(3), t0 + std::chrono::seconds(9));  // an idle process starts it at once
  CHECK(p.running_since() == t0 + std::chrono::seconds(9));
}

TEST_CASE("an answer for another attempt than the oldest is refused", "[python_pipeline]") {
  PythonPipeline p;
  CHECK_THROWS_WITH(p.answered(7, Clock::now()),
                    "worker: the Python process answered attempt 7, not one it was handed");
  p.handed(task(1), Clock::now());
  p.handed(task(2), Clock::now());
  CHECK_THROWS_AS(p.answered(2, Clock::now()), Fatal);
  CHECK_THROWS_WITH(p.answered(2, Clock::now()),
                    "worker: the Python process answered attempt 2, not attempt 1, the oldest it runs");
  CHECK(p.size() == 2);
}

TEST_CASE("a dead process leaves its tasks oldest first, and an empty pipeline", "[python_pipeline]") {
  PythonPipeline p;
  for (std::uint64_t id : {4, 5, 6}) p.handed(task(id, kPipeBudget / 4), Clock::now());
  CHECK(ids(p.take_all()) == std::vector<std::uint64_t>{4, 5, 6});
  CHECK(p.empty());
  CHECK(p.can_take(kPipeBudget, 2));
  CHECK(p.take_all().empty());
}
