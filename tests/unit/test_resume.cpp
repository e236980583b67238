#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "prs/error.hpp"
#include "prs/master/journal.hpp"
#include "prs/master/resume.hpp"
#include "prs/output/checksum.hpp"

namespace fs = std::filesystem;
using namespace prs;

namespace {

struct Fixture {
  fs::path dir = fs::temp_directory_path() / ("prs_test_resume_" + std::to_string(::getpid()));
  JobConfig config;
  PlanFingerprint plan{11, 22, 33, 44};

  Fixture() {
    fs::remove_all(dir);
    fs::create_directories(dir / "logs");
    config.job_name = "job.yml";
    config.append_row_file = (dir / "out.txt").string();
    config.log_dir = (dir / "logs").string();
    config.max_retries = 2;
  }
  ~Fixture() { fs::remove_all(dir); }

  ResumePoint resume(std::uint64_t batches, bool retry_failed = false) const {
    return prepare_resume(config, plan, batches, retry_failed);
  }
  void write_output(const std::string& text) const { std::ofstream(config.append_row_file) << text; }
  std::string output() const {
    std::ifstream in(config.append_row_file);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  // A journal with these ended batches (offset, length) out of n, with the checksums of the output's bytes there
  // (what the workers reported when they wrote them).
  void journal(std::uint64_t n, const std::vector<std::pair<std::uint64_t, BatchEnd>>& ends,
               const std::vector<std::uint32_t>& tries = {}) const {
    JournalState s = fresh_journal(plan, n);
    std::string text = output();
    for (const auto& [b, e] : ends) {
      s.ended[b] = e;
      s.ended[b]->checksum = crc32c(text.substr(e.offset, e.length));
      s.tries[b] = e.attempts;
    }
    for (std::size_t b = 0; b < tries.size(); ++b) s.tries[b] = std::max(s.tries[b], tries[b]);
    JournalWriter::create(journal_path(config), s);
  }
};

BatchEnd region(std::uint64_t offset, std::uint64_t length, bool ok = true) {
  BatchEnd e;
  e.succeeded = ok;
  e.attempts = 1;
  e.offset = offset;
  e.length = length;
  return e;
}

}  // namespace

TEST_CASE("resume drops bytes no batch committed and moves later rows down", "[resume]") {
  Fixture f;
  // batch 0 at 0..4, batch 2 at 9..13; 4..9 is a torn write of batch 1, 13.. a half row of batch 3
  f.write_output("aaaaXXXXXccccdd");
  f.journal(4, {{0, region(0, 4)}, {2, region(9, 4)}});
  ResumePoint p = f.resume(4);
  CHECK(f.output() == "aaaacccc");
  CHECK(p.output_size == 8);
  CHECK(p.removed_bytes == 7);
  REQUIRE(p.state.ended[2]);
  CHECK(p.state.ended[2]->offset == 4);
  JournalState back = read_journal(journal_path(f.config), 4);  // the journal says the same
  CHECK(back.ended[2]->offset == 4);
  // The journal was rewritten before the output changed; its pending rewrite is finished: the tail file is gone.
  REQUIRE(back.pending);
  CHECK_FALSE(fs::exists(back.pending->tail));
}

TEST_CASE("resume of an intact output only cuts a torn tail", "[resume]") {
  Fixture f;
  f.write_output("aaaabbbbcc");
  f.journal(3, {{0, region(0, 4)}, {1, region(4, 4)}});
  ResumePoint p = f.resume(3);
  CHECK(f.output() == "aaaabbbb");
  CHECK(p.removed_bytes == 2);
}

TEST_CASE("resume keeps attempts, and --retry-failed forgets failed batches and their rows", "[resume]") {
  Fixture f;
  f.write_output("aaaabb");
  f.journal(3, {{0, region(0, 4)}, {1, region(4, 2, false)}}, {0, 0, 3});
  ResumePoint kept = f.resume(3);
  CHECK(kept.state.tries[2] == 3);
  CHECK(kept.state.ended[1]);
  CHECK(f.output() == "aaaabb");
  ResumePoint retried = f.resume(3, true);
  CHECK_FALSE(retried.state.ended[1]);
  CHECK(retried.state.tries[1] == 0);
  CHECK(retried.state.tries[2] == 0);
  CHECK(f.output() == "aaaa");
}

TEST_CASE("resume refuses a changed plan and names what changed", "[resume]") {
  Fixture f;
  f.write_output("");
  f.journal(1, {});
  PlanFingerprint changed = f.plan;
  changed.listing = 99;
  changed.script = 98;
  CHECK_THROWS_WITH(prepare_resume(f.config, changed, 1, false),
                    "job.yml: cannot --resume: the input files (added, removed or modified) and the entry script "
                    "changed since the interrupted run; use --overwrite to start over");
  PlanFingerprint other_size = f.plan;  // a new mini_batch_size also changes the batch count: the plan is named
  other_size.partition = 7;
  CHECK_THROWS_WITH(prepare_resume(f.config, other_size, 5, false),
                    "job.yml: cannot --resume: the mini-batches (mini_batch_size, mini_batch_row_size or "
                    "partition_keys) changed since the interrupted run; use --overwrite to start over");
}

TEST_CASE("resume without a journal says there is nothing to resume", "[resume]") {
  Fixture f;
  CHECK_THROWS_WITH(f.resume(1),
                    "job.yml: nothing to resume: no journal at " + journal_path(f.config) + "; run without --resume");
}

TEST_CASE("a crash between the journal and the output rewrite is finished by the next resume", "[resume]") {
  Fixture f;
  f.write_output("aaaaXXbb");
  std::string tail = f.config.append_row_file + ".prs-tail.test";
  std::ofstream(tail) << "bb";
  JournalState s = fresh_journal(f.plan, 2);
  s.ended[0] = region(0, 4);
  s.ended[1] = region(4, 2);  // already the new layout
  s.ended[0]->checksum = crc32c("aaaa");
  s.ended[1]->checksum = crc32c("bb");
  s.pending = PendingRewrite{4, tail};
  JournalWriter::create(journal_path(f.config), s);
  ResumePoint p = f.resume(2);
  CHECK(f.output() == "aaaabb");
  CHECK(p.output_size == 6);
  CHECK_FALSE(fs::exists(tail));
}

TEST_CASE("ordering puts rows in batch order and the header first", "[resume]") {
  Fixture f;
  f.write_output("b1\nHDR\na0\nc2\n");  // batch 1 committed first; batch 0's commit carried the header
  JournalState s = fresh_journal(f.plan, 3);
  s.ended[1] = region(0, 3);
  s.ended[2] = region(10, 3);
  BatchEnd with_header = region(3, 7);  // "HDR\na0\n"
  with_header.with_header = true;
  with_header.header_length = 4;
  s.ended[0] = with_header;
  JournalWriter::create(journal_path(f.config), s);
  JournalState ordered = order_output(f.config.append_row_file, journal_path(f.config), s);
  CHECK(f.output() == "HDR\na0\nb1\nc2\n");
  CHECK(ordered.ended[0]->offset == 0);
  CHECK(ordered.ended[0]->length == 7);
  CHECK(ordered.ended[1]->offset == 7);
  CHECK(ordered.ended[2]->offset == 10);
  JournalState again = order_output(f.config.append_row_file, journal_path(f.config), ordered);
  CHECK(f.output() == "HDR\na0\nb1\nc2\n");
  CHECK(again.ended[1]->offset == 7);
}

TEST_CASE("a deleted output is created again and everything committed runs again, with an attempt left", "[resume]") {
  Fixture f;
  f.write_output("aaaabbbbcc");
  f.journal(4, {{0, region(0, 4)}, {1, region(4, 4)}, {2, region(8, 2)}}, {0, 0, 0, 2});
  JournalState s = read_journal(journal_path(f.config), 4);
  s.tries = {1, 3, 2, 2};  // batch 1 succeeded at its last attempt (max_retries 2)
  JournalWriter::create(journal_path(f.config), s);
  fs::remove(f.config.append_row_file);
  ResumePoint p = f.resume(4);
  CHECK(p.lost_batches == 3);
  CHECK(p.output_size == 0);
  CHECK(p.removed_bytes == 0);
  CHECK(fs::exists(f.config.append_row_file));
  CHECK(f.output().empty());
  for (std::uint64_t b = 0; b < 4; ++b) CHECK_FALSE(p.state.ended[b]);
  CHECK(p.state.tries == std::vector<std::uint32_t>{1, 2, 2, 2});  // kept, capped at max_retries: one more each
}

TEST_CASE("a truncated output keeps the ranges still whole and redoes the rest", "[resume]") {
  Fixture f;
  f.write_output("aaaabbbbcccc");
  f.journal(3, {{0, region(0, 4)}, {1, region(4, 4)}, {2, region(8, 4)}});
  fs::resize_file(f.config.append_row_file, 6);  // batch 1 half gone, batch 2 gone
  ResumePoint p = f.resume(3);
  CHECK(p.lost_batches == 2);
  CHECK(f.output() == "aaaa");
  CHECK(p.output_size == 4);
  CHECK(p.removed_bytes == 0);  // the bytes dropped were committed rows (lost), not uncommitted ones
  CHECK(p.state.ended[0]);
  CHECK_FALSE(p.state.ended[1]);
  CHECK_FALSE(p.state.ended[2]);
}

TEST_CASE("an overwritten range is redone and compaction keeps exactly the good ranges", "[resume]") {
  Fixture f;
  f.write_output("aaaabbbbccccXX");  // XX: a torn write no batch committed
  f.journal(4, {{0, region(0, 4)}, {1, region(4, 4)}, {2, region(8, 4)}});
  std::fstream out(f.config.append_row_file, std::ios::in | std::ios::out | std::ios::binary);
  out.seekp(5);
  out.write("ZZ", 2);  // same size, other bytes
  out.close();
  ResumePoint p = f.resume(4);
  CHECK(p.lost_batches == 1);
  CHECK(p.removed_bytes == 2);
  CHECK(f.output() == "aaaacccc");
  CHECK(p.output_size == 8);
  REQUIRE(p.state.ended[2]);
  CHECK(p.state.ended[2]->offset == 4);
  CHECK(p.state.ended[2]->checksum == crc32c("cccc"));
  CHECK_FALSE(p.state.ended[1]);
  ResumePoint again = f.resume(4);  // the repaired output passes the check
  CHECK(again.lost_batches == 0);
  CHECK(f.output() == "aaaacccc");
}

TEST_CASE("losing the range with the header line redoes every range, so the header comes first again", "[resume]") {
  Fixture f;
  f.write_output("HDR\na0\nb1\n");
  BatchEnd with_header = region(0, 7);
  with_header.with_header = true;
  with_header.header_length = 4;
  f.journal(2, {{0, with_header}, {1, region(7, 3)}});
  std::fstream out(f.config.append_row_file, std::ios::in | std::ios::out | std::ios::binary);
  out.write("X", 1);
  out.close();
  ResumePoint p = f.resume(2);
  CHECK(p.lost_batches == 2);
  CHECK(f.output().empty());
}

TEST_CASE("a journal whose ranges overlap or whose pending rewrite names another file is damaged", "[resume]") {
  Fixture f;
  f.write_output("aaaabbbb");
  f.journal(2, {{0, region(0, 5)}, {1, region(4, 4)}});
  CHECK_THROWS_WITH(f.resume(2), journal_path(f.config) + ": the journal is damaged (mini-batches 0 and 1 overlap in "
                                 "the output); remove it with --overwrite to start again");
  std::string victim = (f.dir / "precious.txt").string();
  std::ofstream(victim) << "keep me";
  JournalState s = fresh_journal(f.plan, 2);
  s.pending = PendingRewrite{0, victim};
  JournalWriter::create(journal_path(f.config), s);
  CHECK_THROWS_WITH(f.resume(2), Catch::Contains("the journal is damaged (its pending rewrite names " + victim));
  CHECK(fs::exists(victim));
  CHECK(f.output() == "aaaabbbb");
}

TEST_CASE("ordering journals the checksums of the regions it changed", "[resume]") {
  Fixture f;
  f.write_output("b1\nHDR\na0\n");
  JournalState s = fresh_journal(f.plan, 2);
  s.ended[1] = region(0, 3);
  BatchEnd with_header = region(3, 7);
  with_header.with_header = true;
  with_header.header_length = 4;
  s.ended[0] = with_header;
  JournalWriter::create(journal_path(f.config), s);
  order_output(f.config.append_row_file, journal_path(f.config), s);
  CHECK(f.output() == "HDR\na0\nb1\n");
  JournalState back = read_journal(journal_path(f.config), 2);
  CHECK(back.ended[0]->checksum == crc32c("HDR\na0\n"));
  CHECK(back.ended[1]->checksum == crc32c("b1\n"));
  CHECK(f.resume(2).lost_batches == 0);
}

TEST_CASE("the fingerprint reuses the listing's stat(): the same value as a stat() of every file", "[resume]") {
  Fixture f;
  for (const char* name : {"a", "b"}) std::ofstream(f.dir / name) << name << "\n";
  const FileList listed = list_input_files((f.dir / "a").string());  // a stamp from the listing
  FileList unstamped;
  unstamped.add((f.dir / "a").string());  // no stamp: the fingerprint stats the file
  const Partition partition(1, 1);
  const PlanFingerprint from_listing = fingerprint_plan(f.config, listed, partition);
  CHECK(listed.stamp(0).size == 2);
  CHECK(from_listing.listing == fingerprint_plan(f.config, unstamped, partition).listing);
  FileList touched;  // the same path, another modification time: another fingerprint
  touched.add((f.dir / "a").string(), {listed.stamp(0).size, listed.stamp(0).mtime_ns + 1});
  CHECK(fingerprint_plan(f.config, touched, partition).listing != from_listing.listing);
  FileList vanished;
  vanished.add((f.dir / "gone").string());
  CHECK_THROWS_WITH(fingerprint_plan(f.config, vanished, partition),
                    (f.dir / "gone").string() + ": cannot read the input file: No such file or directory");
}

TEST_CASE("a .h5 build takes every region with rows, in commit or in batch order", "[resume]") {
  JournalState s = fresh_journal(PlanFingerprint{}, 5);
  s.ended[0] = region(30, 10);
  s.ended[1] = region(0, 0);         // no rows
  s.ended[2] = region(0, 30, false);  // a short last attempt: failed, its rows kept
  s.ended[4] = region(40, 5);        // batch 3 not ended
  auto offsets = [](const std::vector<StagedRecord>& r) {
    std::vector<std::uint64_t> out;
    for (const StagedRecord& x : r) out.push_back(x.batch * 1000 + x.offset);
    return out;
  };
  CHECK(offsets(h5_staged_records(s, false)) == std::vector<std::uint64_t>{2000, 30, 4040});
  CHECK(offsets(h5_staged_records(s, true)) == std::vector<std::uint64_t>{30, 2000, 4040});
  CHECK(h5_staged_records(s, true)[1].length == 30);
}

TEST_CASE("resume of a journal whose listing never ended compares its first mini-batches only", "[resume]") {
  Fixture f;
  f.write_output("ab");
  JournalState s = fresh_journal(f.plan, 3);  // 3 mini-batches listed when the job was killed
  s.listing_open = true;
  BatchEnd e = region(0, 2);
  e.checksum = crc32c("ab");
  s.ended[1] = e;
  s.tries[1] = 1;
  JournalWriter::create(journal_path(f.config), s);
  PlanFingerprint whole = f.plan;  // the new listing has 8 mini-batches: its whole fingerprint is another
  whole.listing = 1234;
  std::vector<std::uint64_t> asked;
  const PrefixPlan same_start = [&](std::uint64_t batches) -> std::optional<PlanFingerprint> {
    asked.push_back(batches);
    PlanFingerprint p = whole;
    p.listing = f.plan.listing;  // its first 3 mini-batches are the journal's
    return p;
  };
  ResumePoint point = prepare_resume(f.config, whole, 8, false, same_start);
  CHECK(asked.front() == 3);
  CHECK(point.state.batch_count == 8);
  CHECK(point.state.ended[1]);
  CHECK_FALSE(point.state.ended[2]);
  CHECK(point.state.plan.listing == 1234);  // the whole new plan from now on
  CHECK_FALSE(point.state.listing_open);
  JournalWriter::create(journal_path(f.config), s);
  point = prepare_resume(f.config, whole, 5, false, same_start, true);  // a resume that lists while it dispatches
  CHECK(point.state.listing_open);  // its plan: the first 5 mini-batches of a listing that goes on
  CHECK(point.state.batch_count == 5);
  const std::string refused = "job.yml: cannot --resume: the input files (added, removed or modified) changed since "
                              "the interrupted run; use --overwrite to start over";
  JournalWriter::create(journal_path(f.config), s);
  const PrefixPlan other_start = [&](std::uint64_t) -> std::optional<PlanFingerprint> { return whole; };
  CHECK_THROWS_WITH(prepare_resume(f.config, whole, 8, false, other_start), refused);
  const PrefixPlan fewer = [](std::uint64_t) -> std::optional<PlanFingerprint> { return std::nullopt; };
  CHECK_THROWS_WITH(prepare_resume(f.config, f.plan, 2, false, fewer), refused);
  CHECK_THROWS_WITH(prepare_resume(f.config, whole, 8, false), refused);  // a table's plan is compared whole
}

TEST_CASE("the listing fingerprint of a list's first files, fed file by file or at once", "[resume]") {
  Fixture f;
  FileList files;
  for (int i = 0; i < 5; ++i) files.add("/d/" + std::to_string(i), {i, 1000 + i});
  ListingHash hash;
  for (std::size_t i = 0; i < 3; ++i) hash.add(files.at(i), files.stamp(i));
  CHECK(hash.value() == hash_listing(files, 3));
  CHECK(hash_listing(files, 3) != hash_listing(files, 5));
  CHECK(hash_listing(files, 5) == fingerprint_plan(f.config, files, Partition(5, 2)).listing);
}
