#pragma once
// Parsing of mini_batch_size values: file counts and byte sizes ("1024", "10kb", "1MB", "100 mb", "1GB").
#include <cstdint>
#include <string>

namespace prs {

// A positive whole count such as "10", at most max; throws prs::Error ("must be a positive whole number, got X",
// "must be in [1, MAX], got X").
std::uint64_t parse_count(const std::string& text, std::uint64_t max = UINT64_MAX);

// Whether the text is written as a size: a number with a unit ("10kb", "1.5 MB", "99999999999999999999 tb"),
// whatever its magnitude.
bool is_size_text(const std::string& text);

// A byte size: a number with an optional unit b, kb, mb, gb, tb (case-insensitive, 1 kb = 1024 bytes, spaces
// allowed between number and unit); throws prs::Error naming the accepted forms, or the range
// ("must be in [1, 18446744073709551615] bytes, got X").
std::uint64_t parse_size(const std::string& text);

}  // namespace prs
