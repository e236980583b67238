// The master's view of its workers: states and their counts, silence, and quarantine after runs of failures.
#include <catch2/catch.hpp>

#include "prs/master/worker_roster.hpp"

using namespace prs;

namespace {

using Ranks = std::vector<int>;

// The counts a roster keeps, compared in one go.
struct Tally {
  int starting, active, working, may_work;
  bool operator==(const Tally& o) const {
    return starting == o.starting && active == o.active && working == o.working && may_work == o.may_work;
  }
};

Tally counts(const WorkerRoster& r) { return {r.starting(), r.active(), r.working(), r.may_work()}; }

}  // namespace

namespace Catch {
template <>
struct StringMaker<::Tally> {
  static std::string convert(const ::Tally& c) {
    return "{starting " + std::to_string(c.starting) + ", active " + std::to_string(c.active) + ", working " +
           std::to_string(c.working) + ", may_work " + std::to_string(c.may_work) + "}";
  }
};
}  // namespace Catch

TEST_CASE("set_state keeps the counts through a worker's life", "[worker_roster]") {
  WorkerRoster r(4, 3);  // ranks 1..3
  CHECK(r.world_size() == 4);
  CHECK(counts(r) == Tally{3, 0, 0, 3});
  CHECK(r.at(1).state == WorkerState::starting);

  r.set_state(1, WorkerState::active);
  CHECK(counts(r) == Tally{2, 1, 1, 3});
  r.set_state(1, WorkerState::restarting);
  CHECK(counts(r) == Tally{2, 0, 1, 3});
  r.set_state(1, WorkerState::active);
  CHECK(counts(r) == Tally{2, 1, 1, 3});
  r.set_state(1, WorkerState::active);  // the same state again changes nothing
  CHECK(counts(r) == Tally{2, 1, 1, 3});

  r.set_state(2, WorkerState::active);
  r.set_state(3, WorkerState::active);
  CHECK(counts(r) == Tally{0, 3, 3, 3});

  r.set_state(1, WorkerState::retired);
  CHECK(counts(r) == Tally{0, 2, 2, 2});
  r.set_state(2, WorkerState::quarantined);
  CHECK(counts(r) == Tally{0, 1, 1, 1});
  r.set_state(3, WorkerState::restarting);
  CHECK(counts(r) == Tally{0, 0, 1, 1});
  r.set_state(3, WorkerState::lost);
  CHECK(counts(r) == Tally{0, 0, 0, 0});
  CHECK(r.at(1).state == WorkerState::retired);
  CHECK(r.at(2).state == WorkerState::quarantined);
  CHECK(r.at(3).state == WorkerState::lost);
}

TEST_CASE("a lost worker stays lost", "[worker_roster]") {
  WorkerRoster r(3, 3);
  r.set_state(1, WorkerState::lost);  // lost while still in init()
  CHECK(counts(r) == Tally{1, 0, 0, 1});
  r.set_state(1, WorkerState::active);  // its late ready
  r.set_state(1, WorkerState::restarting);
  r.set_state(1, WorkerState::starting);
  CHECK(r.at(1).state == WorkerState::lost);
  CHECK(counts(r) == Tally{1, 0, 0, 1});
}

TEST_CASE("idle and broken workers count as neither starting nor working", "[worker_roster]") {
  WorkerRoster r(3, 3);
  r.set_state(1, WorkerState::idle);
  r.set_state(2, WorkerState::active);
  r.set_state(2, WorkerState::broken);
  CHECK(counts(r) == Tally{0, 0, 0, 0});
}

TEST_CASE("where names the rank and its host", "[worker_roster]") {
  WorkerRoster r(3, 3);
  r.at(2).host = "node7";
  CHECK(r.where(2) == "rank 2 (node7)");
}

TEST_CASE("silent lists the workers holding work and silent longer than allowed, not lost ones", "[worker_roster]") {
  WorkerRoster r(6, 3);
  for (int rank = 1; rank < 6; ++rank) r.set_state(rank, WorkerState::active);
  r.heard(1, 10);
  r.at(1).holding = 1;
  r.heard(2, 0);  // silent for long, but holds nothing
  r.heard(3, 5);
  r.at(3).holding = 2;
  r.heard(4, 0);
  r.at(4).holding = 1;
  r.set_state(4, WorkerState::lost);
  r.heard(5, 19);
  r.at(5).holding = 1;
  CHECK(r.silent(20, 10) == Ranks{3});  // rank 1: exactly 10 s is not longer than 10 s
  CHECK(r.silent(20.5, 10) == Ranks{1, 3});
  r.heard(3, 20);
  CHECK(r.silent(20.5, 10) == Ranks{1});
  r.at(1).holding = 0;
  CHECK(r.silent(20.5, 10).empty());
  CHECK(r.silent(100, 10) == Ranks{3, 5});
}

