#pragma once
// The rows region: a memfd a worker rank shares with its Python process, so that a mini-batch's rows reach the rank
// without going through the pipe (two kernel copies and the rank's receive buffer).
//
// The rank creates it once (before its first Python process, or with the prestarted one) and keeps it for its whole
// life: every Python process it starts (a restart after a crash, an init() death, a timeout kill, a recycle, a
// prestarted process's re-exec) finds it on kRowRegionFd and maps it once. The first page is the header (geometry
// and one state per slot, std::atomic<std::uint32_t>, lock-free in the shared mapping); the slots follow, each of a
// fixed size. The Python process claims a free slot (free -> busy, compare-and-swap), copies a mini-batch's rows in
// and sends "rows in slot k, n bytes" in its outcome frame; the rank checks k and n, leases the slot (RowLease: it
// holds the rows until the master's commit or discard) and writes and sums them straight from the mapping; the
// lease's end frees the slot. Rows that do not fit a slot, or find no free slot, go through the pipe as before; only
// rows of kSlotWaitBytes or more first wait for a slot, and never longer than kSlotPatience. When a Python process
// dies or is replaced, the rank frees the slots it claimed and never handed over (reset_unleased); the slots the
// rank leased stay its own.
#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace prs {

// The descriptor every Python process finds the region on, next to the link's kLinkInFd and kLinkOutFd.
constexpr int kRowRegionFd = 5;

// Slots of a rank's region. 8: the deepest queue a Python process is handed (PythonSupervisor's ceiling). A Python
// process that formats faster than its rank writes still fills them (benchmarks/README.md, Output bandwidth: 3-23%
// of 4 MiB mini-batches then took the pipe; now they wait for a slot, kSlotWaitBytes); more would only hold more
// rows behind the writes.
constexpr std::uint32_t kRowSlots = 8;

// Bytes of a slot. 4 MiB: a mini-batch of the output benchmark (benchmarks/output_bandwidth.py) fits, and the region
// stays at 32 MiB a worker. A memfd's pages exist only once rows were put there (40 rows of 100 B use one page) and
// then stay until the worker ends, so a job with small mini-batches pays a few pages, one with MB-sized ones at most
// the 32 MiB. Bigger rows take the pipe.
constexpr std::uint64_t kRowSlotBytes = std::uint64_t{4} << 20;

// Rows of at least this many bytes wait for a slot when every slot is busy (the rank frees one with each write),
// rather than go through the pipe: there they cost the rank, which is then the slower side, two more copies (the
// pipe's) of every byte. Smaller rows take the pipe at once, as its copies cost less than a wait for a commit.
constexpr std::uint64_t kSlotWaitBytes = std::uint64_t{256} << 10;

// The longest such a wait. A wait that runs out (the master is slow to commit, say) sends the rows by the pipe, and
// the next rows wait again only once a slot was free when they came: one wait at most per such stall.
constexpr std::chrono::milliseconds kSlotPatience{20};

// Most slots a region may have (its header holds their states in one page).
constexpr std::uint32_t kMaxRowSlots = 256;

// A slot's state in the shared header.
enum class SlotState : std::uint32_t { free = 0, busy = 1 };

// A memfd mapped shared: the header page, then the slots. Move-only; unmaps and closes on destruction.
class RegionMapping {
 public:
  // A fresh region of `slots` slots of `slot_bytes` (the rank); its fd is close-on-exec and above the link's fds.
  // Throws prs::Fatal.
  static RegionMapping create(std::uint32_t slots, std::uint64_t slot_bytes);
  // The region on fd (the Python process), or nullopt if fd is not one (not open, not a memfd of this layout). A
  // region's fd is closed (the mapping stays, and nothing the script starts inherits it); any other is left alone.
  static std::optional<RegionMapping> attach(int fd);
  RegionMapping() = default;
  RegionMapping(RegionMapping&& other) noexcept;
  RegionMapping& operator=(RegionMapping&& other) noexcept;
  RegionMapping(const RegionMapping&) = delete;
  RegionMapping& operator=(const RegionMapping&) = delete;
  ~RegionMapping();

  // The memfd (-1 in the Python process, which closed it).
  int fd() const { return fd_; }
  // Slots of the region (0 for none), as this process created or found it (never read again from the shared header,
  // which the other process can write).
  std::uint32_t slots() const { return slots_; }
  // Bytes of each slot.
  std::uint64_t slot_bytes() const { return slot_bytes_; }
  // The first byte of slot k (k < slots()).
  char* slot(std::uint32_t k) const;
  // The state of slot k (k < slots()).
  std::atomic<std::uint32_t>& state(std::uint32_t k) const;

