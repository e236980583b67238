#pragma once
// --resume: the plan's fingerprint, the check against the journal, and the output put back to exactly the rows
// the journal names (bytes of batches that never committed — holes, half-written rows — are removed).
//
// Before that, the output is checked against the journal: every committed range must still be in the file with the
// CRC-32C its worker reported. A range that is not (the file deleted, truncated or overwritten since) is lost: its
// mini-batch runs again. Its attempts are kept, capped at max_retries so that it has at least one left (the loss is
// not the entry script's fault). A lost range that carried the DataFrame header line takes every range with it, so
// that the header is written again at the top.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "prs/config/config.hpp"
#include "prs/input/file_list.hpp"
#include "prs/input/partition.hpp"
#include "prs/input/table_plan.hpp"
#include "prs/master/journal.hpp"
#include "prs/output/h5_layout.hpp"

namespace prs {

// The listing part of a fingerprint, fed path by path in listing order (a streamed listing hashes its first
// mini-batches as they come); the same value as the whole listing's once every path is in.
class ListingHash {
 public:
  // Adds a path with its stamp (a path the listing did not stat is stat()ed here; prs::Error if it vanished).
  void add(std::string_view path, FileStamp stamp);
  // The fingerprint of the paths added so far.
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 1469598103934665603ull;
};

// The listing fingerprint of the first `count` files of a list.
std::uint64_t hash_listing(const FileList& files, std::uint64_t count);

// For a journal whose listing never ended (a crash while rank 0 still listed): the plan of the new listing's
// first `batches` mini-batches, or nullopt when it has fewer. Empty for a table (its journal always has a whole plan).
using PrefixPlan = std::function<std::optional<PlanFingerprint>(std::uint64_t batches)>;

// Hashes what must not change between a run and its resume: the listing (paths, sizes, modification times), the
// partition, the output settings and the entry script (path and content). Throws prs::Error if a file vanished.
PlanFingerprint fingerprint_plan(const JobConfig& config, const FileList& files, const Partition& partition);
// The same for a tabular input: its files' listing, and every cut with the MLTable file's text as the partition.
PlanFingerprint fingerprint_plan(const JobConfig& config, const MLTable& table, const TablePlan& plan);

// The part of the fingerprint known before any listing: the output settings and the entry script (listing and
// partition 0). Enough to tell whether an output is this job's earlier output.
PlanFingerprint fingerprint_settings(const JobConfig& config);

// What changed between two fingerprints, as a sentence ("the input files (added, removed or modified)"); "" if none.
std::string describe_plan_change(const PlanFingerprint& before, const PlanFingerprint& now);

// Where a resumed job starts.
struct ResumePoint {
  JournalState state;           // batches, tries and ends, with offsets in the compacted output
  std::uint64_t output_size = 0;  // committed bytes: new rows go after them
  std::uint64_t removed_bytes = 0;  // bytes dropped from the output (not named by the journal)
  std::uint64_t lost_batches = 0;   // committed mini-batches whose rows the output no longer holds: they run again
  std::uint64_t checked_bytes = 0;  // committed bytes read back and checked against their checksums
  double check_seconds = 0;         // the time that took
};

// Refuses a --resume with no journal ("nothing to resume"), before anything is listed or written.
void check_journal_exists(const JobConfig& config);

// Refuses, before anything is written, a --resume with no journal or with a changed plan (prs::Error naming what
// changed and --overwrite); a journal whose listing never ended is compared with prefix's plan of as many
// mini-batches. prepare_resume checks the same again under the job lock.
void check_resumable(const JobConfig& config, const PlanFingerprint& plan, const PrefixPlan& prefix = {});

// Reads the journal of a job of batch_count mini-batches, refuses a changed plan (prs::Error naming what changed and
// --overwrite) or a damaged journal, recreates a missing output, finishes a pending rewrite, drops the rows of
// failed batches when retry_failed, takes back the batches whose rows the output lost, and compacts the output
// (crash-safe: the journal is rewritten first with a pending rewrite that finish_pending_rewrite completes
// idempotently). A journal whose listing never ended is checked as check_resumable says; its state then takes the
// new plan, which is the first batch_count mini-batches of a listing that goes on when plan_open.
ResumePoint prepare_resume(const JobConfig& config, const PlanFingerprint& plan, std::uint64_t batch_count,
                           bool retry_failed, const PrefixPlan& prefix = {}, bool plan_open = false);

// Rewrites the output so that batches' rows follow in batch order (ordered: true); crash-safe like compaction.
// Returns the state with the new offsets and checksums.
JournalState order_output(const std::string& output, const std::string& journal, JournalState state);

// The committed row records of a .h5 output in the .h5's row order: mini-batch order with ordered (the build orders
// them; the staging file is not rewritten), else the staging file's (commit order, as the rows of a text output).
std::vector<StagedRecord> h5_staged_records(const JournalState& state, bool ordered);

}  // namespace prs
