// Tests of mini_batch_size parsing: counts and byte sizes.
#include <catch2/catch.hpp>

#include "prs/config/size.hpp"
#include "prs/error.hpp"

namespace {

// The message of the prs::Error that f throws; fails the test when it throws none.
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const prs::Error& e) {
    return e.what();
  }
  FAIL("expected a prs::Error");
  return "";
}

const std::string accepted_forms =
    "must be a size such as 1024, 10kb, 1MB, 100 mb or 1GB (bytes; units b, kb, mb, gb, tb; 1 kb = 1024), got ";

}  // namespace

TEST_CASE("parse_size reads plain bytes and every unit, 1 kb = 1024", "[size]") {
  CHECK(prs::parse_size("1024") == 1024);
  CHECK(prs::parse_size("1") == 1);
  CHECK(prs::parse_size("7b") == 7);
  CHECK(prs::parse_size("10kb") == 10 * 1024);
  CHECK(prs::parse_size("1MB") == 1024 * 1024);
  CHECK(prs::parse_size("1GB") == 1024ULL * 1024 * 1024);
  CHECK(prs::parse_size("2tb") == 2ULL << 40);
}

TEST_CASE("parse_size units are case-insensitive and may follow spaces", "[size]") {
  CHECK(prs::parse_size("100 mb") == 100ULL << 20);
  CHECK(prs::parse_size("3 Kb") == 3 * 1024);
  CHECK(prs::parse_size("3kB") == 3 * 1024);
  CHECK(prs::parse_size("5 B") == 5);
  CHECK(prs::parse_size("  8gb  ") == 8ULL << 30);
}

TEST_CASE("parse_size takes decimals and floors them to whole bytes", "[size]") {
  CHECK(prs::parse_size("1.5mb") == 1572864);
  CHECK(prs::parse_size("0.5kb") == 512);
  CHECK(prs::parse_size(".25 KB") == 256);
  CHECK(prs::parse_size("1.0001kb") == 1024);  // 1024.1024 bytes
  CHECK(prs::parse_size("2.9") == 2);
  CHECK(prs::parse_size("10.") == 10);
}

TEST_CASE("parse_size rejects zero, negatives and garbage naming the accepted forms", "[size]") {
  CHECK(error_of([] { prs::parse_size("0"); }) == "must be at least 1 byte, got 0");
  CHECK(error_of([] { prs::parse_size("0kb"); }) == "must be at least 1 byte, got 0kb");
  CHECK(error_of([] { prs::parse_size("0.0001kb"); }) == "must be at least 1 byte, got 0.0001kb");
  CHECK(error_of([] { prs::parse_size("-5mb"); }) == accepted_forms + "-5mb");
  CHECK(error_of([] { prs::parse_size(""); }) == accepted_forms);
  CHECK(error_of([] { prs::parse_size("abc"); }) == accepted_forms + "abc");
  CHECK(error_of([] { prs::parse_size("kb"); }) == accepted_forms + "kb");
  CHECK(error_of([] { prs::parse_size("."); }) == accepted_forms + ".");
  CHECK(error_of([] { prs::parse_size("10 xb"); }) == accepted_forms + "10 xb");
  CHECK(error_of([] { prs::parse_size("10 k"); }) == accepted_forms + "10 k");
  CHECK(error_of([] { prs::parse_size("1.5.5mb"); }) == accepted_forms + "1.5.5mb");
  CHECK(error_of([] { prs::parse_size("1 0mb"); }) == accepted_forms + "1 0mb");
  CHECK(error_of([] { prs::parse_size("1e3"); }) == accepted_forms + "1e3");
}

TEST_CASE("parse_size rejects sizes beyond 64 bits", "[size]") {
  CHECK(prs::parse_size("18446744073709551615") == 18446744073709551615ULL);
  CHECK(error_of([] { prs::parse_size("18446744073709551616"); }) ==
        "must be in [1, 18446744073709551615] bytes, got 18446744073709551616");
  CHECK(error_of([] { prs::parse_size("16777216tb"); }) ==
        "must be in [1, 18446744073709551615] bytes, got 16777216tb");  // 2^64 bytes
  CHECK(error_of([] { prs::parse_size("99999999999999999999999 MB"); }) ==
        "must be in [1, 18446744073709551615] bytes, got 99999999999999999999999 MB");
}

TEST_CASE("parse_count takes positive whole numbers only", "[size]") {
  CHECK(prs::parse_count("10") == 10);
  CHECK(prs::parse_count("1") == 1);
  CHECK(prs::parse_count(" 42 ") == 42);
  CHECK(prs::parse_count("18446744073709551615") == 18446744073709551615ULL);
  CHECK(error_of([] { prs::parse_count("0"); }) == "must be a positive whole number, got 0");
  CHECK(error_of([] { prs::parse_count("-3"); }) == "must be a positive whole number, got -3");
  CHECK(error_of([] { prs::parse_count("1.5"); }) == "must be a positive whole number, got 1.5");
  CHECK(error_of([] { prs::parse_count("10kb"); }) == "must be a positive whole number, got 10kb");
  CHECK(error_of([] { prs::parse_count(""); }) == "must be a positive whole number, got ");
  CHECK(error_of([] { prs::parse_count("18446744073709551616"); }) ==
        "must be in [1, 18446744073709551615], got 18446744073709551616");
  CHECK(prs::parse_count("2147483647", 2147483647) == 2147483647);
  CHECK(error_of([] { prs::parse_count("2147483648", 2147483647); }) == "must be in [1, 2147483647], got 2147483648");
  CHECK(error_of([] { prs::parse_count("99999999999999999999999", 100); }) ==
        "must be in [1, 100], got 99999999999999999999999");
}

TEST_CASE("is_size_text tells a number with a unit, whatever its magnitude", "[size]") {
  CHECK(prs::is_size_text("10kb"));
  CHECK(prs::is_size_text("1.5 MB"));
  CHECK(prs::is_size_text("100 b"));
  CHECK(prs::is_size_text("99999999999999999999999 tb"));
  CHECK_FALSE(prs::is_size_text("10"));
  CHECK_FALSE(prs::is_size_text("1.5"));
  CHECK_FALSE(prs::is_size_text("kb"));
  CHECK_FALSE(prs::is_size_text("10 xb"));
  CHECK_FALSE(prs::is_size_text(""));
}
