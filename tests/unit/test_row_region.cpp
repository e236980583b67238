// The rows region between a worker rank and its Python process: both sides in one process, on one memfd.
#include <fcntl.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "prs/error.hpp"
#include "prs/worker/row_region.hpp"

using namespace prs;

// The expression throws prs::Fatal with exactly this message.
#define CHECK_FATAL(expr, text) CHECK_THROWS_MATCHES(expr, prs::Fatal, Catch::Message(text))

namespace {

constexpr std::uint64_t kSlot = 4096;
const std::string kWho = "its Python process (pid 7)";

// The Python process's side of region, on a descriptor of its own (as fd 5 is in the Python process).
SlotWriter writer_of(const RowRegion& region) {
  const int fd = dup(region.fd());
  REQUIRE(fd >= 0);
  SlotWriter w = SlotWriter::attach(fd);
  REQUIRE(w.attached());
  CHECK(fcntl(fd, F_GETFD) == -1);  // a region's descriptor is closed once mapped
  return w;
}

}  // namespace

TEST_CASE("row region: a slot is claimed, leased with its rows and freed", "[row_region]") {
  auto region = RowRegion::create(3, kSlot);
  SlotWriter w = writer_of(*region);
  CHECK(region->slots() == 3);
  CHECK(region->slot_bytes() == kSlot);
  CHECK(region->free_slots() == 3);
  auto slot = w.put("row 1\nrow 2\n");
  REQUIRE(slot.has_value());
  CHECK(*slot == 0);
  CHECK(region->free_slots() == 2);
  RowLease lease = region->lease(0, 12, kWho);
  CHECK(static_cast<bool>(lease));
  CHECK(lease.bytes() == "row 1\nrow 2\n");
  CHECK(region->leased() == 1);
  lease.release();
  CHECK_FALSE(static_cast<bool>(lease));
  CHECK(lease.bytes().empty());
  CHECK(region->leased() == 0);
  CHECK(region->free_slots() == 3);
  CHECK(w.put(std::string(kSlot, 'x')) == 0u);  // a slot's worth fits, in the slot freed first
}

TEST_CASE("row region: all slots busy, rows bigger than a slot or none: nothing is claimed", "[row_region]") {
  auto region = RowRegion::create(3, kSlot);
  SlotWriter w = writer_of(*region);
  CHECK(w.put("a\n") == 0u);
  CHECK(w.put("b\n") == 1u);
  CHECK(w.put("c\n") == 2u);
  CHECK(w.put("d\n") == std::nullopt);
  CHECK(region->free_slots() == 0);
  RowLease b = region->lease(1, 2, kWho);
  b.release();
  CHECK(w.put(std::string(kSlot + 1, 'x')) == std::nullopt);
  CHECK(w.put("") == std::nullopt);
  CHECK(region->free_slots() == 1);
  CHECK(w.put("e\n") == 1u);
  CHECK(region->lease(1, 2, kWho).bytes() == "e\n");
}

TEST_CASE("row region: big rows wait for a slot the rank frees; a wait that runs out makes the next ones go at once",
          "[row_region]") {
  using namespace std::chrono_literals;
  auto region = RowRegion::create(2, kSlotWaitBytes);
  SlotWriter w = writer_of(*region);
  const std::string big(kSlotWaitBytes, 'b');
  REQUIRE(w.put(big) == 0u);
  REQUIRE(w.put(big) == 1u);
  RowLease first = region->lease(0, big.size(), kWho);
  std::thread rank([&] {
    std::this_thread::sleep_for(5ms);
    first.release();  // the rank wrote slot 0
  });
  CHECK(w.put(big, 60s) == 0u);  // waited for it (no timing asserted: without the wait it would be nullopt)
  rank.join();
  // Smaller rows never wait: the pipe costs them less than a commit's wait.
  RowLease zero = region->lease(0, big.size(), kWho);
  std::thread later([&] {
    std::this_thread::sleep_for(1s);
    zero.release();
  });
  CHECK(w.put(std::string(kSlotWaitBytes - 1, 's'), 60s) == std::nullopt);
  later.join();
  REQUIRE(region->free_slots() == 1);
  REQUIRE(w.put(big) == 0u);
  CHECK(w.put(big, 1ms) == std::nullopt);  // nobody frees a slot: the wait runs out
  RowLease again = region->lease(0, big.size(), kWho);
  std::thread late([&] {
    std::this_thread::sleep_for(1s);
    again.release();
  });
  CHECK(w.put(big, 60s) == std::nullopt);  // after a wait ran out, rows that find no slot free go at once
  late.join();
  REQUIRE(w.put(big) == 0u);  // a slot was free when they came: patient again
  RowLease last = region->lease(0, big.size(), kWho);
  std::thread soon([&] {
    std::this_thread::sleep_for(5ms);
    last.release();
  });
  CHECK(w.put(big, 60s) == 0u);
  soon.join();
}

