#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "prs/error.hpp"
#include "prs/output/h5_layout.hpp"

using namespace prs;

namespace {

RowRecord header(std::uint64_t rows, std::uint64_t longest = 3, ColumnKind kind = ColumnKind::signed_int) {
  RowRecord r;
  r.rows = rows;
  r.columns = {{"a", kind, kind == ColumnKind::signed_int ? std::uint8_t{8} : std::uint8_t{4}, 0},
               {"s", ColumnKind::text, 0, longest}};
  return r;
}

}  // namespace

TEST_CASE("the layout gives each record its first row and each rank a contiguous run of about equal bytes",
          "[h5_layout]") {
  std::vector<StagedRecord> records = {{4, 0, 100}, {0, 100, 100}, {2, 200, 100}, {1, 300, 100}};
  std::vector<RowRecord> headers = {header(10, 3), header(5, 9), header(1, 0), header(7, 2)};
  H5Layout l = lay_out_h5(records, headers, 2, "out.h5");
  CHECK(l.total_rows == 23);
  CHECK(l.first_row == std::vector<std::uint64_t>{0, 10, 15, 16});
  CHECK(l.columns[1].max_length == 9);  // the longest over every record
  CHECK(l.rank_first == std::vector<std::size_t>{0, 2, 4});
  l = lay_out_h5(records, headers, 4, "out.h5");
  CHECK(l.rank_first == std::vector<std::size_t>{0, 1, 2, 3, 4});
  l = lay_out_h5(records, headers, 8, "out.h5");  // more ranks than records: some write nothing
  CHECK(l.rank_first == std::vector<std::size_t>{0, 1, 1, 2, 2, 3, 3, 4, 4});
  // One big record and small ones: the big one is a rank's alone.
  records = {{0, 0, 1000}, {1, 1000, 10}, {2, 1010, 10}, {3, 1020, 10}};
  l = lay_out_h5(records, {header(1), header(1), header(1), header(1)}, 3, "out.h5");
  CHECK(l.rank_first == std::vector<std::size_t>{0, 1, 1, 4});
}

TEST_CASE("every row lands exactly once: the slices cover the records without overlap", "[h5_layout]") {
  for (int ranks = 1; ranks <= 9; ++ranks) {
    for (std::size_t n = 0; n <= 13; ++n) {
      std::vector<StagedRecord> records;
      std::vector<RowRecord> headers;
      std::uint64_t rows = 0, offset = 0;
      for (std::size_t i = 0; i < n; ++i) {
        const std::uint64_t length = 50 + 37 * ((i * 7) % 5);
        records.push_back({i, offset, length});
        headers.push_back(header(i % 4 + 1));
        offset += length;
        rows += i % 4 + 1;
      }
      H5Layout l = lay_out_h5(records, headers, ranks, "out.h5");
      REQUIRE(l.rank_first.size() == static_cast<std::size_t>(ranks) + 1);
      CHECK(l.rank_first.front() == 0);
      CHECK(l.rank_first.back() == n);
      for (int r = 0; r < ranks; ++r) CHECK(l.rank_first[r] <= l.rank_first[r + 1]);
      CHECK(l.total_rows == rows);
      for (std::size_t i = 0; i + 1 < n; ++i) CHECK(l.first_row[i + 1] == l.first_row[i] + headers[i].rows);
      H5Layout back = decode_h5_layout(encode_h5_layout(l));
      CHECK(back.rank_first == l.rank_first);
      CHECK(back.first_row == l.first_row);
      CHECK(back.total_rows == l.total_rows);
      CHECK(back.columns.size() == (n == 0 ? 0 : 2));
    }
  }
}

TEST_CASE("a schema change between mini-batches is an error naming both and the column", "[h5_layout]") {
  std::vector<StagedRecord> records = {{3, 0, 10}, {8, 10, 10}};
  try {
    lay_out_h5(records, {header(1), header(1, 3, ColumnKind::floating)}, 2, "/x/out.h5");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          "/x/out.h5: mini-batch 8 returned the column 'a' as float32, mini-batch 3 as int64; every mini-batch of a "
          ".h5 output must return the same columns with the same types");
  }
  CHECK_THROWS_AS(decode_h5_layout("junk"), Fatal);
}
