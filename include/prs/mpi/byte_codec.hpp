#pragma once
// Flat byte encoding shared by the MPI protocol and the worker's pipe to its Python process: fixed-size values in
// the host's layout (both ends run the same binary on the same machine kind) and length-prefixed strings.
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include "prs/error.hpp"

namespace prs {

// Appends fixed-size values and length-prefixed strings.
class ByteWriter {
 public:
  // Appends a trivially copyable value.
  template <typename T>
  ByteWriter& put(T value) {
    static_assert(std::is_trivially_copyable_v<T>);
    out_.append(reinterpret_cast<const char*>(&value), sizeof value);
    return *this;
  }
  // Appends a 64-bit length and the bytes.
  ByteWriter& put(const std::string& s) {
    put<std::uint64_t>(s.size());
    out_.append(s);
    return *this;
  }
  // The bytes written so far, moved out.
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

// Reads what ByteWriter wrote, checking every length; throws prs::Fatal("<what>: ...") on a short or long buffer.
class ByteReader {
 public:
  // what names the message kind in errors ("protocol", "python link").
  ByteReader(const std::string& in, const char* what) : in_(in), what_(what) {}
  // The next fixed-size value.
  template <typename T>
  T get() {
    T value;
    need(sizeof value);
    std::memcpy(&value, in_.data() + pos_, sizeof value);
    pos_ += sizeof value;
    return value;
  }
  // The next length-prefixed string.
  std::string get_string() {
    auto n = get<std::uint64_t>();
    need(n);
    std::string s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  // The next length-prefixed string, as a view into the buffer (no copy).
  std::string_view get_view() {
    auto n = get<std::uint64_t>();
    need(n);
    std::string_view s(in_.data() + pos_, n);
    pos_ += n;
    return s;
  }
  // Bytes not read yet.
  std::size_t left() const { return in_.size() - pos_; }
  // Throws unless every byte was read.
  void done() const {
    if (pos_ != in_.size())
      throw Fatal(std::string(what_) + ": message has " + std::to_string(in_.size() - pos_) + " extra bytes");
  }

 private:
  void need(std::uint64_t n) const {
    if (n > in_.size() - pos_) throw Fatal(std::string(what_) + ": truncated message");
  }
  const std::string& in_;
  const char* what_;
  std::size_t pos_ = 0;
};

}  // namespace prs
