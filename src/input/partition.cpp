#include "prs/input/partition.hpp"

#include <algorithm>

#include "prs/error.hpp"

namespace prs {

Partition::Partition(std::uint64_t item_count, std::uint64_t batch_size)
    : item_count_(item_count), batch_size_(batch_size) {
  if (batch_size == 0) throw Error("mini_batch_size: must be at least 1, got 0");
}

std::uint64_t Partition::batch_count() const { return (item_count_ + batch_size_ - 1) / batch_size_; }

ItemRange Partition::batch(std::uint64_t id) const {
  std::uint64_t first = id * batch_size_;
  return {first, std::min(batch_size_, item_count_ - first)};
}

}  // namespace prs
