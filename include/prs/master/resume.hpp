#pragma once
// --resume: the plan's fingerprint, the check against the journal, and the output put back to exactly the rows
// the journal names (bytes of batches that never committed — holes, half-written rows — are removed).
#include <cstdint>
#include <string>

#include "prs/config/config.hpp"
#include "prs/input/file_list.hpp"
#include "prs/input/partition.hpp"
#include "prs/master/journal.hpp"

namespace prs {

// Hashes what must not change between a run and its resume: the listing (paths, sizes, modification times), the
// partition, the output settings and the entry script (path and content). Throws prs::Error if a file vanished.
PlanFingerprint fingerprint_plan(const JobConfig& config, const FileList& files, const Partition& partition);

// What changed between two fingerprints, as a sentence ("the input files (added, removed or modified)"); "" if none.
std::string describe_plan_change(const PlanFingerprint& before, const PlanFingerprint& now);

// Where a resumed job starts.
struct ResumePoint {
  JournalState state;           // batches, tries and ends, with offsets in the compacted output
  std::uint64_t output_size = 0;  // committed bytes: new rows go after them
  std::uint64_t removed_bytes = 0;  // bytes dropped from the output (not named by the journal)
};

// Reads the journal, refuses a changed plan (prs::Error naming what changed and --overwrite), finishes a pending
// rewrite, drops the rows of failed batches when retry_failed, and compacts the output (crash-safe: the journal is
// rewritten first with a pending rewrite that finish_pending_rewrite completes idempotently).
ResumePoint prepare_resume(const JobConfig& config, const PlanFingerprint& plan, bool retry_failed);

// Rewrites the output so that batches' rows follow in batch order (ordered: true); crash-safe like compaction.
// Returns the state with the new offsets.
JournalState order_output(const std::string& output, const std::string& journal, JournalState state);

}  // namespace prs
