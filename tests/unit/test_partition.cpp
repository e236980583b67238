#include <catch2/catch.hpp>

TEST_CASE("placeholder for partition", "[partition]") { SUCCEED(); }
