// libFuzzer target for the journal reader: whatever the bytes, parse_journal_header and parse_journal either return
// a state sized by the job's batch count or throw prs::Error; never a crash, a read out of bounds (AddressSanitizer)
// or an allocation sized by the file.
//
// Build (clang only):  cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DPRS_FUZZ=ON
//                      cmake --build build-fuzz --target fuzz_journal
// Seeds, written by the real JournalWriter:  PRS_FUZZ_SEEDS=corpus build-fuzz/tests/fuzz_journal -runs=0 corpus
// Run:                 build-fuzz/tests/fuzz_journal -max_total_time=60 -rss_limit_mb=512 corpus
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <limits>
#include <string>

#include "prs/error.hpp"
#include "prs/master/journal.hpp"

namespace {

constexpr std::uint64_t kBatches = 64;  // the job's count when the file's own is implausible

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// What resume relies on in any state the reader returns.
void check_state(const prs::JournalState& s, std::uint64_t batches) {
  check(s.batch_count == batches && s.tries.size() == batches && s.ended.size() == batches);
  for (const auto& end : s.ended) {
    if (!end) continue;
    check(end->length <= std::numeric_limits<std::uint64_t>::max() - end->offset);
    check(end->header_length <= end->length);
  }
}

void parse(const std::string& bytes, std::uint64_t batches) {
  try {
    check_state(prs::parse_journal(bytes, batches, "fuzz"), batches);
  } catch (const prs::Error&) {
  }
}

// Journals as prs_mpi writes them: header only, records of every kind, a pending rewrite, a torn last record.
void write_seeds(const std::string& dir) {
  std::filesystem::create_directories(dir);
  prs::JournalState fresh = prs::fresh_journal({1, 2, 3, 4}, kBatches);
  prs::JournalWriter::create(dir + "/fresh", fresh);
  prs::JournalState s = fresh;
  s.pending = prs::PendingRewrite{100, dir + "/out.txt.prs-tail.1f"};
  prs::JournalWriter w = prs::JournalWriter::create(dir + "/records", s);
  prs::BatchEnd end;
  end.succeeded = true;
  end.attempts = 1;
  end.length = 50;
  end.items_ok = 10;
  end.checksum = 0x1234;
  w.dispatched(0, 1, 1);
  w.dispatched(1, 1, 1);
  w.dispatched(2, 1, 2);
  w.resulted(0);
  w.ended(0, end);
  w.abandoned(1);
  end.with_header = true;
  end.header_length = 5;
  end.offset = 50;
  w.ended(3, end);
  w.flush();
  std::filesystem::copy_file(dir + "/records", dir + "/torn");
  std::filesystem::resize_file(dir + "/torn", std::filesystem::file_size(dir + "/torn") - 7);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("PRS_FUZZ_SEEDS")) write_seeds(dir);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  try {
    prs::JournalHeader h = prs::parse_journal_header(bytes, "fuzz");
    if (h.batch_count <= 4096) parse(bytes, h.batch_count);  // a caller whose job has the file's count
  } catch (const prs::Error&) {
  }
  parse(bytes, kBatches);
  return 0;
}
