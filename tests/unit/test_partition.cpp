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
