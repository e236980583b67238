#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "prs/error.hpp"
#include "prs/master/journal.hpp"

namespace fs = std::filesystem;
using namespace prs;

namespace {

std::string temp_path(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("prs_test_journal_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return (d / name).string();
}

PlanFingerprint plan() { return {1, 2, 3, 4}; }

BatchEnd end_at(std::uint64_t offset, std::uint64_t length, bool ok = true) {
  BatchEnd e;
  e.succeeded = ok;
  e.attempts = 1;
  e.offset = offset;
  e.length = length;
  e.items_ok = ok ? 10 : 3;
  return e;
}

}  // namespace

TEST_CASE("records written are read back", "[journal]") {
  std::string path = temp_path("j1");
  {
    JournalWriter w = JournalWriter::create(path, fresh_journal(plan(), 4));
    w.dispatched(0, 1, 1);
    w.dispatched(1, 1, 2);
    w.resulted(1);
    w.ended(1, end_at(0, 100));
    w.resulted(0);
    w.dispatched(0, 2, 2);
    w.dispatched(2, 1, 1);
    w.abandoned(2);
    w.resulted(0);
    w.ended(0, end_at(100, 50, false));
    w.flush();
  }
  JournalState s = read_journal(path);
  CHECK(s.plan.listing == 1);
  CHECK(s.plan.script == 4);
  CHECK(s.batch_count == 4);
  CHECK(s.tries == std::vector<std::uint32_t>{2, 1, 0, 0});
  REQUIRE(s.ended[1]);
  CHECK(s.ended[1]->succeeded);
  CHECK(s.ended[1]->length == 100);
  REQUIRE(s.ended[0]);
  CHECK_FALSE(s.ended[0]->succeeded);
  CHECK(s.ended[0]->offset == 100);
  CHECK(s.ended[0]->items_ok == 3);
  CHECK_FALSE(s.ended[2]);
  CHECK_FALSE(s.torn_tail);
  CHECK(s.records == 10);
}

TEST_CASE("nothing reaches the file before flush, and everything after", "[journal]") {
  std::string path = temp_path("j2");
  JournalWriter w = JournalWriter::create(path, fresh_journal(plan(), 2));
  auto header = fs::file_size(path);
  w.dispatched(0, 1, 1);
  w.dispatched(1, 1, 1);
  CHECK(fs::file_size(path) == header);
  w.flush();
  CHECK(fs::file_size(path) == header + 2 * 48);
}

TEST_CASE("after a crash only each worker's oldest unanswered attempt counts", "[journal]") {
  std::string path = temp_path("j7");
  {
    JournalWriter w = JournalWriter::create(path, fresh_journal(plan(), 5));
    w.dispatched(0, 1, 1);  // worker 1 runs 0, has 1 queued
    w.dispatched(1, 1, 1);
    w.dispatched(2, 1, 2);  // worker 2 runs 2, has 3 queued
    w.dispatched(3, 1, 2);
    w.resulted(0);          // worker 1 answered 0: now it runs 1
    w.dispatched(4, 1, 1);  // and 4 is queued behind 1
  }
  JournalState s = read_journal(path);
  CHECK(s.tries == std::vector<std::uint32_t>{1, 1, 1, 0, 0});
}

TEST_CASE("a torn last record is dropped, whatever byte the crash stopped at", "[journal]") {
  std::string path = temp_path("j3");
  {
    JournalWriter w = JournalWriter::create(path, fresh_journal(plan(), 3));
    w.ended(0, end_at(0, 10));
    w.ended(1, end_at(10, 10));
  }
  auto full = fs::file_size(path);
  for (std::uintmax_t cut = 1; cut < 48; cut += 7) {
    fs::resize_file(path, full - cut);
    JournalState s = read_journal(path);
    CHECK(s.torn_tail);
    CHECK(s.ended[0]);
    CHECK_FALSE(s.ended[1]);
    fs::resize_file(path, full);  // resize_file pads with zeros: the record's checksum no longer matches
  }
}

TEST_CASE("a damaged record before the last one is an error", "[journal]") {
  std::string path = temp_path("j4");
  {
    JournalWriter w = JournalWriter::create(path, fresh_journal(plan(), 3));
    w.ended(0, end_at(0, 10));
    w.ended(1, end_at(10, 10));
  }
  std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
  f.seekp(static_cast<std::streamoff>(fs::file_size(path) - 2 * 48 + 10));
  f.put('\x7f');
  f.close();
  CHECK_THROWS_WITH(read_journal(path), path + ": journal record 0 is damaged");
}

TEST_CASE("a file that is not a journal is refused", "[journal]") {
  std::string path = temp_path("j5");
  std::ofstream(path) << "hello, I am a CSV file\n";
  CHECK_THROWS_WITH(read_journal(path), path + ": not a prs_mpi journal");
  CHECK_THROWS_WITH(read_journal(temp_path("missing")), Catch::Contains("cannot read the journal"));
}

TEST_CASE("create writes a state back compactly, with a pending rewrite", "[journal]") {
  std::string path = temp_path("j6");
  JournalState s = fresh_journal(plan(), 3);
  s.tries = {3, 1, 0};
  s.ended[1] = end_at(5, 7);
  s.pending = PendingRewrite{42, "/tmp/tail"};
  JournalWriter::create(path, s);
  JournalState back = read_journal(path);
  CHECK(back.tries == s.tries);
  REQUIRE(back.ended[1]);
  CHECK(back.ended[1]->offset == 5);
  REQUIRE(back.pending);
  CHECK(back.pending->truncate_to == 42);
  CHECK(back.pending->tail == "/tmp/tail");
  CHECK(back.records == 5);
}

TEST_CASE("a pending rewrite finishes once, and again harmlessly", "[journal]") {
  std::string out = temp_path("out.txt"), tail = temp_path("out.tail");
  std::ofstream(out) << "keep|garbage";
  std::ofstream(tail) << "moved\n";
  PendingRewrite p{5, tail};
  finish_pending_rewrite(out, p);
  finish_pending_rewrite(out, p);  // the tail is gone: nothing happens
  std::ifstream in(out);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(text == "keep|moved\n");
  CHECK_FALSE(fs::exists(tail));
}
