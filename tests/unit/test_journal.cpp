#include <catch2/catch.hpp>

#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <optional>

#include "prs/error.hpp"
#include "prs/master/journal.hpp"
#include "prs/output/checksum.hpp"

namespace fs = std::filesystem;
using namespace prs;

namespace {

std::string temp_path(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("prs_test_journal_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return (d / name).string();
}

PlanFingerprint plan() { return {1, 2, 3, 4}; }

constexpr std::uintmax_t kRecord = 52;  // bytes per record in format 2

std::string damaged(const std::string& path, const std::string& what) {
  return path + ": the journal is damaged (" + what + "); remove it with --overwrite to start again";
}

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// A header as the writer lays it out, with any field forged; `sum` false keeps a checksum that does not match.
struct ForgedHeader {
  std::string magic = "PRSJRNL2";
  std::uint64_t batch_count = 4;
  std::uint8_t pending = 0;
  std::uint32_t tail_length = 0;
  std::string tail;
  std::optional<std::uint32_t> length;  // the header's body length, if not the true one
  bool sum = true;

  std::string bytes() const {
    std::string body;
    put(body, batch_count);
    for (std::uint64_t v : {1, 2, 3, 4}) put<std::uint64_t>(body, v);
    put(body, pending);
    put<std::uint64_t>(body, 0);
    put(body, tail_length);
    body += tail;
    std::string out = magic;
    put<std::uint32_t>(out, length ? *length : static_cast<std::uint32_t>(body.size()));
    put<std::uint32_t>(out, sum ? crc32c(body) : 0xdeadbeef);
    return out + body;
  }
};

// A record with a valid checksum and any fields.
std::string forged_record(std::uint8_t kind, std::uint64_t batch, std::uint32_t attempts, std::uint64_t offset,
                          std::uint64_t length, std::uint32_t header_length = 0, std::uint8_t flags = 1) {
  std::string r;
  put(r, kind);
  put(r, flags);
  put<std::uint16_t>(r, 0);
  put(r, attempts);
  put(r, batch);
  put(r, offset);
  put(r, length);
  put<std::uint64_t>(r, 0);
  put(r, header_length);
  put<std::uint32_t>(r, 0);
  put(r, crc32c(r));
  return r;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

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
  JournalState s = read_journal(path, 4);
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
  CHECK(fs::file_size(path) == header + 2 * kRecord);
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
  JournalState s = read_journal(path, 5);
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
  for (std::uintmax_t cut = 1; cut < kRecord; cut += 7) {
    fs::resize_file(path, full - cut);
    JournalState s = read_journal(path, 3);
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
  f.seekp(static_cast<std::streamoff>(fs::file_size(path) - 2 * kRecord + 10));
  f.put('\x7f');
  f.close();
  CHECK_THROWS_WITH(read_journal(path, 3), damaged(path, "record 0 does not match its checksum"));
}

TEST_CASE("a file that is not a journal is refused", "[journal]") {
  std::string path = temp_path("j5");
  std::ofstream(path) << "hello, I am a CSV file\n";
  CHECK_THROWS_WITH(read_journal(path, 1), path + ": not a prs_mpi journal");
  CHECK_THROWS_WITH(read_journal(temp_path("missing"), 1), Catch::Contains("cannot read the journal"));
}

TEST_CASE("create writes a state back compactly, with a pending rewrite", "[journal]") {
  std::string path = temp_path("j6");
  JournalState s = fresh_journal(plan(), 3);
  s.tries = {3, 1, 0};
  s.ended[1] = end_at(5, 7);
  s.pending = PendingRewrite{42, "/tmp/tail"};
  JournalWriter::create(path, s);
  JournalState back = read_journal(path, 3);
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

TEST_CASE("an ended record keeps the checksum of its rows", "[journal]") {
  std::string path = temp_path("j8");
  BatchEnd e = end_at(0, 9);
  e.checksum = crc32c("row 1\nr2\n");
  {
    JournalWriter w = JournalWriter::create(path, fresh_journal(plan(), 2));
    w.ended(1, e);
  }
  JournalState s = read_journal(path, 2);
  REQUIRE(s.ended[1]);
  CHECK(s.ended[1]->checksum == e.checksum);
  JournalWriter::create(path, s);  // and a compact rewrite keeps it too
  CHECK(read_journal(path, 2).ended[1]->checksum == e.checksum);
}

TEST_CASE("a forged header length is damage, not a read past the buffer", "[journal]") {
  std::string path = temp_path("h1");
  ForgedHeader huge;
  huge.length = 0xFFFFFFF0u;  // 16 + this wrapped around in 32 bits
  write_bytes(path, huge.bytes());
  const std::string too_long = damaged(path, "the header says 4294967280 bytes, more than a header holds");
  CHECK_THROWS_WITH(read_journal(path, 4), too_long);
  CHECK_THROWS_WITH(read_journal_header(path), too_long);
  ForgedHeader past;
  past.length = 54;  // one byte more than the file holds
  write_bytes(path, past.bytes());
  CHECK_THROWS_WITH(read_journal(path, 4), damaged(path, "the header says 54 bytes, 53 are left in the file"));
  ForgedHeader short_body;
  short_body.length = 52;  // the checksum is of 53 bytes: no longer matches
  write_bytes(path, short_body.bytes());
  CHECK_THROWS_WITH(read_journal(path, 4), damaged(path, "the header checksum does not match"));
  ForgedHeader bad_sum;
  bad_sum.sum = false;
  write_bytes(path, bad_sum.bytes());
  CHECK_THROWS_WITH(read_journal(path, 4), damaged(path, "the header checksum does not match"));
}

TEST_CASE("a forged batch count sizes nothing: only the job's own count is accepted", "[journal]") {
  std::string path = temp_path("h2");
  ForgedHeader huge;
  huge.batch_count = 1ull << 60;
  write_bytes(path, huge.bytes());
  CHECK(read_journal_header(path).batch_count == 1ull << 60);  // the header alone is read without sizing anything
  CHECK_THROWS_WITH(read_journal(path, 4),
                    damaged(path, "it names 1152921504606846976 mini-batches, the job has 4"));
  ForgedHeader fine;
  write_bytes(path, fine.bytes());
  CHECK(read_journal(path, 4).tries.size() == 4);
}

TEST_CASE("a forged tail length is damage", "[journal]") {
  std::string path = temp_path("h3");
  ForgedHeader huge;
  huge.pending = 1;
  huge.tail_length = 0xFFFFFFFFu;
  huge.tail = "/x";
  write_bytes(path, huge.bytes());
  CHECK_THROWS_WITH(read_journal(path, 4),
                    damaged(path, "the header's tail path says 4294967295 bytes, 2 are left in the header"));
  ForgedHeader not_pending;
  not_pending.tail_length = 2;
  not_pending.tail = "/x";
  write_bytes(path, not_pending.bytes());
  CHECK_THROWS_WITH(read_journal(path, 4), damaged(path, "the header's pending rewrite is malformed"));
}

TEST_CASE("a truncated header is damage at every length", "[journal]") {
  std::string path = temp_path("h4");
  std::string whole = ForgedHeader().bytes();
  write_bytes(path, "");
  CHECK_THROWS_WITH(read_journal(path, 4), damaged(path, "the file is empty"));
  write_bytes(path, whole.substr(0, 5));
  CHECK_THROWS_WITH(read_journal(path, 4), damaged(path, "the header is truncated"));
  write_bytes(path, whole.substr(0, 12));
  CHECK_THROWS_WITH(read_journal(path, 4), damaged(path, "the header is truncated"));
  for (std::size_t cut = 16; cut < whole.size(); cut += 9) {
    write_bytes(path, whole.substr(0, cut));
    CHECK_THROWS_WITH(read_journal(path, 4),
                      Catch::StartsWith(path + ": the journal is damaged (the header says 53 bytes"));
  }
}

TEST_CASE("a journal of another format version is refused, saying which way", "[journal]") {
  std::string path = temp_path("h5");
  ForgedHeader old;
  old.magic = "PRSJRNL1";
  write_bytes(path, old.bytes());
  CHECK_THROWS_WITH(read_journal(path, 4), path + ": the journal was written by an older prs_mpi; resume it with that "
                                                  "version or use --overwrite");
  CHECK_THROWS_WITH(read_journal_header(path), Catch::Contains("written by an older prs_mpi"));
  old.magic = "PRSJRNL3";
  write_bytes(path, old.bytes());
  CHECK_THROWS_WITH(read_journal(path, 4), Catch::Contains("written by a newer prs_mpi"));
}

TEST_CASE("malformed records with valid checksums are damage", "[journal]") {
  std::string path = temp_path("r1");
  std::string header = ForgedHeader().bytes();
  auto check = [&](const std::string& record, const std::string& what) {
    write_bytes(path, header + forged_record(3, 0, 1, 0, 10) + record);
    CHECK_THROWS_WITH(read_journal(path, 4), damaged(path, "record 1: " + what));
  };
  check(forged_record(3, 4, 1, 0, 10), "it names mini-batch 4 of 4");
  check(forged_record(3, 1ull << 63, 1, 0, 10), "it names mini-batch 9223372036854775808 of 4");
  check(forged_record(9, 1, 1, 0, 10), "unknown kind 9");
  check(forged_record(1, 1, 0, 1, 0, 0, 0), "a dispatched attempt numbered 0");
  check(forged_record(3, 1, 1, ~0ull - 5, 10), "its region overflows");
  check(forged_record(3, 1, 1, 10, 10, 11, 1 | 2), "its header length 11 does not fit its region");
  check(forged_record(3, 1, 1, 10, 10, 0, 8), "unknown flags 8");
}

TEST_CASE("a journal that cannot be written at creation is a prs::Error, and no temporary file stays", "[journal]") {
  std::string path = temp_path("full");
  fs::remove(path);
  pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {  // a full disk, as RLIMIT_FSIZE makes write(2) fail with EFBIG
    ::signal(SIGXFSZ, SIG_IGN);
    rlimit limit{20, 20};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    try {
      JournalWriter::create(path, fresh_journal(plan(), 4));
    } catch (const Error& e) {
      bool named = std::string(e.what()) == path + ": cannot write the journal: File too large";
      ::_exit(named && !fs::exists(path + ".tmp") && !fs::exists(path) ? 0 : 2);
    } catch (...) {
      ::_exit(3);  // a prs::Fatal here would abort MPI while the workers wait
    }
    ::_exit(4);
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

// ---- a plan that grows while its listing goes on ----

TEST_CASE("journal: planned records grow the plan; the reader sees the latest, open or whole", "[journal]") {
  const std::string path = temp_path("planned");
  JournalState s = fresh_journal(plan(), 2);  // the first 2 mini-batches of a listing that goes on
  s.listing_open = true;
  {
    JournalWriter w = JournalWriter::create(path, s);
    w.dispatched(1, 1, 3);
    w.planned(5, 77, true);
    w.dispatched(4, 1, 2);
    w.flush();
  }
  JournalHeader h = read_journal_header(path);
  CHECK(h.batch_count == 5);
  CHECK(h.listing_open);
  CHECK(h.plan.listing == 77);
  CHECK(h.plan.partition == plan().partition);
  JournalState back = read_journal(path, 9);  // a new listing of 9 mini-batches: its first 5 are the journal's
  CHECK(back.listing_open);
  CHECK(back.planned == 5);
  CHECK(back.batch_count == 9);
  CHECK(back.tries[1] == 1);
  CHECK(back.tries[4] == 1);
  CHECK_THROWS_WITH(read_journal(path, 4), damaged(path, "it names 5 mini-batches, the job has 4"));
  {
    JournalWriter w = JournalWriter::create(path, s);
    w.planned(6, 88, false);  // the listing ended: the plan is whole
    w.flush();
  }
  h = read_journal_header(path);
  CHECK(h.batch_count == 6);
  CHECK_FALSE(h.listing_open);
  CHECK(h.plan.listing == 88);
  CHECK(read_journal(path, 6).planned == 6);
  CHECK_THROWS_WITH(read_journal(path, 9), damaged(path, "it names 6 mini-batches, the job has 9"));
}

TEST_CASE("journal: a batch named before a plan names it, a shrinking plan, a torn planned record", "[journal]") {
  const std::string path = temp_path("planned_bad");
  JournalState s = fresh_journal(plan(), 2);
  s.listing_open = true;
  {
    JournalWriter w = JournalWriter::create(path, s);
    w.dispatched(3, 1, 1);  // mini-batch 3 is not planned yet
    w.planned(5, 77, true);
    w.flush();
  }
  CHECK_THROWS_WITH(read_journal(path, 5), damaged(path, "record 1: it names mini-batch 3 of 2"));
  {
    JournalWriter w = JournalWriter::create(path, s);
    w.planned(5, 77, true);
    w.planned(4, 78, true);
    w.flush();
  }
  CHECK_THROWS_WITH(read_journal_header(path), damaged(path, "record 2: the plan shrinks from 5 to 4 mini-batches"));
  {
    JournalWriter w = JournalWriter::create(path, s);
    w.planned(5, 77, true);
    w.flush();
  }
  fs::resize_file(path, fs::file_size(path) - 10);  // the last planned record torn by a crash: the plan before it
  const JournalHeader h = read_journal_header(path);
  CHECK(h.batch_count == 2);
  CHECK(h.listing_open);
  CHECK(read_journal(path, 3).torn_tail);
}
