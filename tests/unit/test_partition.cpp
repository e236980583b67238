#include <catch2/catch.hpp>

#include "prs/error.hpp"
#include "prs/input/partition.hpp"

using prs::Partition;

TEST_CASE("batches are dense and the last one is shorter", "[partition]") {
  Partition p(23, 10);
  REQUIRE(p.batch_count() == 3);
  CHECK(p.batch(0).first == 0);
  CHECK(p.batch(0).count == 10);
  CHECK(p.batch(1).first == 10);
  CHECK(p.batch(2).first == 20);
  CHECK(p.batch(2).count == 3);
}

TEST_CASE("an exact multiple has no short batch", "[partition]") {
  Partition p(30, 10);
  CHECK(p.batch_count() == 3);
  CHECK(p.batch(2).count == 10);
}

TEST_CASE("one item per batch and more batch size than items", "[partition]") {
  CHECK(Partition(5, 1).batch_count() == 5);
  Partition big(4, 100);
  REQUIRE(big.batch_count() == 1);
  CHECK(big.batch(0).count == 4);
  CHECK(Partition(0, 3).batch_count() == 0);
}

TEST_CASE("a batch size of zero is refused", "[partition]") {
  CHECK_THROWS_AS(Partition(5, 0), prs::Error);
}

TEST_CASE("sizes near 2^64 neither wrap nor overflow", "[partition]") {
  constexpr std::uint64_t max = UINT64_MAX;
  Partition one(5, max);  // (5 + max - 1) / max wrapped to 0 mini-batches: nothing ran
  REQUIRE(one.batch_count() == 1);
  CHECK(one.batch(0).first == 0);
  CHECK(one.batch(0).count == 5);
  Partition all(max, 1);
  CHECK(all.batch_count() == max);
  CHECK(all.batch(max - 1).first == max - 1);
  CHECK(all.batch(max - 1).count == 1);
  Partition halves(max, max / 2 + 1);  // 2^63 items, then 2^63 - 1
  REQUIRE(halves.batch_count() == 2);
  CHECK(halves.batch(1).first == max / 2 + 1);
  CHECK(halves.batch(1).count == max / 2);
}

TEST_CASE("a mini-batch beyond the last is an internal error, not a wrapped range", "[partition]") {
  Partition p(10, 3);
  CHECK_THROWS_AS(p.batch(4), prs::Fatal);
  CHECK_THROWS_AS(Partition(0, 3).batch(0), prs::Fatal);
}
