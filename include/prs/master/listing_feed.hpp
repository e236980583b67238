#pragma once
// Rank 0's side of a listing that goes on while the master dispatches (input/listing_stream.hpp): the paths the
// listing thread released join the job's file list, in order, on the master's thread, and whole mini-batches of
// them join the plan (the last, shorter one once the listing ended), so that the plan is always the first
// mini-batches of the whole listing's partition. No MPI: the master loop journals and dispatches what pull() adds.
#include <cstdint>

#include "prs/input/file_list.hpp"
#include "prs/input/listing_stream.hpp"
#include "prs/input/partition.hpp"
#include "prs/master/journal.hpp"
#include "prs/master/resume.hpp"

namespace prs {

// The plan of a job whose listing goes on.
class ListingFeed {
 public:
  // files: the paths taken so far; partition is set to their whole mini-batches. base: the fingerprint of
  // everything but the listing (mini_batch_size, the output, the entry script).
  ListingFeed(ListingStream& stream, FileList& files, Partition& partition, std::uint64_t batch_size,
              const PlanFingerprint& base);

  // What a pull changed.
  struct Step {
    bool grew = false;   // the plan has more mini-batches
    bool ended = false;  // the listing ended just now: the plan is whole
  };
  // Takes what the listing released since the last pull. Throws prs::Error: the listing's error.
  Step pull();
  // The listing ended and every path is in the plan.
  bool ended() const { return ended_; }
  // The fingerprint of the plan so far: the listing part covers its mini-batches' files only.
  PlanFingerprint plan() const;
  // Paths listed so far (some may wait for their mini-batch to fill).
  std::uint64_t listed() const { return files_.size(); }
  // The walk's seconds (0 until it ended).
  double seconds() const { return stream_.seconds(); }

 private:
  void hash_planned();

  ListingStream& stream_;
  FileList& files_;
  Partition& partition_;
  std::uint64_t batch_size_;
  PlanFingerprint base_;
  ListingHash hash_;
  std::uint64_t hashed_ = 0;  // files in hash_
  bool ended_ = false;
};

}  // namespace prs
