#pragma once
// A shared memory region for big outcomes' rows between a worker rank and its Python process: the rank creates it
// (a memfd) when it starts the process, which finds it on fd 5; the process puts a mini-batch's rows there and its
// outcome frame carries only where they are; the rank writes them to the output straight from there once the
// master commits them, and releases the block after the write or a discard.
//
// A ring with one writer and one releaser. Positions only grow; a block never wraps (the bytes left before the end
// are skipped and belong to the block). The Python process reserves at its head; the rank releases blocks in any
// order and moves the tail (in the region's first page) past the oldest released ones. A block that does not fit
// makes the Python process send its rows through the pipe: it never waits for the rank. A region lives as long as
// the blocks the rank holds in it: a fresh Python process gets a fresh region.
#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string_view>

namespace prs {

// The descriptor the Python process finds the region on (none: rows go through the pipe).
constexpr int kLinkRegionFd = 5;

// Rows smaller than this go through the pipe (one write; the region is for the big ones).
constexpr std::uint64_t kRegionMinRows = std::uint64_t{256} << 10;

// Default bytes of a region; PRS_ROW_REGION_BYTES overrides it (0: no region).
constexpr std::uint64_t kRegionDefaultBytes = std::uint64_t{64} << 20;

// The region's bytes for a rank: PRS_ROW_REGION_BYTES if set (a number of bytes), else the default.
std::uint64_t region_bytes_from_env();

// A block of the ring: offset and length of the rows in the data area, and the ring position after the block.
struct RegionSpan {
  std::uint64_t offset = 0;  // in the data area
  std::uint64_t length = 0;  // bytes of rows; 0: no block
  std::uint64_t end = 0;     // ring position just after the block (its release key)
};

// The writer's side of the ring, without memory: where the next block of n bytes goes, if it fits.
class RingHead {
 public:
  explicit RingHead(std::uint64_t capacity) : capacity_(capacity) {}
  // A block of n > 0 bytes given the releaser's tail, advancing the head; nullopt if it does not fit now.
  std::optional<RegionSpan> reserve(std::uint64_t n, std::uint64_t tail);

 private:
  std::uint64_t capacity_;
  std::uint64_t head_ = 0;
};

// The releaser's side of the ring, without memory: blocks as they arrive, released in any order.
class RingTail {
 public:
  // A block the writer reserved (in the order it reserved them: the order its frames arrive).
  void received(std::uint64_t end) { blocks_.push_back({end, false}); }
  // Releases the block ending at `end`; returns the new tail (the end of the oldest run of released blocks).
  std::uint64_t release(std::uint64_t end);
  // The tail: every byte before it is free.
  std::uint64_t tail() const { return tail_; }
  // Blocks received and not yet behind the tail.
  std::size_t pending() const { return blocks_.size(); }

 private:
  struct Block {
    std::uint64_t end;
    bool released;
  };
  std::deque<Block> blocks_;
  std::uint64_t tail_ = 0;
};

// A memfd mapped shared: a first page holding the tail, then the data. Move-only; unmaps and closes on destruction.
class SharedMapping {
 public:
  // A fresh region of `capacity` data bytes (the rank). Throws prs::Fatal.
  static SharedMapping create(std::uint64_t capacity);
  // The region on fd (the Python process; the fd is kept). Throws prs::Fatal if it is not one.
  static SharedMapping attach(int fd);
  SharedMapping() = default;
  SharedMapping(SharedMapping&& other) noexcept;
  SharedMapping& operator=(SharedMapping&& other) noexcept;
  SharedMapping(const SharedMapping&) = delete;
  SharedMapping& operator=(const SharedMapping&) = delete;
  ~SharedMapping();

  // The memfd (the rank passes it to the Python process).
  int fd() const { return fd_; }
  // Bytes of the data area.
  std::uint64_t capacity() const { return capacity_; }
  // The data area.
  char* data() const { return base_ == nullptr ? nullptr : base_ + kHeaderBytes; }
  // The tail the releaser publishes and the writer reads.
  std::atomic<std::uint64_t>& tail() const { return *reinterpret_cast<std::atomic<std::uint64_t>*>(base_); }

 private:
  static constexpr std::uint64_t kHeaderBytes = 4096;
  int fd_ = -1;
  char* base_ = nullptr;
  std::uint64_t capacity_ = 0;
};

// The rank's region: the mapping and the blocks it holds. Shared by the blocks (a RegionBlock keeps it alive).
class RowRegion : public std::enable_shared_from_this<RowRegion> {
 public:
  // A region of `capacity` data bytes. Throws prs::Fatal.
  static std::shared_ptr<RowRegion> create(std::uint64_t capacity);
  // The memfd to hand to the Python process.
  int fd() const { return map_.fd(); }
  // Bytes of the data area.
  std::uint64_t capacity() const { return map_.capacity(); }
  // The bytes of a span; throws prs::Fatal if it is not within the data area.
  std::string_view bytes(const RegionSpan& span) const;
  // Takes a block the Python process reserved (in the order of its frames).
  void received(const RegionSpan& span) { ring_.received(span.end); }
  // Releases a block: its bytes may be reused.
  void release(std::uint64_t end);
  // Blocks not yet behind the tail (tests).
  std::size_t pending() const { return ring_.pending(); }

 private:
  SharedMapping map_;
  RingTail ring_;
};

// A block of rows held in a region, released when destroyed. Move-only.
class RegionBlock {
 public:
  RegionBlock() = default;
  // Takes the block `span` of `region` (RowRegion::received first).
  RegionBlock(std::shared_ptr<RowRegion> region, const RegionSpan& span);
  RegionBlock(RegionBlock&& other) noexcept;
  RegionBlock& operator=(RegionBlock&& other) noexcept;
  RegionBlock(const RegionBlock&) = delete;
  RegionBlock& operator=(const RegionBlock&) = delete;
  ~RegionBlock() { reset(); }

  // The rows ("" for no block).
  std::string_view bytes() const { return region_ ? region_->bytes(span_) : std::string_view(); }
  // Releases the block now (nothing if none).
  void reset();

 private:
  std::shared_ptr<RowRegion> region_;
  RegionSpan span_;
};

// The Python process's side: the mapping on kLinkRegionFd, if the rank gave one, and the ring's head.
class RegionWriter {
 public:
  // Attaches to kLinkRegionFd if it is a region; else a writer that never takes rows.
  static RegionWriter from_link();
  // A writer on a mapping (tests).
  explicit RegionWriter(SharedMapping map) : map_(std::move(map)), head_(map_.capacity()) {}
  RegionWriter() : head_(0) {}
  // Copies rows into a fresh block; nullopt (nothing copied) if there is no region, the rows are under
  // kRegionMinRows (or min_rows), or the block does not fit now.
  std::optional<RegionSpan> put(std::string_view rows, std::uint64_t min_rows = kRegionMinRows);

 private:
  SharedMapping map_;
  RingHead head_;
};

}  // namespace prs
