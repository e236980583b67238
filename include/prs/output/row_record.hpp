#pragma once
// The row record: one mini-batch's rows, column by column, as a .h5 output commits them to its staging file.
//
// The worker's Python process encodes run()'s result (src/worker/row_records_py.cpp) and the bytes travel the text
// output's exactly-once path (commit, journal with CRC-32C, MPI-IO); at the end the ranks parse them here and build
// the .h5 (h5_build.hpp). Little-endian:
//   "PRSH5RC1", u32 header length H, header (H bytes), then each column's data in column order.
//   header: u64 rows, u32 columns, per column: u32 name length, name (UTF-8), u8 kind, u8 item size, u16 0,
//           u64 max string length (strings; else 0), u64 data length.
//   data: numbers and datetime64[ns]: rows x item size; booleans: rows x u8 (0/1);
//         strings (kind U: UTF-8 text, S: bytes): rows x u32 lengths, then the bytes one after the other.
// Nothing read is trusted: every length is checked against the record's size before it is used.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace prs {

// A column's type, as its kind letter in the record (numpy's dtype kinds).
enum class ColumnKind : char {
  signed_int = 'i', unsigned_int = 'u', floating = 'f', boolean = 'b', datetime_ns = 'M', text = 'U', bytes = 'S'
};

// One column of a record.
struct ColumnSpec {
  std::string name;
  ColumnKind kind = ColumnKind::signed_int;
  std::uint8_t item_size = 0;   // bytes per value of a number (1, 2, 4 or 8); 0 for strings
  std::uint64_t max_length = 0;  // strings: the longest value in bytes; else 0
};

// A parsed record: its schema, its rows and where each column's data lies in the record's bytes.
struct RowRecord {
  std::uint64_t rows = 0;
  std::vector<ColumnSpec> columns;
  std::vector<std::uint64_t> data_lengths;  // per column, bytes of its data
  std::vector<std::string_view> data;       // per column, views into the record's bytes (parse_row_record only)
  std::uint64_t size = 0;                   // bytes of the whole record
};

// The bytes a record starts with and the size of its fixed prefix (magic and header length).
constexpr char kRowRecordMagic[8] = {'P', 'R', 'S', 'H', '5', 'R', 'C', '1'};
constexpr std::size_t kRowRecordPrefix = 12;

// The header length a record's first kRowRecordPrefix bytes announce. Throws prs::Error("where: ...") when they are
// not a row record's.
std::uint32_t row_record_header_length(std::string_view prefix, const std::string& where);

// Parses a record's schema and row count from its first kRowRecordPrefix + header length bytes; data stays empty.
// record_length: the whole record's size, against which the columns' data lengths are checked. Throws prs::Error.
RowRecord parse_row_record_header(std::string_view head, std::uint64_t record_length, const std::string& where);

// Parses a whole record, checking each column's data (sizes, string lengths, the announced longest string).
// The views point into bytes. Throws prs::Error("where: ...").
RowRecord parse_row_record(std::string_view bytes, const std::string& where);

// Encodes a record (what the Python side writes; for tests and tools). data: per column, in the record's layout.
std::string encode_row_record(std::uint64_t rows, const std::vector<ColumnSpec>& columns,
                              const std::vector<std::string>& data);

// The data of a string column as rows x width bytes, each value NUL-padded (an HDF5 fixed-length string column).
// Throws prs::Error when a value is longer than width.
std::string fixed_width_strings(std::string_view data, std::uint64_t rows, std::uint64_t width);

// "int64", "uint8", "float64", "bool", "datetime64[ns]", "str", "bytes": a column's type as numpy names it.
std::string column_type_name(const ColumnSpec& column);

// How a mini-batch's schema differs from the first one's, as a sentence naming the column ("mini-batch 3 returned
// the column 'b' as float64, mini-batch 0 as int64"), or "" when names, order and types agree (string lengths may
// differ). first_batch, batch: the mini-batch ids, for the sentence.
std::string schema_difference(const std::vector<ColumnSpec>& first, std::uint64_t first_batch,
                              const std::vector<ColumnSpec>& other, std::uint64_t batch);

}  // namespace prs
