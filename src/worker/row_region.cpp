#include "prs/worker/row_region.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <thread>
#include <utility>

#include "prs/error.hpp"

namespace prs {

namespace {

constexpr std::uint64_t kMagic = 0x3176'6572'5352'5250ull;  // "PRSRrev1", little-endian
constexpr std::size_t kHeaderBytes = 4096;

// The region's first page.
struct Header {
  std::uint64_t magic;
  std::uint32_t slots;
  std::uint32_t unused;
  std::uint64_t slot_bytes;
  std::atomic<std::uint32_t> state[kMaxRowSlots];
};
static_assert(sizeof(Header) <= kHeaderBytes, "the header is one page");
static_assert(std::atomic<std::uint32_t>::is_always_lock_free, "slot states are shared between processes");

std::string os_error(const std::string& what) { return "row region: " + what + ": " + std::strerror(errno); }

Header* header_of(char* base) { return reinterpret_cast<Header*>(base); }

}  // namespace

RegionMapping RegionMapping::create(std::uint32_t slots, std::uint64_t slot_bytes) {
  if (slots == 0 || slots > kMaxRowSlots || slot_bytes == 0 || slot_bytes % kHeaderBytes != 0)
    throw Fatal("row region: " + std::to_string(slots) + " slots of " + std::to_string(slot_bytes) +
                " bytes is not a region's layout");
  RegionMapping m;
  const int fd = ::memfd_create("prs_rows", MFD_CLOEXEC);
  if (fd < 0) throw Fatal(os_error("memfd_create"));
  m.fd_ = fcntl(fd, F_DUPFD_CLOEXEC, 10);  // never on a link fd: dup2 onto itself would keep close-on-exec
  ::close(fd);
  if (m.fd_ < 0) throw Fatal(os_error("fcntl(F_DUPFD_CLOEXEC)"));
  m.size_ = kHeaderBytes + slots * slot_bytes;
  if (::ftruncate(m.fd_, static_cast<off_t>(m.size_)) != 0) throw Fatal(os_error("ftruncate"));  // sparse
  void* p = ::mmap(nullptr, m.size_, PROT_READ | PROT_WRITE, MAP_SHARED, m.fd_, 0);
  if (p == MAP_FAILED) throw Fatal(os_error("mmap"));
  m.base_ = static_cast<char*>(p);
  m.slots_ = slots;
  m.slot_bytes_ = slot_bytes;
  Header* h = new (m.base_) Header{kMagic, slots, 0, slot_bytes, {}};
  for (auto& s : h->state) s.store(static_cast<std::uint32_t>(SlotState::free), std::memory_order_relaxed);
  return m;
}

std::optional<RegionMapping> RegionMapping::attach(int fd) {
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= static_cast<off_t>(kHeaderBytes))
    return std::nullopt;
  void* p = ::mmap(nullptr, static_cast<std::size_t>(st.st_size), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return std::nullopt;
  RegionMapping m;
  m.base_ = static_cast<char*>(p);
  m.size_ = static_cast<std::size_t>(st.st_size);
  const Header* h = header_of(m.base_);
  if (h->magic != kMagic || h->slots == 0 || h->slots > kMaxRowSlots ||
      kHeaderBytes + h->slots * h->slot_bytes != m.size_)
    return std::nullopt;  // not a region: m unmaps it, the fd is left as it was
  m.slots_ = h->slots;
  m.slot_bytes_ = h->slot_bytes;
  ::close(fd);
  return m;
}

RegionMapping::RegionMapping(RegionMapping&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)), base_(std::exchange(o.base_, nullptr)), size_(std::exchange(o.size_, 0)),
      slots_(std::exchange(o.slots_, 0)), slot_bytes_(std::exchange(o.slot_bytes_, 0)) {}

RegionMapping& RegionMapping::operator=(RegionMapping&& o) noexcept {
  std::swap(fd_, o.fd_);
  std::swap(base_, o.base_);
  std::swap(size_, o.size_);
  std::swap(slots_, o.slots_);
  std::swap(slot_bytes_, o.slot_bytes_);
  return *this;
}

RegionMapping::~RegionMapping() {
  if (base_ != nullptr) ::munmap(base_, size_);
  if (fd_ >= 0) ::close(fd_);
}

char* RegionMapping::slot(std::uint32_t k) const { return base_ + kHeaderBytes + k * slot_bytes_; }

std::atomic<std::uint32_t>& RegionMapping::state(std::uint32_t k) const { return header_of(base_)->state[k]; }

std::shared_ptr<RowRegion> RowRegion::create(std::uint32_t slots, std::uint64_t slot_bytes) {
  auto r = std::make_shared<RowRegion>();
  r->map_ = RegionMapping::create(slots, slot_bytes);
  return r;
}