 private:
  int fd_ = -1;
  char* base_ = nullptr;
  std::size_t size_ = 0;
  std::uint32_t slots_ = 0;
  std::uint64_t slot_bytes_ = 0;
};

class RowLease;  // below: the rank's hold on one slot

// The rank's side of its region: which slots it leased. Lives as long as the rank's worker (and its leases).
class RowRegion : public std::enable_shared_from_this<RowRegion> {
 public:
  // A fresh region (kRowSlots of kRowSlotBytes unless told). Throws prs::Fatal.
  static std::shared_ptr<RowRegion> create(std::uint32_t slots = kRowSlots, std::uint64_t slot_bytes = kRowSlotBytes);
  // A fresh region of the default layout, or none where the system refuses one (no memfd_create, no memory) or
  // PRS_ROWS_REGION=off is in the environment: the rows then all take the pipe.
  static std::shared_ptr<RowRegion> create_or_none() noexcept;
  // The memfd every Python process gets on kRowRegionFd.
  int fd() const { return map_.fd(); }
  // Slots of the region.
  std::uint32_t slots() const { return map_.slots(); }
  // Bytes of each slot.
  std::uint64_t slot_bytes() const { return map_.slot_bytes(); }
  // Takes the rows a Python process put in slot k (n bytes): checks that k is a slot, n fits it, the process claimed
  // it and the rank does not hold it already. Throws prs::Fatal naming `who` (the Python process) otherwise.
  RowLease lease(std::uint32_t k, std::uint64_t n, const std::string& who);
  // Frees the slots a Python process claimed and never handed over (it is dead: killed, crashed or replaced);
  // returns how many.
  std::uint32_t reset_unleased();
  // Slots the rank holds now.
  std::uint32_t leased() const;
  // Slots in state free now.
  std::uint32_t free_slots() const;

 private:
  friend class RowLease;
  void release(std::uint32_t k);
  RegionMapping map_;
  std::array<bool, kMaxRowSlots> leased_{};
};

// The rows of one slot held by the rank until they are written or discarded. Move-only; the slot is freed once,
// at release() or destruction.
class RowLease {
 public:
  RowLease() = default;
  RowLease(RowLease&& other) noexcept;
  RowLease& operator=(RowLease&& other) noexcept;
  RowLease(const RowLease&) = delete;
  RowLease& operator=(const RowLease&) = delete;
  ~RowLease() { release(); }

  // It holds a slot.
  explicit operator bool() const { return region_ != nullptr; }
  // The rows ("" when it holds none).
  std::string_view bytes() const;
  // Frees the slot now (nothing if it holds none, or did already).
  void release();

 private:
  friend class RowRegion;
  RowLease(std::shared_ptr<RowRegion> region, std::uint32_t slot, std::uint64_t n)
      : region_(std::move(region)), slot_(slot), bytes_(n) {}
  std::shared_ptr<RowRegion> region_;
  std::uint32_t slot_ = 0;
  std::uint64_t bytes_ = 0;
};

// The Python process's side: the region it found on kRowRegionFd, if any.
class SlotWriter {
 public:
  // The region on fd (kRowRegionFd in a Python process); a writer that takes nothing if there is none.
  static SlotWriter attach(int fd = kRowRegionFd);
  SlotWriter() = default;
  // Claims a free slot and copies rows into it; the slot, or nullopt (nothing claimed) when there is no region, the
  // rows are empty or bigger than a slot, or every slot is busy (rows of kSlotWaitBytes or more first wait up to
  // `patience` for one, see kSlotPatience).
  std::optional<std::uint32_t> put(std::string_view rows, std::chrono::milliseconds patience = kSlotPatience);
  // A region was found.
  bool attached() const { return map_.slots() > 0; }

 private:
  explicit SlotWriter(RegionMapping map) : map_(std::move(map)) {}
  // A free slot claimed (free -> busy), or nullopt.
  std::optional<std::uint32_t> claim();
  // claim() until a slot comes free or patience runs out.
  std::optional<std::uint32_t> wait_for_slot(std::chrono::milliseconds patience);
  RegionMapping map_;
  bool patient_ = true;  // false after a wait ran out, until rows find a slot free again
};

}  // namespace prs
