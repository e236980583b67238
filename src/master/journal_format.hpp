#pragma once
// The journal's bytes, shared by its writer (journal.cpp) and its reader (journal_read.cpp); private to src/master.
//
// File: magic "PRSJRNL2", u32 body length, u32 CRC-32C of the body, body (u64 batch count, 4 x u64 plan fingerprint,
// u8 pending, u64 truncate_to, u32 tail length, tail path), then records of kRecord bytes: u8 kind, u8 flags,
// u16 0, u32 attempts, u64 batch, u64 offset, u64 length, u64 items_ok, u32 header_length, u32 CRC-32C of the rows,
// u32 CRC-32C of the record. A "planned" record (a listing that goes on while batches run) puts the mini-batches
// planned so far in batch and their listing fingerprint in offset, with kListingOpen until the listing ended.
// Little-endian (the machine's), as both ends are the same binary on the same cluster.
#include <cstddef>
#include <cstdint>
#include <string>

#include "prs/output/checksum.hpp"

namespace prs::journal_format {

// "PRSJRNL" and the format version: 2 added the checksum of a batch's bytes to its ended record.
constexpr char kMagic[8] = {'P', 'R', 'S', 'J', 'R', 'N', 'L', '2'};
constexpr std::size_t kMagicStem = 7;  // "PRSJRNL": the same in every version
constexpr std::size_t kPrefix = 16;  // magic, body length, body checksum
constexpr std::uint64_t kMaxTail = 1 << 16;  // a pending rewrite's tail path, in bytes
constexpr std::uint64_t kMaxBody = 8 * 6 + 1 + 4 + kMaxTail;  // counts, plan, pending, tail
constexpr std::size_t kRecord = 52;  // 48 bytes of fields, 4 of checksum
enum Kind : std::uint8_t { kDispatched = 1, kAbandoned = 2, kEnded = 3, kResulted = 4, kPlanned = 5 };
enum Flag : std::uint8_t { kSucceeded = 1, kWithHeader = 2, kListingOpen = 4 };

// The checksum of headers and records.
inline std::uint32_t sum(const char* data, std::size_t n) { return crc32c_extend(0, data, n); }

// A stored checksum matches the bytes. A fuzzing build (tests/fuzz) accepts any, so that mutated headers and records
// reach the checks behind it (the usual FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION convention).
inline bool sum_matches(const char* data, std::size_t n, std::uint32_t stored) {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  (void)data, (void)n, (void)stored;
  return true;
#else
  return sum(data, n) == stored;
#endif
}

// Appends a value's bytes.
template <typename T>
inline void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

}  // namespace prs::journal_format
