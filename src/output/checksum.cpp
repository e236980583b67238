#include "prs/output/checksum.hpp"

#include <array>
#include <cstring>

namespace prs {

namespace {

constexpr std::uint32_t kPolynomial = 0x82F63B78u;  // Castagnoli, reflected

// tables[k][b]: the CRC of byte b followed by k zero bytes (slicing by 8).
using Tables = std::array<std::array<std::uint32_t, 256>, 8>;

Tables make_tables() {
  Tables t{};
  for (std::uint32_t b = 0; b < 256; ++b) {
    std::uint32_t c = b;
    for (int i = 0; i < 8; ++i) c = (c >> 1) ^ (c & 1 ? kPolynomial : 0);
    t[0][b] = c;
  }
  for (int k = 1; k < 8; ++k)
    for (std::uint32_t b = 0; b < 256; ++b) t[k][b] = (t[k - 1][b] >> 8) ^ t[0][t[k - 1][b] & 0xFF];
  return t;
}

std::uint32_t crc_table(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  static const Tables t = make_tables();
  for (; n >= 8; n -= 8, p += 8) {
    std::uint32_t lo, hi;
    std::memcpy(&lo, p, 4);
    std::memcpy(&hi, p + 4, 4);
    lo ^= crc;  // little-endian, as on every platform prs_mpi targets
    crc = t[7][lo & 0xFF] ^ t[6][(lo >> 8) & 0xFF] ^ t[5][(lo >> 16) & 0xFF] ^ t[4][lo >> 24] ^
          t[3][hi & 0xFF] ^ t[2][(hi >> 8) & 0xFF] ^ t[1][(hi >> 16) & 0xFF] ^ t[0][hi >> 24];
  }
  for (; n > 0; --n, ++p) crc = (crc >> 8) ^ t[0][(crc ^ *p) & 0xFF];
  return crc;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) std::uint32_t crc_sse42(std::uint32_t crc, const unsigned char* p, std::size_t n) {
  std::uint64_t c = crc;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
  }
  auto c32 = static_cast<std::uint32_t>(c);
  for (; n > 0; --n, ++p) c32 = __builtin_ia32_crc32qi(c32, *p);
  return c32;
}

// a * b modulo the polynomial, both in the register's bit-reflected form (bit 31 is x^0).
std::uint32_t multiply_mod_p(std::uint32_t a, std::uint32_t b) {
  std::uint32_t product = 0;
  for (std::uint32_t m = 1u << 31; m != 0; m >>= 1) {
    if ((a & m) != 0) product ^= b;
    b = (b & 1) != 0 ? (b >> 1) ^ kPolynomial : b >> 1;
  }
  return product;
}

// x^e modulo the polynomial: multiplying a register by x^(8n) appends n zero bytes to what it summed.
std::uint32_t x_to_the(std::uint64_t e) {
  std::uint32_t result = 1u << 31, square = 1u << 30;  // x^0, x^1
  for (; e != 0; e >>= 1) {
    if ((e & 1) != 0) result = multiply_mod_p(square, result);
    square = multiply_mod_p(square, square);
  }
  return result;
}

constexpr std::size_t kLane = 32 * 1024;  // bytes of each of three interleaved chains per round

// One crc32 instruction waits for the one before it (3 cycles, 8 bytes): three independent chains over the thirds of
// each 96 KiB round keep the unit busy (3x on the blocks of rows the workers sum), then are joined:
// crc(r, A B C) = ((crc(r, A) * x^8|B| + crc(0, B)) * x^8|C|) + crc(0, C).
__attribute__((target("sse4.2"))) std::uint32_t crc_sse42_3way(std::uint32_t crc, const unsigned char* p,
                                                                std::size_t n) {
  static const std::uint32_t lane_shift = x_to_the(8 * kLane);
  for (; n >= 3 * kLane; n -= 3 * kLane, p += 3 * kLane) {
    std::uint64_t a = crc, b = 0, c = 0;
    for (std::size_t i = 0; i < kLane; i += 8) {
      std::uint64_t va, vb, vc;
      std::memcpy(&va, p + i, 8);
      std::memcpy(&vb, p + kLane + i, 8);
      std::memcpy(&vc, p + 2 * kLane + i, 8);
      a = __builtin_ia32_crc32di(a, va);
      b = __builtin_ia32_crc32di(b, vb);
      c = __builtin_ia32_crc32di(c, vc);
    }
    const auto joined = multiply_mod_p(lane_shift, static_cast<std::uint32_t>(a)) ^ static_cast<std::uint32_t>(b);
    crc = multiply_mod_p(lane_shift, joined) ^ static_cast<std::uint32_t>(c);
  }
  return crc_sse42(crc, p, n);
}

bool has_sse42() {
  static const bool yes = __builtin_cpu_supports("sse4.2");
  return yes;
}
#endif

}  // namespace

std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size) {
  auto p = static_cast<const unsigned char*>(data);
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
  if (has_sse42()) return ~crc_sse42_3way(~crc, p, size);
#endif
  return ~crc_table(~crc, p, size);
}

std::uint32_t crc32c_extend_portable(std::uint32_t crc, const void* data, std::size_t size) {
  return ~crc_table(~crc, static_cast<const unsigned char*>(data), size);
}

}  // namespace prs
