#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "prs/error.hpp"
#include "prs/output/row_record.hpp"

using namespace prs;

namespace {

template <typename T>
std::string values(const std::vector<T>& v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

// A string column's data: u32 lengths, then the bytes.
std::string strings(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) {
    auto n = static_cast<std::uint32_t>(s.size());
    out.append(reinterpret_cast<const char*>(&n), 4);
  }
  for (const std::string& s : v) out += s;
  return out;
}

std::vector<ColumnSpec> schema() {
  return {{"id", ColumnKind::signed_int, 8, 0}, {"score", ColumnKind::floating, 8, 0}, {"ok", ColumnKind::boolean, 1, 0},
          {"name", ColumnKind::text, 0, 6}};
}

std::string sample() {
  return encode_row_record(3, schema(),
                           {values<std::int64_t>({1, -2, 3}), values<double>({0.5, 1.5, -2.25}), std::string("\1\0\1", 3),
                            strings({"a", "", "h\xc3\xa9llo"})});
}

std::string error_of(const std::string& bytes) {
  try {
    parse_row_record(bytes, "out.h5.rows: mini-batch 7");
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a row record round-trips its schema, rows and column data", "[row_record]") {
  const std::string bytes = sample();
  CHECK(bytes.compare(0, 8, "PRSH5RC1") == 0);
  RowRecord r = parse_row_record(bytes, "x");
  CHECK(r.rows == 3);
  REQUIRE(r.columns.size() == 4);
  CHECK(r.columns[0].name == "id");
  CHECK(column_type_name(r.columns[0]) == "int64");
  CHECK(column_type_name(r.columns[1]) == "float64");
  CHECK(column_type_name(r.columns[2]) == "bool");
  CHECK(column_type_name(r.columns[3]) == "str");
  CHECK(r.columns[3].max_length == 6);
  std::int64_t second = 0;
  std::memcpy(&second, r.data[0].data() + 8, 8);
  CHECK(second == -2);
  CHECK(r.data[2] == std::string("\1\0\1", 3));
  CHECK(r.size == bytes.size());
  // The header alone gives the same schema and rows (rank 0 reads only headers).
  const std::uint32_t h = row_record_header_length(bytes.substr(0, kRowRecordPrefix), "x");
  RowRecord head = parse_row_record_header(bytes.substr(0, kRowRecordPrefix + h), bytes.size(), "x");
  CHECK(head.rows == 3);
  CHECK(head.columns.size() == 4);
  CHECK(head.data.empty());
  CHECK(head.data_lengths[3] == 12 + 7);
}

TEST_CASE("string columns become NUL-padded fixed-width values", "[row_record]") {
  const std::string data = strings({"ab", "", "xyz"});
  CHECK(fixed_width_strings(data, 3, 3) == std::string("ab\0\0\0\0xyz", 9));
  CHECK(fixed_width_strings(data, 3, 4) == std::string("ab\0\0\0\0\0\0xyz\0", 12));
  CHECK_THROWS_AS(fixed_width_strings(data, 3, 2), Error);
}

TEST_CASE("a damaged or foreign row record is an error naming where, never a crash", "[row_record]") {
  const std::string good = sample();
  CHECK(error_of("hello world, not a record") ==
        "out.h5.rows: mini-batch 7: not a row record (the staging file is damaged or from another program)");
  CHECK(error_of(good.substr(0, good.size() - 1)) ==
        "out.h5.rows: mini-batch 7: the row record is damaged: column 'name' data length 19 does not fit its rows");
  CHECK(error_of(good + "x") ==
        "out.h5.rows: mini-batch 7: the row record is damaged: its columns hold " + std::to_string(good.size()) +
            " bytes, the record " + std::to_string(good.size() + 1));
  std::string bad_bool = good;
  bad_bool[good.size() - 19 - 2] = 7;  // the middle boolean
  CHECK(error_of(bad_bool) == "out.h5.rows: mini-batch 7: the row record is damaged: column 'ok' holds a boolean other "
                              "than 0 or 1");
  std::string bad_longest = encode_row_record(1, {{"s", ColumnKind::text, 0, 9}}, {strings({"abc"})});
  CHECK(error_of(bad_longest) ==
        "out.h5.rows: mini-batch 7: the row record is damaged: column 's' longest string is not as announced");
  std::string bad_kind = encode_row_record(1, {{"f", ColumnKind::floating, 2, 0}}, {std::string(2, '\0')});
  CHECK(error_of(bad_kind) ==
        "out.h5.rows: mini-batch 7: the row record is damaged: column 0 has no name or an unknown type");
  // Every truncation and every single-byte change of the header is caught or parses to a consistent record.
  for (std::size_t n = 0; n < good.size(); ++n) CHECK_THROWS_AS(parse_row_record(good.substr(0, n), "x"), Error);
  const std::uint32_t h = row_record_header_length(good, "x");
  for (std::size_t i = 8; i < kRowRecordPrefix + h; ++i) {
    std::string mutated = good;
    mutated[i] = static_cast<char>(mutated[i] ^ 0x5a);
    try {
      RowRecord r = parse_row_record(mutated, "x");
      std::uint64_t total = kRowRecordPrefix + row_record_header_length(mutated, "x");
      for (std::uint64_t l : r.data_lengths) total += l;
      CHECK(total == mutated.size());
    } catch (const Error&) {
    }
  }
}

TEST_CASE("schema_difference names the mini-batches and the column", "[row_record]") {
  std::vector<ColumnSpec> a = schema();
  CHECK(schema_difference(a, 0, a, 3) == "");
  std::vector<ColumnSpec> longer_strings = a;
  longer_strings[3].max_length = 50;
  CHECK(schema_difference(a, 0, longer_strings, 3) == "");
  std::vector<ColumnSpec> b = a;
  b[0] = {"id", ColumnKind::floating, 8, 0};
  CHECK(schema_difference(a, 0, b, 3) == "mini-batch 3 returned the column 'id' as float64, mini-batch 0 as int64");
  b = a;
  b[1].name = "value";
  CHECK(schema_difference(a, 2, b, 5) == "mini-batch 5 returned the column 'value' where mini-batch 2 returned 'score'");
  b = a;
  b.push_back({"extra", ColumnKind::bytes, 0, 1});
  CHECK(schema_difference(a, 0, b, 1) == "mini-batch 1 returned the column 'extra', which mini-batch 0 did not");
  b = a;
  b.pop_back();
  CHECK(schema_difference(a, 0, b, 1) == "mini-batch 1 did not return the column 'name' of mini-batch 0");
}