std::shared_ptr<RowRegion> RowRegion::create_or_none() noexcept {
  const char* wanted = std::getenv("PRS_ROWS_REGION");
  if (wanted != nullptr && std::strcmp(wanted, "off") == 0) return nullptr;  // every mini-batch's rows by the pipe
  try {
    return create();
  } catch (const std::exception&) {
    return nullptr;
  }
}

RowLease RowRegion::lease(std::uint32_t k, std::uint64_t n, const std::string& who) {
  const auto busy = static_cast<std::uint32_t>(SlotState::busy);
  std::string wrong;
  if (k >= slots()) wrong = "there is no such slot (the region has " + std::to_string(slots()) + ")";
  else if (n == 0 || n > slot_bytes()) wrong = "a slot holds 1 to " + std::to_string(slot_bytes()) + " bytes";
  else if (leased_[k]) wrong = "the worker holds that slot's rows already";
  else if (map_.state(k).load(std::memory_order_acquire) != busy) wrong = "it never claimed that slot";
  if (!wrong.empty())
    throw Fatal("worker: " + who + " says its rows are in slot " + std::to_string(k) + ", " + std::to_string(n) +
                " bytes: " + wrong);
  leased_[k] = true;
  return RowLease(shared_from_this(), k, n);
}

std::uint32_t RowRegion::reset_unleased() {
  std::uint32_t freed = 0;
  for (std::uint32_t k = 0; k < slots(); ++k) {
    if (leased_[k]) continue;
    freed += map_.state(k).exchange(static_cast<std::uint32_t>(SlotState::free), std::memory_order_acq_rel) !=
             static_cast<std::uint32_t>(SlotState::free);
  }
  return freed;
}

std::uint32_t RowRegion::leased() const {
  std::uint32_t n = 0;
  for (std::uint32_t k = 0; k < slots(); ++k) n += leased_[k];
  return n;
}

std::uint32_t RowRegion::free_slots() const {
  std::uint32_t n = 0;
  for (std::uint32_t k = 0; k < slots(); ++k)
    n += map_.state(k).load(std::memory_order_acquire) == static_cast<std::uint32_t>(SlotState::free);
  return n;
}

void RowRegion::release(std::uint32_t k) {
  leased_[k] = false;
  map_.state(k).store(static_cast<std::uint32_t>(SlotState::free), std::memory_order_release);
}

RowLease::RowLease(RowLease&& o) noexcept
    : region_(std::move(o.region_)), slot_(o.slot_), bytes_(std::exchange(o.bytes_, 0)) {}

RowLease& RowLease::operator=(RowLease&& o) noexcept {
  if (this != &o) {
    release();
    region_ = std::move(o.region_);
    slot_ = o.slot_;
    bytes_ = std::exchange(o.bytes_, 0);
  }
  return *this;
}

std::string_view RowLease::bytes() const {
  if (!region_) return {};
  return {region_->map_.slot(slot_), static_cast<std::size_t>(bytes_)};
}

void RowLease::release() {
  if (!region_) return;
  region_->release(slot_);
  region_.reset();
  bytes_ = 0;
}

SlotWriter SlotWriter::attach(int fd) {
  auto map = RegionMapping::attach(fd);
  return map ? SlotWriter(std::move(*map)) : SlotWriter();
}

std::optional<std::uint32_t> SlotWriter::claim() {
  for (std::uint32_t k = 0; k < map_.slots(); ++k) {
    auto expected = static_cast<std::uint32_t>(SlotState::free);
    if (map_.state(k).compare_exchange_strong(expected, static_cast<std::uint32_t>(SlotState::busy),
                                              std::memory_order_acquire))
      return k;
  }
  return std::nullopt;
}

std::optional<std::uint32_t> SlotWriter::wait_for_slot(std::chrono::milliseconds patience) {
  const auto until = std::chrono::steady_clock::now() + patience;
  while (std::chrono::steady_clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::microseconds(50));  // ~80 us on a VM; a write of 4 MiB takes ~1 ms
    if (auto k = claim()) return k;
  }
  patient_ = false;
  return std::nullopt;
}

std::optional<std::uint32_t> SlotWriter::put(std::string_view rows, std::chrono::milliseconds patience) {
  if (rows.empty() || rows.size() > map_.slot_bytes()) return std::nullopt;
  std::optional<std::uint32_t> k = claim();
  if (k) patient_ = true;
  else if (patient_ && rows.size() >= kSlotWaitBytes) k = wait_for_slot(patience);
  if (!k) return std::nullopt;
  std::memcpy(map_.slot(*k), rows.data(), rows.size());
  return k;
}

}  // namespace prs
