#include "prs/input/partition.hpp"

#include <algorithm>
#include <string>

#include "prs/error.hpp"

namespace prs {

Partition::Partition(std::uint64_t item_count, std::uint64_t batch_size)
    : item_count_(item_count), batch_size_(batch_size) {
  if (batch_size == 0) throw Error("mini_batch_size: must be at least 1, got 0");
}

Partition::Partition(std::vector<std::uint64_t> starts)
    : item_count_(starts.empty() ? 0 : starts.back()), batch_size_(0), starts_(std::move(starts)) {
  if (starts_.empty()) starts_.push_back(0);
}

// Written without item_count + batch_size - 1, which wraps for sizes near 2^64 (and made 0 mini-batches).
std::uint64_t Partition::batch_count() const {
  if (batch_size_ == 0) return starts_.size() - 1;
  return item_count_ / batch_size_ + (item_count_ % batch_size_ != 0 ? 1 : 0);
}

ItemRange Partition::batch(std::uint64_t id) const {
  if (id >= batch_count()) {
    throw Fatal("internal error: mini-batch " + std::to_string(id) + " of " + std::to_string(batch_count()));
  }
  if (batch_size_ == 0) return {starts_[id], starts_[id + 1] - starts_[id]};
  const std::uint64_t first = id * batch_size_;  // < item_count_ for every id < batch_count(): no overflow
  return {first, std::min(batch_size_, item_count_ - first)};
}

Partition streamed_partition(std::uint64_t listed, std::uint64_t batch_size, bool ended) {
  if (batch_size == 0) return Partition(listed, 0);  // throws
  return Partition(ended ? listed : listed - listed % batch_size, batch_size);
}

}  // namespace prs
