#pragma once
// How the input items are cut into mini-batches, numbered densely in input order.
#include <cstdint>
#include <vector>

namespace prs {

// A contiguous range of input items: [first, first + count).
struct ItemRange {
  std::uint64_t first = 0;  // index of the first item
  std::uint64_t count = 0;  // number of items
};

// Cuts item_count items into mini-batches of batch_size items (the last one may be shorter), or of given starts.
class Partition {
 public:
  // Throws prs::Error when batch_size is 0.
  Partition(std::uint64_t item_count, std::uint64_t batch_size);
  // Mini-batch b holds items [starts[b], starts[b + 1]); starts ascends from 0 to the item count (partition_keys).
  explicit Partition(std::vector<std::uint64_t> starts);
  // Number of items in all.
  std::uint64_t item_count() const { return item_count_; }
  // Number of mini-batches.
  std::uint64_t batch_count() const;
  // The items of mini-batch id (0-based, < batch_count()).
  ItemRange batch(std::uint64_t id) const;

 private:
  std::uint64_t item_count_;
  std::uint64_t batch_size_;
  std::vector<std::uint64_t> starts_;  // given starts (then batch_size_ is 0)
};

// The mini-batches of a listing that is still going on: of the `listed` paths so far only whole mini-batches (the
// last, shorter one comes once the listing ended), so that they are the first mini-batches of the whole listing's
// Partition(item_count, batch_size). Throws prs::Error when batch_size is 0.
Partition streamed_partition(std::uint64_t listed, std::uint64_t batch_size, bool ended);

}  // namespace prs