TEST_CASE("all_fed: every active worker holds its next task, and one is active", "[worker_roster]") {
  WorkerRoster r(4, 3);
  CHECK_FALSE(r.all_fed());  // all starting: their ready messages are awaited
  r.set_state(1, WorkerState::active);
  r.set_state(2, WorkerState::active);
  r.at(1).tasks = 2;
  r.at(2).tasks = 1;  // runs its last task: its result is what the job waits for
  CHECK_FALSE(r.all_fed());
  r.at(2).tasks = 16;
  CHECK(r.all_fed());  // rank 3 still starting: its ready may wait
  r.set_state(3, WorkerState::idle);
  r.at(3).tasks = 0;
  CHECK(r.all_fed());  // idle workers take no work
  r.set_state(1, WorkerState::quarantined);
  r.at(1).tasks = 0;
  CHECK(r.all_fed());
  r.set_state(2, WorkerState::restarting);
  CHECK_FALSE(r.all_fed());  // none active
}

TEST_CASE("failing in a row while another worker succeeds quarantines a worker", "[worker_roster]") {
  WorkerRoster r(3, 3);
  r.set_state(1, WorkerState::active);
  r.set_state(2, WorkerState::active);
  CHECK(r.record_attempt(1, true).empty());
  CHECK(r.record_attempt(2, false).empty());
  CHECK(r.record_attempt(1, true).empty());
  CHECK(r.at(1).failures_in_row == 2);
  CHECK(r.record_attempt(1, true) == Ranks{1});
  CHECK(r.at(1).failures_in_row == 3);
  CHECK_FALSE(r.held(1));
  CHECK(r.at(2).failures_in_row == 0);
}

TEST_CASE("a success before the run of failures does not count", "[worker_roster]") {
  WorkerRoster r(3, 3);
  r.set_state(1, WorkerState::active);
  r.set_state(2, WorkerState::active);
  CHECK(r.record_attempt(2, false).empty());
  CHECK(r.record_attempt(1, true).empty());
  CHECK(r.record_attempt(1, true).empty());
  CHECK(r.record_attempt(1, true).empty());  // nobody succeeded since its failures began: held
  CHECK(r.held(1));
  CHECK_FALSE(r.held(2));
  CHECK_FALSE(r.all_held());
  CHECK(r.record_attempt(2, false) == Ranks{1});  // now work succeeds elsewhere
  CHECK_FALSE(r.held(1));
}

TEST_CASE("a worker failing with no success anywhere is held until others show", "[worker_roster]") {
  WorkerRoster r(4, 3);
  r.set_state(1, WorkerState::active);  // ranks 2 and 3 still in init()
  for (int i = 0; i < 3; ++i) CHECK(r.record_attempt(1, true).empty());
  CHECK(r.held(1));
  CHECK_FALSE(r.all_held());  // the ones starting may show the failures are its own
  r.set_state(2, WorkerState::active);
  r.set_state(3, WorkerState::retired);
  CHECK(r.held(1));
  CHECK_FALSE(r.held(2));
  CHECK_FALSE(r.all_held());  // rank 2 takes work and is not held
  for (int i = 0; i < 3; ++i) CHECK(r.record_attempt(2, true).empty());
  CHECK(r.held(2));
  CHECK(r.all_held());  // every worker fails: the failures are the data's
  CHECK(r.record_attempt(1, true).empty());  // a fourth failure while all are held changes nothing
  CHECK(r.held(1));
  CHECK(r.all_held());
  r.set_state(2, WorkerState::restarting);  // a held worker restarting may come back and show
  CHECK_FALSE(r.all_held());
  r.set_state(2, WorkerState::active);
  CHECK(r.all_held());
  CHECK(r.record_attempt(2, false) == Ranks{1});  // rank 2 succeeds: rank 1's failures are its own
  CHECK_FALSE(r.held(1));
  CHECK_FALSE(r.held(2));
  CHECK(r.at(2).failures_in_row == 0);
}

TEST_CASE("a single worker failing with no success anywhere is held and still all_held", "[worker_roster]") {
  WorkerRoster r(2, 3);
  r.set_state(1, WorkerState::active);
  for (int i = 0; i < 3; ++i) CHECK(r.record_attempt(1, true).empty());
  CHECK(r.held(1));
  CHECK(r.all_held());
}

