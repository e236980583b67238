#include <catch2/catch.hpp>

#include <random>
#include <string>

#include "prs/output/checksum.hpp"

using namespace prs;

TEST_CASE("CRC-32C matches the published check values", "[checksum]") {
  CHECK(crc32c("") == 0);
  CHECK(crc32c("123456789") == 0xE3069283u);  // the standard check value of CRC-32C
  CHECK(crc32c(std::string(32, '\0')) == 0x8A9136AAu);  // RFC 3720 B.4: 32 bytes of zeros
  CHECK(crc32c(std::string(32, '\xff')) == 0x62A8AB43u);  // and of ones
}

TEST_CASE("CRC-32C extends piece by piece, and the table and the CPU agree", "[checksum]") {
  std::mt19937 rng(5);
  std::string data(10000, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  std::uint32_t whole = crc32c(data);
  CHECK(crc32c_extend_portable(0, data.data(), data.size()) == whole);
  for (std::size_t cut : {0, 1, 7, 8, 9, 4095, 9999, 10000}) {
    std::uint32_t first = crc32c(std::string_view(data).substr(0, cut));
    CHECK(crc32c_extend(first, data.data() + cut, data.size() - cut) == whole);
    CHECK(crc32c_extend_portable(first, data.data() + cut, data.size() - cut) == whole);
  }
  for (std::size_t n = 0; n < 40; ++n)  // every tail length and alignment
    CHECK(crc32c_extend(0, data.data() + n, n) == crc32c_extend_portable(0, data.data() + n, n));
  data[5000] ^= 1;
  CHECK(crc32c(data) != whole);
}

TEST_CASE("CRC-32C of blocks of rows: the three interleaved chains give the table's value", "[checksum]") {
  std::mt19937 rng(11);
  const std::size_t round = 3 * 32 * 1024;  // the interleaved loop's round (checksum.cpp kLane)
  std::string data(4 * round + 100, '\0');
  for (char& c : data) c = static_cast<char>(rng());
  for (std::size_t size : {round - 1, round, round + 1, round + 8, 2 * round - 5, 4 * round + 99}) {
    for (std::size_t start : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {  // unaligned too
      const char* p = data.data() + start;
      CHECK(crc32c_extend(0, p, size) == crc32c_extend_portable(0, p, size));
      CHECK(crc32c_extend(0xDEADBEEFu, p, size) == crc32c_extend_portable(0xDEADBEEFu, p, size));
    }
  }
  std::string zeros(2 * round, '\0');
  std::uint32_t piecewise = 0;
  for (std::size_t at = 0; at < zeros.size(); at += 4096) piecewise = crc32c_extend(piecewise, zeros.data() + at, 4096);
  CHECK(crc32c(zeros) == piecewise);
  const std::uint32_t before = crc32c_extend(0, data.data(), 2 * round);
  data[round + 40000] ^= 0x40;  // a flipped bit in the second chain's third changes the sum
  CHECK(crc32c_extend(0, data.data(), 2 * round) != before);
  CHECK(crc32c_extend(0, data.data(), 2 * round) == crc32c_extend_portable(0, data.data(), 2 * round));
}
