// The row region's ring (its two sides without memory) and the shared mapping, writer and blocks on a real memfd.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "prs/error.hpp"
#include "prs/worker/row_region.hpp"

using namespace prs;

namespace {

// A span as the ring gives it: offset, length, end.
void check_span(const std::optional<RegionSpan>& s, std::uint64_t offset, std::uint64_t length, std::uint64_t end) {
  REQUIRE(s.has_value());
  CHECK(s->offset == offset);
  CHECK(s->length == length);
  CHECK(s->end == end);
}

}  // namespace

TEST_CASE("blocks follow each other until the ring is full", "[row_region]") {
  RingHead head(100);
  check_span(head.reserve(40, 0), 0, 40, 40);
  check_span(head.reserve(40, 0), 40, 40, 80);
  CHECK_FALSE(head.reserve(21, 0));  // 20 bytes left
  check_span(head.reserve(20, 0), 80, 20, 100);
  CHECK_FALSE(head.reserve(1, 0));
}

TEST_CASE("a block never wraps: the bytes before the end are skipped and belong to it", "[row_region]") {
  RingHead head(100);
  check_span(head.reserve(70, 0), 0, 70, 70);
  CHECK_FALSE(head.reserve(40, 0));   // 30 left at the end, the start is still in use
  CHECK_FALSE(head.reserve(40, 20));  // the start is free up to 20 only
  check_span(head.reserve(40, 70), 0, 40, 140);  // skips 70..100, lands at the start
  check_span(head.reserve(60, 140), 40, 60, 200);
}

TEST_CASE("nothing of zero bytes, nothing bigger than the ring", "[row_region]") {
  RingHead head(100);
  CHECK_FALSE(head.reserve(0, 0));
  CHECK_FALSE(head.reserve(101, 0));
  check_span(head.reserve(100, 0), 0, 100, 100);
  RingHead none(0);
  CHECK_FALSE(none.reserve(1, 0));
}

TEST_CASE("the tail moves past the oldest released blocks only", "[row_region]") {
  RingTail tail;
  tail.received(40);
  tail.received(80);
  tail.received(100);
  CHECK(tail.release(80) == 0);  // the block at 0..40 still held
  CHECK(tail.pending() == 3);
  CHECK(tail.release(40) == 80);
  CHECK(tail.pending() == 1);
  CHECK(tail.release(100) == 100);
  CHECK(tail.pending() == 0);
}

TEST_CASE("releasing a block it does not hold, or twice, is an error", "[row_region]") {
  RingTail tail;
  tail.received(40);
  tail.received(80);
  CHECK_THROWS_MATCHES(tail.release(50), Fatal,
                       Catch::Message("row region: release of a block it does not hold (ending at 50)"));
  tail.release(80);
  CHECK_THROWS_MATCHES(tail.release(80), Fatal,
                       Catch::Message("row region: release of a block it does not hold (ending at 80)"));
}

TEST_CASE("rows put by the writer are the bytes the rank reads, until their block is released", "[row_region]") {
  auto region = RowRegion::create(1000);
  RegionWriter writer(SharedMapping::attach(dup(region->fd())));
  const std::string a(600, 'a'), b(300, 'b'), c(500, 'c');
  auto sa = writer.put(a, 1);
  auto sb = writer.put(b, 1);
  REQUIRE(sa);
  REQUIRE(sb);
  region->received(*sa);
  region->received(*sb);
  CHECK_FALSE(writer.put(c, 1));  // 100 bytes free
  {
    RegionBlock ba(region, *sa), bb(region, *sb);
    CHECK(ba.bytes() == a);
    CHECK(bb.bytes() == b);
    CHECK(region->pending() == 2);
  }  // both released
  CHECK(region->pending() == 0);
  auto sc = writer.put(c, 1);
  check_span(sc, 0, 500, 1500);  // 900..1000 skipped
  region->received(*sc);
  RegionBlock bc(region, *sc);
  CHECK(bc.bytes() == c);
}

TEST_CASE("small rows, and a writer without a region, take the pipe", "[row_region]") {
  auto region = RowRegion::create(1 << 20);
  RegionWriter writer(SharedMapping::attach(dup(region->fd())));
  CHECK_FALSE(writer.put(std::string(kRegionMinRows - 1, 'x')));
  CHECK(writer.put(std::string(kRegionMinRows, 'x')));
  RegionWriter none;
  CHECK_FALSE(none.put(std::string(kRegionMinRows, 'x')));
}

TEST_CASE("a block keeps its region alive, and a moved block releases once", "[row_region]") {
  auto region = RowRegion::create(100);
  RegionWriter writer(SharedMapping::attach(dup(region->fd())));
  auto s = writer.put(std::string(50, 'z'), 1);
  REQUIRE(s);
  region->received(*s);
  RegionBlock block(region, *s);
  std::weak_ptr<RowRegion> alive = region;
  region.reset();
  CHECK_FALSE(alive.expired());
  RegionBlock moved(std::move(block));
  CHECK(block.bytes().empty());
  CHECK(moved.bytes() == std::string(50, 'z'));
  moved.reset();
  CHECK(alive.expired());
}

TEST_CASE("a span outside the region is refused", "[row_region]") {
  auto region = RowRegion::create(100);
  CHECK_THROWS_MATCHES(region->bytes(RegionSpan{60, 50, 110}), Fatal,
                       Catch::Message("python link: rows at 60 (50 bytes) are outside the row region of 100 bytes"));
}

TEST_CASE("a descriptor that is not a region is refused", "[row_region]") {
  auto region = RowRegion::create(100);
  CHECK_THROWS_MATCHES(SharedMapping::attach(0 + 1000), Fatal,
                       Catch::Message("row region: fstat: Bad file descriptor"));
}
