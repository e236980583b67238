// Parsing of mini_batch_size values: file counts and byte sizes.
#include "prs/config/size.hpp"

#include <cctype>
#include <limits>

#include "prs/error.hpp"

namespace prs {
namespace {

__extension__ typedef unsigned __int128 Wide;  // room for fraction x unit before the floor

constexpr std::uint64_t max_u64 = std::numeric_limits<std::uint64_t>::max();

bool is_digit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

bool is_space(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

std::string trimmed(const std::string& text) {
  std::size_t begin = 0;
  std::size_t end = text.size();
  while (begin < end && is_space(text[begin])) ++begin;
  while (end > begin && is_space(text[end - 1])) --end;
  return text.substr(begin, end - begin);
}

std::string lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// Bytes per unit; 0 when the unit is not one of b, kb, mb, gb, tb (empty means bytes).
Wide unit_bytes(const std::string& unit) {
  const std::string u = lower(unit);
  if (u.empty() || u == "b") return 1;
  if (u == "kb") return Wide{1} << 10;
  if (u == "mb") return Wide{1} << 20;
  if (u == "gb") return Wide{1} << 30;
  if (u == "tb") return Wide{1} << 40;
  return 0;
}

[[noreturn]] void too_large(const std::string& text) {
  throw Error("must be in [1, " + std::to_string(max_u64) + "] bytes, got " + trimmed(text));
}

[[noreturn]] void bad_size(const std::string& text) {
  throw Error("must be a size such as 1024, 10kb, 1MB, 100 mb or 1GB (bytes; units b, kb, mb, gb, tb; 1 kb = 1024), got " +
              text);
}

}  // namespace

std::uint64_t parse_count(const std::string& text, std::uint64_t max) {
  const std::string t = trimmed(text);
  bool all_digits = !t.empty();
  for (char c : t) all_digits = all_digits && is_digit(c);
  if (!all_digits) throw Error("must be a positive whole number, got " + text);
  std::uint64_t value = 0;
  for (char c : t) {
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (max - digit) / 10) {
      throw Error("must be in [1, " + std::to_string(max) + "], got " + t);
    }
    value = value * 10 + digit;
  }
  if (value == 0) throw Error("must be a positive whole number, got " + text);
  return value;
}

bool is_size_text(const std::string& text) {
  const std::string t = trimmed(text);
  std::size_t i = 0;
  std::size_t digits = 0;
  for (; i < t.size() && is_digit(t[i]); ++i) ++digits;
  if (i < t.size() && t[i] == '.') {
    for (++i; i < t.size() && is_digit(t[i]); ++i) ++digits;
  }
  while (i < t.size() && is_space(t[i])) ++i;
  return digits > 0 && i < t.size() && unit_bytes(t.substr(i)) != 0;
}

std::uint64_t parse_size(const std::string& text) {
  const std::string t = trimmed(text);
  std::size_t i = 0;
  Wide whole = 0;
  std::size_t whole_digits = 0;
  for (; i < t.size() && is_digit(t[i]); ++i, ++whole_digits) {
    whole = whole * 10 + static_cast<Wide>(t[i] - '0');
    if (whole > max_u64) too_large(text);
  }
  Wide fraction = 0;
  Wide scale = 1;
  std::size_t fraction_digits = 0;
  if (i < t.size() && t[i] == '.') {
    for (++i; i < t.size() && is_digit(t[i]); ++i, ++fraction_digits) {
      if (fraction_digits < 18) {  // digits beyond these cannot change the floor of any unit
        fraction = fraction * 10 + static_cast<Wide>(t[i] - '0');
        scale *= 10;
      }
    }
  }
  if (whole_digits + fraction_digits == 0) bad_size(text);
  while (i < t.size() && is_space(t[i])) ++i;
  const Wide unit = unit_bytes(t.substr(i));
  if (unit == 0) bad_size(text);
  const Wide bytes = whole * unit + fraction * unit / scale;
  if (bytes > max_u64) too_large(text);
  if (bytes == 0) throw Error("must be at least 1 byte, got " + text);
  return static_cast<std::uint64_t>(bytes);
}

}  // namespace prs
