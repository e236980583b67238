// The master loop's side of a listing that goes on (listing_feed.hpp): pull what it listed when the queue runs
// low, journal the larger plan (written and synced before any new batch is dispatched), hand it out; and what the
// end of the listing, or its failure, does to the job.
#include <iostream>

#include "master_loop.hpp"
#include "prs/error.hpp"

namespace prs::master_detail {

void Master::pull_listing() {
  if (listing_ == nullptr || stopping_) return;
  const std::uint64_t low = static_cast<std::uint64_t>(kListingLowWater) * std::max(1, roster_.may_work());
  if (scheduler_.waiting() >= low) return;
  ListingFeed::Step step;
  try {
    step = listing_->pull();
  } catch (const Error& e) {
    return listing_failed(e.what());
  }
  if (!step.grew && !step.ended) return;
  scheduler_.grow(plan_.partition, !step.ended);
  journal_.planned(plan_.partition.batch_count(), listing_->plan().listing, !step.ended);
  journal_.sync();  // the plan that names them is on disk before any of them is dispatched
  rules_.progress(now());
  if (step.ended) listing_ended();
  for (int r = 1; r < roster_.world_size(); ++r)
    if (roster_.at(r).state == WorkerState::active) top_up(r);
  feed();
}

// Once the listing ended: what the whole listing tells (its size, the paths it skipped) and that dispatch had
// begun before it (for the benchmarks and the tests: the point of listing while dispatching).
void Master::listing_ended() {
  const JobCounts& c = scheduler_.counts();
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", listing_->seconds());
  logs_.master_note("listing ended: " + std::to_string(listing_->listed()) + " files, " + std::to_string(c.batches) +
                    " mini-batches, in " + seconds + " s; " + std::to_string(c.attempts) +
                    " attempts were dispatched before it ended");
  const std::string skipped = skipped_paths_line(plan_.files);
  if (!skipped.empty()) {
    std::cerr << "prs_mpi: warning: " << skipped << std::endl;
    logs_.master_note(skipped_paths_line(plan_.files, plan_.files.skipped().size()));
  }
  trace_.span(0, "listing (while dispatching)", "startup", now() - listing_->seconds(), listing_->seconds());
  listing_ = nullptr;
}

// A path the listing cannot read after mini-batches ran: the same error as before any ran (exit 2); nothing more
// is dispatched, running mini-batches end within drain_grace, and the journal names what committed, so --resume
// continues once the input is fixed (its first mini-batches are compared with the new listing's).
void Master::listing_failed(const std::string& what) {
  std::cerr << "prs_mpi: error: " << what << std::endl;
  logs_.master_note("the listing failed: " + what);
  const std::uint64_t planned = scheduler_.counts().batches;
  listing_ = nullptr;
  stop(ExitCode::usage,
       "the input listing failed after " + std::to_string(planned) + " mini-batches were listed; fix the input and "
       "continue with --resume",
       plan_.stop.drain_grace);
}

}  // namespace prs::master_detail
