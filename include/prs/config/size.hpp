#pragma once
// Parsing of mini_batch_size values: file counts and byte sizes ("1024", "10kb", "1MB", "100 mb", "1GB").
#include <cstdint>
#include <string>

namespace prs {

// A positive whole count such as "10"; throws prs::Error (message: "must be a positive whole number, got X").
std::uint64_t parse_count(const std::string& text);

// A byte size: a number with an optional unit b, kb, mb, gb, tb (case-insensitive, 1 kb = 1024 bytes, spaces
// allowed between number and unit); throws prs::Error naming the accepted forms.
std::uint64_t parse_size(const std::string& text);

}  // namespace prs
