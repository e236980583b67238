#pragma once
// CRC-32C (Castagnoli) of output bytes: the worker sums what it writes, the journal keeps the sum per committed
// range, and --resume checks that the output still holds those bytes. Hardware instructions (SSE 4.2) when the CPU
// has them, a table (slicing by 8) otherwise; both give the same value.
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace prs {

// The CRC-32C of data following crc (the CRC of the bytes before it; 0 for none):
// crc32c_extend(crc32c(a), b) == crc32c(a + b).
std::uint32_t crc32c_extend(std::uint32_t crc, const void* data, std::size_t size);

// The same with the table only (what CPUs without SSE 4.2 run; tests compare the two).
std::uint32_t crc32c_extend_portable(std::uint32_t crc, const void* data, std::size_t size);

// The CRC-32C of bytes (0 for none).
inline std::uint32_t crc32c(std::string_view bytes) { return crc32c_extend(0, bytes.data(), bytes.size()); }

}  // namespace prs
