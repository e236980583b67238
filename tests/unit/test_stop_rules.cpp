#include <catch2/catch.hpp>

#include <csignal>

#include "prs/master/stop_rules.hpp"
#include "prs/master/walltime.hpp"

using namespace prs;

namespace {

StopSettings settings() {
  StopSettings s;
  s.first_task_creation_timeout = 600;
  s.progress_update_timeout = 100;
  s.drain_grace = 30;
  return s;
}

}  // namespace

TEST_CASE("a signal drains with the grace period", "[stop_rules]") {
  StopRules r(settings());
  CHECK_FALSE(r.check(1, true, 0));
  auto order = r.check(1, true, SIGTERM);
  REQUIRE(order);
  CHECK(order->code == ExitCode::interrupted);
  CHECK(order->reason == "interrupted by SIGTERM");
  CHECK(order->grace_seconds == 30);
  CHECK(r.check(1, false, SIGUSR1)->reason == "interrupted by SIGUSR1");
}

TEST_CASE("no first task in time fails the job naming the setting", "[stop_rules]") {
  StopRules r(settings());
  CHECK_FALSE(r.check(600, false, 0));
  auto order = r.check(601, false, 0);
  REQUIRE(order);
  CHECK(order->code == ExitCode::job_failed);
  CHECK(order->reason ==
        "no mini-batch started within first_task_creation_timeout (600 s): no worker finished init() in time");
  r.first_task();
  CHECK_FALSE(r.check(601, false, 0));
}

TEST_CASE("silence while work is in flight fails the job naming progress_update_timeout", "[stop_rules]") {
  StopRules r(settings());
  r.first_task();
  r.progress(50);
  CHECK_FALSE(r.check(150, true, 0));
  CHECK_FALSE(r.check(500, false, 0));  // nothing in flight: nothing to wait for
  auto order = r.check(151, true, 0);
  REQUIRE(order);
  CHECK(order->reason == "no progress for 101 s (progress_update_timeout 100 s): no worker reported a result");
}

TEST_CASE("the walltime drains drain_before ahead of the end", "[stop_rules]") {
  StopSettings s = settings();
  s.walltime_end = 1000;
  s.drain_before = 90;
  StopRules r(s);
  r.first_task();
  r.progress(900);
  CHECK_FALSE(r.check(909, true, 0));
  auto order = r.check(910, true, 0);
  REQUIRE(order);
  CHECK(order->code == ExitCode::interrupted);
  CHECK(order->reason == "the Slurm time limit ends in 90 s (drain-before 90 s)");
  CHECK(order->grace_seconds == 80);
}

TEST_CASE("squeue's end time is parsed, and the no-limit words are not", "[stop_rules]") {
  auto t = parse_slurm_time("2026-11-22T01:23:45\n");
  REQUIRE(t);
  std::tm tm{};
  localtime_r(&*t, &tm);
  CHECK(tm.tm_year == 126);
  CHECK(tm.tm_hour == 1);
  CHECK(tm.tm_min == 23);
  CHECK(tm.tm_sec == 45);
  CHECK_FALSE(parse_slurm_time("N/A"));
  CHECK_FALSE(parse_slurm_time("UNLIMITED"));
  CHECK_FALSE(parse_slurm_time("2026-11-22T01:23:45junk"));
}
