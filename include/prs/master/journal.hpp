#pragma once
// The journal: what rank 0 knows of a job's mini-batches, on disk, so that --resume after kill -9 loses and
// duplicates nothing.
//
// An append-only file of fixed-size, checksummed records after a header. A mini-batch's rows count as committed only
// once its "ended" record is in the journal, and that record is written only after the worker acknowledged that the
// rows are in the output. Records are written in groups (once per pass of the master's loop) with one write(2), so
// process death at any instant leaves a journal whose last record may be torn: the reader drops it. A "dispatched"
// record (with the worker's rank) is written before its task is sent and a "resulted" record when the worker
// answers, so after a crash each worker's oldest unanswered attempt is the one it was running: that one counts as an
// attempt (a batch that kills its worker ends up failed instead of crashing every resume), the ones still queued
// behind it do not.
//
// Nothing read from the file is trusted: lengths are checked in 64 bits against the bytes present, the batch count
// must be the job's before anything is sized by it, and any malformed header or record is "the journal is damaged"
// (prs::Error, exit 2), never a crash or an unbounded allocation.
//
// A plan can grow (a listing that goes on while the first mini-batches run): "planned" records then say how many
// mini-batches are known so far and the fingerprint of their listing, each written and synced before any of those
// batches is dispatched; the last one says whether the listing ended. A journal whose listing never ended
// describes the first batch_count mini-batches of the job: --resume compares those with the new listing's first
// ones. An "ended" record carries the CRC-32C of the
// batch's bytes in the output, so --resume can tell which committed rows are still there.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace prs {

// What --resume compares: a change in any part refuses to resume, naming it.
struct PlanFingerprint {
  std::uint64_t listing = 0;   // input paths, sizes and modification times
  std::uint64_t partition = 0;  // mini_batch_size and the number of mini-batches
  std::uint64_t output = 0;    // output file, output_action, header setting
  std::uint64_t script = 0;    // the entry script's path and content
};

// A change to the output the journal describes, finished idempotently when the journal is next opened:
// truncate the output to truncate_to, then append the file `tail` (deleted afterwards).
struct PendingRewrite {
  std::uint64_t truncate_to = 0;
  std::string tail;  // path of the bytes to append
};

// How a mini-batch ended for good.
struct BatchEnd {
  bool succeeded = false;
  bool with_header = false;   // its region starts with the DataFrame header line
  std::uint32_t attempts = 0;  // the attempt that ended it
  std::uint64_t offset = 0;   // its rows in the output: [offset, offset + length)
  std::uint64_t length = 0;
  std::uint64_t items_ok = 0;  // successful items
  std::uint32_t header_length = 0;  // with with_header: bytes of the header line at the region's start
  std::uint32_t checksum = 0;  // CRC-32C of the region's bytes (0 for none)
};

// Everything a journal says.
struct JournalState {
  PlanFingerprint plan;
  std::uint64_t batch_count = 0;
  std::optional<PendingRewrite> pending;
  std::vector<std::uint32_t> tries;             // attempts started per batch (abandoned ones taken back)
  std::vector<std::optional<BatchEnd>> ended;  // per batch
  std::uint64_t records = 0;                   // whole records read
  bool torn_tail = false;                      // a partial or damaged last record was dropped
  bool listing_open = false;  // the listing had not ended: plan.listing and planned are of its first batches
  std::uint64_t planned = 0;  // mini-batches the journal's plan names (batch_count, or fewer while listing_open)
};

// Appends records to a journal; writes happen in flush(), syncs in sync_if_due().
class JournalWriter {
 public:
  // Creates (replacing) a journal with its header and the given state's records. Throws prs::Error naming the path.
  static JournalWriter create(const std::string& path, const JournalState& state);
  JournalWriter() = default;
  JournalWriter(JournalWriter&& other) noexcept;
  JournalWriter& operator=(JournalWriter&& other) noexcept;
  JournalWriter(const JournalWriter&) = delete;
  JournalWriter& operator=(const JournalWriter&) = delete;
  ~JournalWriter();  // flushes; never throws

  // Records that an attempt of a batch was sent to a worker.
  void dispatched(std::uint64_t batch, std::uint32_t attempt, int worker);
  // Records that the worker answered for the batch's attempt (it no longer runs it).
  void resulted(std::uint64_t batch);
  // Takes back an attempt that never ran to its end (cancelled, or interrupted by a drain).
  void abandoned(std::uint64_t batch);
  // Records that a batch ended; its rows (if any) are in the output.
  void ended(std::uint64_t batch, const BatchEnd& end);
  // Records that the plan now has `batches` mini-batches whose listing has fingerprint `listing`, and whether the
  // listing goes on. Flush and sync() it before any of the new batches is dispatched.
  void planned(std::uint64_t batches, std::uint64_t listing, bool listing_open);
  // fsyncs now. Throws prs::Fatal.
  void sync();
  // Writes the buffered records with one write(2). Throws prs::Fatal on a write error.
  void flush();
  // fsyncs when the last sync is older than the interval (bounds what a crash of the node can lose).
  void sync_if_due(double interval_seconds = 5.0);
  // Bytes written so far (header included).
  std::uint64_t bytes() const { return written_ + buffer_.size(); }
  // Seconds spent in write(2) and fsync(2) so far: the journal's cost to the master's loop.
  double seconds() const { return seconds_; }

 private:
  void add(std::uint8_t kind, std::uint64_t batch, const BatchEnd& end);
  int fd_ = -1;
  std::string path_;
  std::string buffer_;
  std::uint64_t written_ = 0;
  double last_sync_ = 0;
  double seconds_ = 0;
};

// What a journal's header says, with what its planned records made of the plan.
struct JournalHeader {
  PlanFingerprint plan;
  std::uint64_t batch_count = 0;  // mini-batches of the plan (the first ones of the job while listing_open)
  std::optional<PendingRewrite> pending;
  bool listing_open = false;  // the listing had not ended when the journal was last written
};

// Reads a journal's plan (to compare plans before anything is sized by its counts): the header and its planned
// records. Throws prs::Error when the file is missing, not a journal, from another prs_mpi version, or damaged.
JournalHeader read_journal_header(const std::string& path);

// Reads a journal of a job with batch_count mini-batches, dropping a torn last record. Throws prs::Error when it is
// missing, not a journal, from another version, for another batch count (more than batch_count while its listing
// was open), or damaged before its last record.
JournalState read_journal(const std::string& path, std::uint64_t batch_count);

// parse_journal_header and parse_journal: the same from bytes in memory (name: the path, for messages).
JournalHeader parse_journal_header(const std::string& bytes, const std::string& name);
// See parse_journal_header.
JournalState parse_journal(const std::string& bytes, std::uint64_t batch_count, const std::string& name);

// A new, empty state for a plan.
JournalState fresh_journal(const PlanFingerprint& plan, std::uint64_t batch_count);

// Finishes a pending rewrite of the output (idempotent: a missing tail file means it was done). Throws prs::Error.
void finish_pending_rewrite(const std::string& output, const PendingRewrite& pending);

}  // namespace prs
