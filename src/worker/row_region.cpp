#include "prs/worker/row_region.hpp"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>

#include "prs/error.hpp"

namespace prs {

namespace {

std::string os_error(const std::string& what) { return "row region: " + what + ": " + std::strerror(errno); }

}  // namespace

std::uint64_t region_bytes_from_env() {
  const char* v = std::getenv("PRS_ROW_REGION_BYTES");
  if (v == nullptr || *v == '\0') return kRegionDefaultBytes;
  char* end = nullptr;
  const unsigned long long n = std::strtoull(v, &end, 10);
  if (*end != '\0') throw Error(std::string("PRS_ROW_REGION_BYTES: must be a number of bytes, got ") + v);
  return n;
}

std::optional<RegionSpan> RingHead::reserve(std::uint64_t n, std::uint64_t tail) {
  if (n == 0 || n > capacity_) return std::nullopt;
  const std::uint64_t at = head_ % capacity_;
  const std::uint64_t skip = at + n > capacity_ ? capacity_ - at : 0;  // a block never wraps
  if (head_ - tail + skip + n > capacity_) return std::nullopt;
  head_ += skip + n;
  return RegionSpan{skip > 0 ? 0 : at, n, head_};
}

std::uint64_t RingTail::release(std::uint64_t end) {
  auto it = blocks_.begin();
  while (it != blocks_.end() && it->end != end) ++it;
  if (it == blocks_.end() || it->released)
    throw Fatal("row region: release of a block it does not hold (ending at " + std::to_string(end) + ")");
  it->released = true;
  while (!blocks_.empty() && blocks_.front().released) {
    tail_ = blocks_.front().end;
    blocks_.pop_front();
  }
  return tail_;
}

SharedMapping SharedMapping::create(std::uint64_t capacity) {
  SharedMapping m;
  m.fd_ = ::memfd_create("prs_rows", MFD_CLOEXEC);
  if (m.fd_ < 0) throw Fatal(os_error("memfd_create"));
  const std::uint64_t size = kHeaderBytes + capacity;
  if (::ftruncate(m.fd_, static_cast<off_t>(size)) != 0) throw Fatal(os_error("ftruncate"));
  void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd_, 0);
  if (p == MAP_FAILED) throw Fatal(os_error("mmap"));
  m.base_ = static_cast<char*>(p);
  m.capacity_ = capacity;
  new (m.base_) std::atomic<std::uint64_t>(0);
  return m;
}

SharedMapping SharedMapping::attach(int fd) {
  struct stat st{};
  if (::fstat(fd, &st) != 0) throw Fatal(os_error("fstat"));
  if (static_cast<std::uint64_t>(st.st_size) <= kHeaderBytes)
    throw Fatal("row region: fd " + std::to_string(fd) + " is not a region (" + std::to_string(st.st_size) +
                " bytes)");
  void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) throw Fatal(os_error("mmap"));
  SharedMapping m;
  m.fd_ = fd;
  m.base_ = static_cast<char*>(p);
  m.capacity_ = static_cast<std::uint64_t>(st.st_size) - kHeaderBytes;
  return m;
}

SharedMapping::SharedMapping(SharedMapping&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), base_(std::exchange(o.base_, nullptr)), capacity_(std::exchange(o.capacity_, 0)) {}

SharedMapping& SharedMapping::operator=(SharedMapping&& o) noexcept {
  std::swap(fd_, o.fd_);
  std::swap(base_, o.base_);
  std::swap(capacity_, o.capacity_);
  return *this;
}

SharedMapping::~SharedMapping() {
  if (base_ != nullptr) ::munmap(base_, kHeaderBytes + capacity_);
  if (fd_ >= 0) ::close(fd_);
}

std::shared_ptr<RowRegion> RowRegion::create(std::uint64_t capacity) {
  auto r = std::make_shared<RowRegion>();
  r->map_ = SharedMapping::create(capacity);
  return r;
}

std::string_view RowRegion::bytes(const RegionSpan& s) const {
  if (s.length > map_.capacity() || s.offset > map_.capacity() - s.length)
    throw Fatal("python link: rows at " + std::to_string(s.offset) + " (" + std::to_string(s.length) +
                " bytes) are outside the row region of " + std::to_string(map_.capacity()) + " bytes");
  return {map_.data() + s.offset, static_cast<std::size_t>(s.length)};
}

void RowRegion::release(std::uint64_t end) {
  map_.tail().store(ring_.release(end), std::memory_order_release);
}

RegionBlock::RegionBlock(std::shared_ptr<RowRegion> region, const RegionSpan& span)
    : region_(std::move(region)), span_(span) {}

RegionBlock::RegionBlock(RegionBlock&& o) noexcept : region_(std::move(o.region_)), span_(o.span_) {}

RegionBlock& RegionBlock::operator=(RegionBlock&& o) noexcept {
  if (this != &o) {
    reset();
    region_ = std::move(o.region_);
    span_ = o.span_;
  }
  return *this;
}

void RegionBlock::reset() {
  if (!region_) return;
  try {
    region_->release(span_.end);
  } catch (...) {  // a block it never held: nothing to give back (never thrown for a block made by received)
  }
  region_.reset();
}

RegionWriter RegionWriter::from_link() {
  struct stat st{};
  if (::fstat(kLinkRegionFd, &st) != 0 || !S_ISREG(st.st_mode)) return RegionWriter();
  return RegionWriter(SharedMapping::attach(kLinkRegionFd));
}

std::optional<RegionSpan> RegionWriter::put(std::string_view rows, std::uint64_t min_rows) {
  if (map_.data() == nullptr || rows.size() < min_rows) return std::nullopt;
  auto span = head_.reserve(rows.size(), map_.tail().load(std::memory_order_acquire));
  if (span) std::memcpy(map_.data() + span->offset, rows.data(), rows.size());
  return span;
}

}  // namespace prs
