#include "prs/output/row_record.hpp"

#include <cstring>

#include "prs/error.hpp"

namespace prs {

namespace {

// Reads little-endian fixed-size values from a bounded buffer; every read is checked.
class Cursor {
 public:
  Cursor(std::string_view bytes, const std::string& where) : bytes_(bytes), where_(where) {}
  template <typename T>
  T get(const char* what) {
    T value;
    need(sizeof value, what);
    std::memcpy(&value, bytes_.data() + pos_, sizeof value);
    pos_ += sizeof value;
    return value;
  }
  std::string_view take(std::uint64_t n, const char* what) {
    need(n, what);
    std::string_view out = bytes_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  std::size_t pos() const { return pos_; }

 private:
  void need(std::uint64_t n, const char* what) const {
    if (n > bytes_.size() - pos_)
      throw Error(where_ + ": the row record is damaged: " + what + " runs past its end");
  }
  std::string_view bytes_;
  const std::string& where_;
  std::size_t pos_ = 0;
};

[[noreturn]] void damaged(const std::string& where, const std::string& what) {
  throw Error(where + ": the row record is damaged: " + what);
}

bool valid_kind(char kind, std::uint8_t size) {
  switch (static_cast<ColumnKind>(kind)) {
    case ColumnKind::signed_int:
    case ColumnKind::unsigned_int: return size == 1 || size == 2 || size == 4 || size == 8;
    case ColumnKind::floating: return size == 4 || size == 8;
    case ColumnKind::boolean: return size == 1;
    case ColumnKind::datetime_ns: return size == 8;
    case ColumnKind::text:
    case ColumnKind::bytes: return size == 0;
  }
  return false;
}

bool is_string(ColumnKind kind) { return kind == ColumnKind::text || kind == ColumnKind::bytes; }

// Checks a string column's data: rows lengths, then exactly their bytes, the longest as announced.
void check_strings(const ColumnSpec& c, std::string_view data, std::uint64_t rows, const std::string& where) {
  if (rows > data.size() / 4) damaged(where, "column '" + c.name + "' has fewer string lengths than rows");
  std::uint64_t total = 0, longest = 0;
  for (std::uint64_t i = 0; i < rows; ++i) {
    std::uint32_t n;
    std::memcpy(&n, data.data() + 4 * i, 4);
    total += n;
    longest = std::max<std::uint64_t>(longest, n);
  }
  if (total != data.size() - 4 * rows) damaged(where, "column '" + c.name + "' string lengths do not add up");
  if (longest != c.max_length) damaged(where, "column '" + c.name + "' longest string is not as announced");
}

}  // namespace

std::uint32_t row_record_header_length(std::string_view prefix, const std::string& where) {
  if (prefix.size() < kRowRecordPrefix || std::memcmp(prefix.data(), kRowRecordMagic, sizeof kRowRecordMagic) != 0)
    throw Error(where + ": not a row record (the staging file is damaged or from another program)");
  std::uint32_t length;
  std::memcpy(&length, prefix.data() + sizeof kRowRecordMagic, 4);
  return length;
}

RowRecord parse_row_record_header(std::string_view head, std::uint64_t record_length, const std::string& where) {
  const std::uint32_t header_length = row_record_header_length(head, where);
  if (kRowRecordPrefix + std::uint64_t{header_length} > std::min<std::uint64_t>(head.size(), record_length))
    damaged(where, "its header runs past its end");
  Cursor in(head.substr(kRowRecordPrefix, header_length), where);
  RowRecord r;
  r.rows = in.get<std::uint64_t>("the row count");
  const auto count = in.get<std::uint32_t>("the column count");
  if (count == 0 || count > header_length / 24) damaged(where, "it claims " + std::to_string(count) + " columns");
  std::uint64_t total = kRowRecordPrefix + header_length;
  for (std::uint32_t i = 0; i < count; ++i) {
    ColumnSpec c;
    c.name = std::string(in.take(in.get<std::uint32_t>("a column name's length"), "a column name"));
    const char kind = in.get<char>("a column kind");
    c.kind = static_cast<ColumnKind>(kind);
    c.item_size = in.get<std::uint8_t>("an item size");
    in.get<std::uint16_t>("padding");
    c.max_length = in.get<std::uint64_t>("a longest string");
    const auto length = in.get<std::uint64_t>("a data length");
    if (c.name.empty() || !valid_kind(kind, c.item_size))
      damaged(where, "column " + std::to_string(i) + " has no name or an unknown type");
    const bool fits = is_string(c.kind) ? length / 4 >= r.rows : r.rows <= length && length / c.item_size == r.rows &&
                                                                    length % c.item_size == 0;
    if (!fits || length > record_length - std::min(total, record_length))
      damaged(where, "column '" + c.name + "' data length " + std::to_string(length) + " does not fit its rows");
    total += length;
    r.columns.push_back(std::move(c));
    r.data_lengths.push_back(length);
  }
  if (in.pos() != header_length) damaged(where, "its header has extra bytes");
  if (total != record_length)
    damaged(where, "its columns hold " + std::to_string(total) + " bytes, the record " + std::to_string(record_length));
  r.size = record_length;
  return r;
}

RowRecord parse_row_record(std::string_view bytes, const std::string& where) {
  RowRecord r = parse_row_record_header(bytes, bytes.size(), where);
  std::uint64_t pos = kRowRecordPrefix + row_record_header_length(bytes, where);
  for (std::size_t i = 0; i < r.columns.size(); ++i) {
    std::string_view data = bytes.substr(pos, r.data_lengths[i]);
    if (is_string(r.columns[i].kind)) check_strings(r.columns[i], data, r.rows, where);
    if (r.columns[i].kind == ColumnKind::boolean)
      for (char v : data)
        if (v != 0 && v != 1) damaged(where, "column '" + r.columns[i].name + "' holds a boolean other than 0 or 1");
    r.data.push_back(data);
    pos += r.data_lengths[i];
  }
  return r;
}

std::string encode_row_record(std::uint64_t rows, const std::vector<ColumnSpec>& columns,
                              const std::vector<std::string>& data) {
  std::string header;
  auto put = [&header](auto v) { header.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(rows);
  put(static_cast<std::uint32_t>(columns.size()));
  for (std::size_t i = 0; i < columns.size(); ++i) {
    put(static_cast<std::uint32_t>(columns[i].name.size()));
    header += columns[i].name;
    put(static_cast<char>(columns[i].kind));
    put(columns[i].item_size);
    put(std::uint16_t{0});
    put(columns[i].max_length);
    put(static_cast<std::uint64_t>(data[i].size()));
  }
  std::string out(kRowRecordMagic, sizeof kRowRecordMagic);
  const auto length = static_cast<std::uint32_t>(header.size());
  out.append(reinterpret_cast<const char*>(&length), 4);
  out += header;
  for (const std::string& d : data) out += d;
  return out;
}

std::string fixed_width_strings(std::string_view data, std::uint64_t rows, std::uint64_t width) {
  std::string out(rows * width, '\0');
  std::uint64_t pos = 4 * rows;
  for (std::uint64_t i = 0; i < rows; ++i) {
    std::uint32_t n;
    std::memcpy(&n, data.data() + 4 * i, 4);
    if (n > width || pos + n > data.size())
      throw Error("a string of " + std::to_string(n) + " bytes does not fit the column's width " + std::to_string(width));
    std::memcpy(out.data() + i * width, data.data() + pos, n);
    pos += n;
  }
  return out;
}

std::string column_type_name(const ColumnSpec& c) {
  const std::string bits = std::to_string(8 * c.item_size);
  switch (c.kind) {
    case ColumnKind::signed_int: return "int" + bits;
    case ColumnKind::unsigned_int: return "uint" + bits;
    case ColumnKind::floating: return "float" + bits;
    case ColumnKind::boolean: return "bool";
    case ColumnKind::datetime_ns: return "datetime64[ns]";
    case ColumnKind::text: return "str";
    case ColumnKind::bytes: return "bytes";
  }
  return "?";
}

std::string schema_difference(const std::vector<ColumnSpec>& first, std::uint64_t first_batch,
                              const std::vector<ColumnSpec>& other, std::uint64_t batch) {
  const std::string a = "mini-batch " + std::to_string(batch), b = "mini-batch " + std::to_string(first_batch);
  for (std::size_t i = 0; i < std::min(first.size(), other.size()); ++i) {
    if (first[i].name != other[i].name)
      return a + " returned the column '" + other[i].name + "' where " + b + " returned '" + first[i].name + "'";
    if (column_type_name(first[i]) != column_type_name(other[i]))
      return a + " returned the column '" + other[i].name + "' as " + column_type_name(other[i]) + ", " + b + " as " +
             column_type_name(first[i]);
  }
  if (other.size() > first.size())
    return a + " returned the column '" + other[first.size()].name + "', which " + b + " did not";
  if (first.size() > other.size())
    return a + " did not return the column '" + first[other.size()].name + "' of " + b;
  return "";
}

}  // namespace prs