TEST_CASE("row region: a dead process's claims are freed, the rank's leases kept", "[row_region]") {
  auto region = RowRegion::create(3, kSlot);
  SlotWriter w = writer_of(*region);
  REQUIRE(w.put("held\n") == 0u);
  REQUIRE(w.put("never handed over\n") == 1u);
  RowLease held = region->lease(0, 5, kWho);
  CHECK(region->reset_unleased() == 1);
  CHECK(region->free_slots() == 2);
  CHECK(held.bytes() == "held\n");
  CHECK(region->reset_unleased() == 0);
  CHECK_FATAL(region->lease(1, 18, kWho),
              "worker: its Python process (pid 7) says its rows are in slot 1, 18 bytes: it never claimed that slot");
  held.release();
  CHECK(region->free_slots() == 3);
}

TEST_CASE("row region: a slot or length out of bounds, or a slot leased twice, is a clear error", "[row_region]") {
  auto region = RowRegion::create(3, kSlot);
  SlotWriter w = writer_of(*region);
  REQUIRE(w.put("x\n") == 0u);
  CHECK_FATAL(region->lease(3, 2, kWho), "worker: its Python process (pid 7) says its rows are in slot 3, 2 bytes: "
                                         "there is no such slot (the region has 3)");
  CHECK_FATAL(region->lease(4294967295u, 2, kWho), "worker: its Python process (pid 7) says its rows are in slot "
                                                   "4294967295, 2 bytes: there is no such slot (the region has 3)");
  CHECK_FATAL(region->lease(0, kSlot + 1, kWho), "worker: its Python process (pid 7) says its rows are in slot 0, "
                                                 "4097 bytes: a slot holds 1 to 4096 bytes");
  CHECK_FATAL(region->lease(0, 0, kWho), "worker: its Python process (pid 7) says its rows are in slot 0, 0 bytes: "
                                         "a slot holds 1 to 4096 bytes");
  CHECK_FATAL(region->lease(2, 2, kWho), "worker: its Python process (pid 7) says its rows are in slot 2, 2 bytes: "
                                         "it never claimed that slot");
  RowLease lease = region->lease(0, 2, kWho);
  CHECK_FATAL(region->lease(0, 2, kWho), "worker: its Python process (pid 7) says its rows are in slot 0, 2 bytes: "
                                         "the worker holds that slot's rows already");
  CHECK(region->leased() == 1);
  CHECK(lease.bytes() == "x\n");
}

TEST_CASE("row region: a lease frees its slot once, whether moved, released or destroyed", "[row_region]") {
  auto region = RowRegion::create(2, kSlot);
  SlotWriter w = writer_of(*region);
  REQUIRE(w.put("first\n") == 0u);
  RowLease a = region->lease(0, 6, kWho);
  RowLease b = std::move(a);
  CHECK_FALSE(static_cast<bool>(a));
  CHECK(b.bytes() == "first\n");
  b.release();
  CHECK(region->free_slots() == 2);
  REQUIRE(w.put("second\n") == 0u);  // the slot is claimed again: no stale lease may free it
  RowLease c = region->lease(0, 7, kWho);
  a.release();
  b.release();
  { RowLease gone = std::move(b); }
  CHECK(region->free_slots() == 1);
  CHECK(region->leased() == 1);
  CHECK(c.bytes() == "second\n");
  {
    RowLease d = std::move(c);
    RowLease e;
    e = std::move(d);
    CHECK(e.bytes() == "second\n");
  }
  CHECK(region->free_slots() == 2);
  CHECK(region->leased() == 0);
}

TEST_CASE("row region: a descriptor that is not a region takes no rows and stays open", "[row_region]") {
  char path[] = "/tmp/prs_row_region_XXXXXX";
  const int file = mkstemp(path);
  REQUIRE(file >= 0);
  std::remove(path);
  REQUIRE(ftruncate(file, 8192) == 0);  // a file, not a region's header
  SlotWriter not_region = SlotWriter::attach(file);
  CHECK_FALSE(not_region.attached());
  CHECK(not_region.put("x\n") == std::nullopt);
  CHECK(fcntl(file, F_GETFD) != -1);
  close(file);
  SlotWriter closed = SlotWriter::attach(file);  // not open at all (a process started without a region)
  CHECK_FALSE(closed.attached());
  CHECK_FATAL(RowRegion::create(0, kSlot), "row region: 0 slots of 4096 bytes is not a region's layout");
  CHECK_FATAL(RowRegion::create(2, 100), "row region: 2 slots of 100 bytes is not a region's layout");
  auto region = RowRegion::create_or_none();
  REQUIRE(region != nullptr);
  CHECK(region->slots() == kRowSlots);
  CHECK(region->slot_bytes() == kRowSlotBytes);
  CHECK(region->fd() > kRowRegionFd);
  CHECK((fcntl(region->fd(), F_GETFD) & FD_CLOEXEC) != 0);
}