TEST_CASE("a worker's own success clears its run of failures", "[worker_roster]") {
  WorkerRoster r(3, 3);
  r.set_state(1, WorkerState::active);
  r.set_state(2, WorkerState::active);
  for (int i = 0; i < 3; ++i) CHECK(r.record_attempt(1, true).empty());
  REQUIRE(r.held(1));
  CHECK(r.record_attempt(1, false).empty());
  CHECK_FALSE(r.held(1));
  CHECK(r.at(1).failures_in_row == 0);
  CHECK(r.record_attempt(1, true).empty());  // a new run begins: its first failure, not its fourth
  CHECK(r.record_attempt(2, false).empty());
  CHECK(r.record_attempt(1, true).empty());
  CHECK(r.at(1).failures_in_row == 2);
  CHECK(r.record_attempt(1, true) == Ranks{1});
}

TEST_CASE("quarantine_after 0 never quarantines or holds", "[worker_roster]") {
  WorkerRoster r(3, 0);
  r.set_state(1, WorkerState::active);
  r.set_state(2, WorkerState::active);
  for (int i = 0; i < 10; ++i) {
    CHECK(r.record_attempt(1, true).empty());
    CHECK(r.record_attempt(2, false).empty());
  }
  CHECK_FALSE(r.held(1));
  CHECK(r.at(1).failures_in_row == 10);
  CHECK(r.record_attempt(2, false).empty());
}

TEST_CASE("a worker that is not active is neither held nor quarantined for its failures", "[worker_roster]") {
  WorkerRoster r(3, 3);
  r.set_state(1, WorkerState::active);
  r.set_state(2, WorkerState::restarting);
  CHECK(r.record_attempt(1, false).empty());
  for (int i = 0; i < 4; ++i) CHECK(r.record_attempt(2, true).empty());
  CHECK_FALSE(r.held(2));
}

TEST_CASE("the last active worker is never quarantined", "[worker_roster]") {
  WorkerRoster r(4, 3);
  r.set_state(1, WorkerState::active);
  r.set_state(2, WorkerState::active);
  r.set_state(3, WorkerState::restarting);  // its Python process died; a fresh one runs init()
  CHECK(r.record_attempt(2, true).empty());
  CHECK(r.record_attempt(1, false).empty());
  CHECK(r.record_attempt(2, true).empty());
  REQUIRE(r.record_attempt(2, true) == Ranks{2});
  r.set_state(2, WorkerState::quarantined);  // what the master does with it; rank 1 is the last active one
  CHECK(r.record_attempt(1, true).empty());
  CHECK(r.record_attempt(2, false).empty());  // the attempt rank 2 ran when quarantined succeeds after all
  CHECK(r.record_attempt(1, true).empty());
  CHECK(r.record_attempt(1, true).empty());  // three in a row while another succeeded, but it is the last
  CHECK(r.held(1));
  CHECK_FALSE(r.all_held());  // rank 3 may come back and show
  SECTION("no other worker comes back; another late success elsewhere") {
    r.set_state(3, WorkerState::retired);
    CHECK(r.all_held());  // rank 1 gets work again
    CHECK(r.record_attempt(2, false).empty());
    CHECK(r.active() == 1);
  }
  SECTION("another worker comes back and succeeds") {
    r.set_state(3, WorkerState::active);
    CHECK(r.record_attempt(3, false) == Ranks{1});
  }
}

TEST_CASE("a success elsewhere quarantines held workers but leaves one active", "[worker_roster]") {
  WorkerRoster r(5, 3);
  for (int rank = 1; rank <= 4; ++rank) r.set_state(rank, WorkerState::active);
  CHECK(r.record_attempt(4, true).empty());
  CHECK(r.record_attempt(1, false).empty());
  CHECK(r.record_attempt(4, true).empty());
  REQUIRE(r.record_attempt(4, true) == Ranks{4});
  r.set_state(4, WorkerState::quarantined);
  for (int rank = 1; rank <= 3; ++rank)
    for (int i = 0; i < 3; ++i) CHECK(r.record_attempt(rank, true).empty());
  CHECK(r.all_held());
  SECTION("the success comes from one of them") {
    CHECK(r.record_attempt(3, false) == Ranks{1, 2});
    CHECK_FALSE(r.held(3));
  }
  SECTION("the success comes from the quarantined worker's last attempt") {
    CHECK(r.record_attempt(4, false) == Ranks{1, 2});  // rank 3 stays, no longer held
    CHECK_FALSE(r.held(3));
  }
}
