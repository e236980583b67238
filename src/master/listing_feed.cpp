// The plan of a job whose listing goes on (listing_feed.hpp).
#include "prs/master/listing_feed.hpp"

namespace prs {

ListingFeed::ListingFeed(ListingStream& stream, FileList& files, Partition& partition, std::uint64_t batch_size,
                         const PlanFingerprint& base)
    : stream_(stream), files_(files), partition_(partition), batch_size_(batch_size), base_(base) {
  partition_ = streamed_partition(files_.size(), batch_size_, false);
  hash_planned();
}

void ListingFeed::hash_planned() {
  for (; hashed_ < partition_.item_count(); ++hashed_) hash_.add(files_.at(hashed_), files_.stamp(hashed_));
}

ListingFeed::Step ListingFeed::pull() {
  if (ended_) return {};
  const bool ended = stream_.take(files_);
  Partition next = streamed_partition(files_.size(), batch_size_, ended);
  Step step{next.batch_count() > partition_.batch_count(), ended};
  partition_ = next;
  ended_ = ended;
  hash_planned();
  return step;
}

PlanFingerprint ListingFeed::plan() const {
  PlanFingerprint p = base_;
  p.listing = hash_.value();
  return p;
}

}  // namespace prs
