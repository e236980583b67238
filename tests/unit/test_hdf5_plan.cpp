// read_hdf5 planning: row ranges per file, rows per mini-batch, the MLTable options, and the shapes and types rank 0
// reads (files written here with the HDF5 C API), with one exact line for each table that cannot be read. Also the
// worker's hyperslab reads (one mini-batch read ahead: RowsAhead), and a missing module. prs_core reads through the
// module prs_h5.so, which ctest names in $PRS_H5_MODULE (tests/CMakeLists.txt); run by hand, set it to
// build/prs_h5.so.
#include <catch2/catch.hpp>
#include <hdf5.h>

#include <cstdlib>
#include <cstring>

#include "config_support.hpp"
#include "prs/error.hpp"
#include "prs/input/hdf5_table.hpp"
#include "prs/worker/python_link.hpp"
#include "prs/worker/rows_ahead.hpp"

using prs::TableCut;
using prs_test::TempJobDir;

namespace {

// A file written for a test, closed when the writer goes.
struct Writer {
  explicit Writer(const std::string& path) : file(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT)) {
    REQUIRE(file >= 0);
  }
  ~Writer() { H5Fclose(file); }
  // A dataset of the given shape and type holding data (or zeros).
  void dataset(const char* name, std::vector<hsize_t> dims, hid_t type, const void* data = nullptr) {
    hid_t space = H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr);
    hid_t set = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    REQUIRE(set >= 0);
    if (data != nullptr) REQUIRE(H5Dwrite(set, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(set);
    H5Sclose(space);
  }
  hid_t file;
};

#pragma pack(push, 1)
struct Row {
  std::int32_t a;
  double b;
  char s[4];
};
#pragma pack(pop)

// A compound dataset /t of rows (a int32, b float64, s fixed 4-byte string), a = 0..rows-1.
void write_compound(const std::string& path, std::size_t rows) {
  hid_t str = H5Tcopy(H5T_C_S1);
  H5Tset_size(str, 4);
  hid_t row = H5Tcreate(H5T_COMPOUND, sizeof(Row));
  H5Tinsert(row, "a", offsetof(Row, a), H5T_NATIVE_INT32);
  H5Tinsert(row, "b", offsetof(Row, b), H5T_NATIVE_DOUBLE);
  H5Tinsert(row, "s", offsetof(Row, s), str);
  std::vector<Row> data(rows);
  for (std::size_t i = 0; i < rows; ++i) {
    data[i].a = static_cast<std::int32_t>(i);
    data[i].b = 0.5 * static_cast<double>(i);
    std::memcpy(data[i].s, ("r" + std::to_string(i % 100) + "___").c_str(), 4);
  }
  Writer(path).dataset("t", {rows}, row, data.data());
  H5Tclose(row);
  H5Tclose(str);
}

prs::TableReader dataset_reader(const std::string& path) {
  prs::TableReader r;
  r.format = prs::TableFormat::hdf5;
  r.hdf5_dataset = path;
  r.hdf5_where = "/d/MLTable:4: read_hdf5.dataset";
  return r;
}

prs::TableReader columns_reader(std::vector<std::string> columns) {
  prs::TableReader r;
  r.format = prs::TableFormat::hdf5;
  r.hdf5_columns = std::move(columns);
  r.hdf5_where = "/d/MLTable:4: read_hdf5.columns";
  return r;
}

std::string inspect_error(const std::string& path, const prs::TableReader& reader) {
  try {
    prs::inspect_hdf5(path, reader);
  } catch (const prs::Error& e) {
    return e.what();
  }
  FAIL("no error for " << path);
  return "";
}

std::string mltable_error(const TempJobDir& dir, const std::string& text) {
  dir.write("t/MLTable", text);
  try {
    prs::read_mltable(dir / "t", true);
  } catch (const prs::Error& e) {
    return e.what();
  }
  FAIL("no error for:\n" << text);
  return "";
}

}  // namespace

namespace prs {
bool operator==(const TableCut& x, const TableCut& y) {
  return x.file == y.file && x.offset == y.offset && x.length == y.length;
}
}  // namespace prs

namespace Catch {
template <>
struct StringMaker<TableCut> {
  static std::string convert(const TableCut& c) {
    return "{" + std::to_string(c.file) + ", " + std::to_string(c.offset) + ", " + std::to_string(c.length) + "}";
  }
};
}  // namespace Catch

TEST_CASE("rows are cut per file, the last mini-batch of a file shorter, an empty file none", "[hdf5_plan]") {
  CHECK(prs::plan_rows({10, 0, 7, 3}, 3) == std::vector<TableCut>{{0, 0, 3}, {0, 3, 3}, {0, 6, 3}, {0, 9, 1},
                                                                   {2, 0, 3}, {2, 3, 3}, {2, 6, 1}, {3, 0, 3}});
  CHECK(prs::plan_rows({5}, 100) == std::vector<TableCut>{{0, 0, 5}});
  CHECK(prs::plan_rows({4}, 1).size() == 4);
  CHECK(prs::plan_rows({}, 3).empty());
  CHECK_THROWS_WITH(prs::plan_rows({4}, 0), "mini_batch_row_size: must be at least 1 row, got 0");
}

TEST_CASE("rows per mini-batch: mini_batch_row_size, else a count, else a size over the row's bytes", "[hdf5_plan]") {
  prs::JobConfig c;
  CHECK(prs::hdf5_batch_rows(c, 16) == 65536);  // the 1 MB default over 16-byte rows
  c.mini_batch_bytes = 100;
  c.mini_batch_size_is_size = true;
  c.mini_batch_size_location = "job.yml:3: mini_batch_size";
  CHECK(prs::hdf5_batch_rows(c, 16) == 6);
  CHECK(prs::hdf5_batch_rows(c, 1000) == 1);  // a row longer than the size: one row per mini-batch
  c.mini_batch_size_is_size = false;
  c.mini_batch_size = 7;
  CHECK(prs::hdf5_batch_rows(c, 16) == 7);  // a plain count is rows
  c.mini_batch_row_size = 9;
  CHECK(prs::hdf5_batch_rows(c, 16) == 9);  // mini_batch_row_size wins
}

TEST_CASE("read_hdf5 options in the MLTable, and each bad one", "[hdf5_plan]") {
  TempJobDir dir;
  dir.write("t/a.h5", "");
  dir.write("t/MLTable", "paths:\n  - file: a.h5\ntransformations:\n  - read_hdf5:\n      columns: [/g/x, y]\n");
  prs::MLTable t = prs::read_mltable(dir / "t", true);
  CHECK(t.reader.format == prs::TableFormat::hdf5);
  CHECK(t.reader.hdf5_columns == std::vector<std::string>{"/g/x", "/y"});
  CHECK(t.reader.hdf5_where == dir / "t/MLTable:5: read_hdf5.columns");
  const std::string m = dir / "t/MLTable";
  const std::string head = "paths:\n  - file: a.h5\ntransformations:\n  - read_hdf5:\n";
  CHECK(mltable_error(dir, head + "      dataset: /t\n      columns: [/a]\n") ==
        m + ":5: read_hdf5: takes dataset: /path (a compound, 2-D or 1-D dataset) or columns: [/a, /b] (1-D "
            "datasets); give one of them, got both");
  CHECK(mltable_error(dir, head + "      file: a.h5\n") ==
        m + ":5: read_hdf5.file: unknown option; read_hdf5 takes dataset: /path (a compound, 2-D or 1-D dataset) "
            "or columns: [/a, /b] (1-D datasets)");
  CHECK(mltable_error(dir, head + "      columns: [/a/x, /b/x]\n") ==
        m + ":5: read_hdf5.columns: two columns would be named x, got /a/x and /b/x");
  CHECK(mltable_error(dir, head + "      dataset: /\n") ==
        m + ":5: read_hdf5.dataset: must name a dataset such as /group/data, got /");
}

TEST_CASE("rank 0 reads the shapes and types of each form of table", "[hdf5_plan]") {
  TempJobDir dir;
  write_compound(dir / "c.h5", 10);
  prs::Hdf5Shape c = prs::inspect_hdf5(dir / "c.h5", dataset_reader("/t"));
  CHECK(c.rows == 10);
  CHECK(c.row_bytes == 16);
  CHECK(c.describe() == "a int32, b float64, s object");
  {
    Writer w(dir / "m.h5");
    w.dataset("m", {5, 3}, H5T_IEEE_F32BE);  // big-endian in the file: read as native float32
    w.dataset("u", {5}, H5T_STD_U16LE);
    w.dataset("v", {5}, H5T_STD_I64BE);
    w.dataset("w", {4}, H5T_NATIVE_INT8);
  }
  prs::Hdf5Shape m = prs::inspect_hdf5(dir / "m.h5", dataset_reader("/m"));
  CHECK(m.rows == 5);
  CHECK(m.describe() == "Column1 float32, Column2 float32, Column3 float32");
  prs::Hdf5Shape uv = prs::inspect_hdf5(dir / "m.h5", columns_reader({"/u", "/v"}));
  CHECK(uv.describe() == "u uint16, v int64");
  CHECK(uv.row_bytes == 10);
  CHECK(inspect_error(dir / "m.h5", columns_reader({"/u", "/w"})) ==
        "/d/MLTable:4: read_hdf5.columns: /w has 4 rows in " + dir / "m.h5" +
            " but /u has 5; the columns must have the same length, got 4");
}

TEST_CASE("a table rank 0 cannot read is one line naming the MLTable line, the file and what it found", "[hdf5_plan]") {
  TempJobDir dir;
  {
    Writer w(dir / "bad.h5");
    w.dataset("cube", {2, 3, 4}, H5T_NATIVE_INT32);
    w.dataset("scalar", {}, H5T_NATIVE_INT32);
    hid_t opaque = H5Tcreate(H5T_OPAQUE, 4);
    w.dataset("blob", {3}, opaque);
    H5Tclose(opaque);
    w.dataset("refs", {3}, H5T_STD_REF_OBJ);
    H5Gclose(H5Gcreate2(w.file, "grp", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  }
  const std::string f = dir / "bad.h5";
  const std::string where = "/d/MLTable:4: read_hdf5.dataset: ";
  CHECK(inspect_error(f, dataset_reader("/nope")) == where + "no such dataset in " + f + ", got /nope");
  CHECK(inspect_error(f, dataset_reader("/grp/x")) == where + "no such dataset in " + f + ", got /grp/x");
  CHECK(inspect_error(f, dataset_reader("/grp")) == where + "no such dataset in " + f + ", got /grp");
  CHECK(inspect_error(f, dataset_reader("/cube")) ==
        where + "/cube in " + f + " must be a 1-D or 2-D dataset, got 3 dimensions (2 x 3 x 4)");
  CHECK(inspect_error(f, dataset_reader("/scalar")) ==
        where + "/scalar in " + f + " must be a 1-D or 2-D dataset, got 0 dimensions (a scalar)");
  const std::string cannot = " has a type a DataFrame column cannot hold (supported: integer, float, bool (h5py's "
                             "enum), fixed- and variable-length string), got ";
  CHECK(inspect_error(f, dataset_reader("/blob")) == where + "/blob in " + f + cannot + "opaque");
  CHECK(inspect_error(f, dataset_reader("/refs")) == where + "/refs in " + f + cannot + "reference");
  CHECK(inspect_error(f, columns_reader({"/cube"})) ==
        "/d/MLTable:4: read_hdf5.columns: /cube in " + f + " must be a 1-D dataset (a column), got 3 dimensions "
        "(2 x 3 x 4)");
  write_compound(dir / "c.h5", 3);
  CHECK(inspect_error(dir / "c.h5", columns_reader({"/t"})) ==
        "/d/MLTable:4: read_hdf5.columns: /t in " + dir / "c.h5" + " must be a column of numbers, booleans or "
        "strings (read a compound's fields with dataset: /t), got compound");
  dir.write("notes.h5", "not HDF5\n");
  CHECK(inspect_error(dir / "notes.h5", dataset_reader("/t")) == where + "not an HDF5 file, got " + dir / "notes.h5");
}

TEST_CASE("a worker reads its hyperslab of a compound table column by column", "[hdf5_plan]") {
  TempJobDir dir;
  write_compound(dir / "c.h5", 10);
  prs::Hdf5RowReader reader(dataset_reader("/t"));
  std::vector<prs::ColumnBytes> cols = reader.read(dir / "c.h5", 3, 4);
  REQUIRE(cols.size() == 3);
  CHECK(cols[0].name == "a");
  CHECK(cols[0].dtype == "int32");
  REQUIRE(cols[0].data.size() == 16);
  std::int32_t a[4];
  double b[4];
  std::memcpy(a, cols[0].data.data(), sizeof a);
  std::memcpy(b, cols[1].data.data(), sizeof b);
  CHECK(std::vector<std::int32_t>(a, a + 4) == std::vector<std::int32_t>{3, 4, 5, 6});
  CHECK(std::vector<double>(b, b + 4) == std::vector<double>{1.5, 2.0, 2.5, 3.0});
  CHECK(cols[2].dtype == "S4");
  CHECK(cols[2].data == std::string("r3__r4__r5__r6__"));
  CHECK_THROWS_WITH(reader.read(dir / "c.h5", 8, 4),
                    dir / "c.h5" + ": rows 8..12: the table has 10 rows now: it changed since the job was planned");
}

namespace {

// A read_hdf5 task: attempt `attempt_id` on rows [first, first + count) of path.
prs::TaskMsg rows_task(std::uint64_t attempt_id, const std::string& path, std::uint64_t first, std::uint64_t count) {
  prs::TaskMsg t;
  t.batch_id = attempt_id + 100;
  t.attempt_id = attempt_id;
  t.attempt = 1;
  t.is_table = true;
  t.table.ranges.push_back({path, first, count, "", 0, 0});
  return t;
}

// Column a (int32) of a rows_task body, after checking the task it names.
std::vector<std::int32_t> column_a(const std::string& body, std::uint64_t attempt_id) {
  std::vector<prs::ColumnView> cols;
  const prs::TaskMsg t = prs::decode_rows_task(body, cols);
  CHECK(t.attempt_id == attempt_id);
  REQUIRE(cols.size() == 3);
  REQUIRE(cols[0].name == "a");
  std::vector<std::int32_t> a(cols[0].data.size() / sizeof(std::int32_t));
  std::memcpy(a.data(), cols[0].data.data(), cols[0].data.size());
  return a;
}

}  // namespace

TEST_CASE("a worker reads one mini-batch ahead: rows held for their attempt, errors at their turn", "[hdf5_plan]") {
  TempJobDir dir;
  write_compound(dir / "a.h5", 10);
  prs::RowsAhead ahead(dataset_reader("/t"));
  const prs::TaskMsg first = rows_task(1, dir / "a.h5", 0, 4), second = rows_task(2, dir / "a.h5", 4, 4);
  CHECK(column_a(ahead.take(first), 1) == std::vector<std::int32_t>{0, 1, 2, 3});  // none ahead: read now
  CHECK(ahead.read_ahead(second));
  CHECK(ahead.holds(2));
  CHECK_FALSE(ahead.holds(1));
  CHECK(ahead.read_ahead(second));  // held already: kept
  CHECK(column_a(ahead.take(second), 2) == std::vector<std::int32_t>{4, 5, 6, 7});
  CHECK_FALSE(ahead.holds(2));
  const std::string gone = dir / "b.h5" + ": rows 8..10: /d/MLTable:4: read_hdf5.dataset: cannot read " +
                           dir / "b.h5" + ": No such file or directory";
  const prs::TaskMsg third = rows_task(3, dir / "b.h5", 8, 2);
  CHECK_THROWS_WITH(ahead.take(third), gone);  // read now
  CHECK_FALSE(ahead.read_ahead(third));  // the failed read is held, thrown at its turn with the same text
  CHECK_FALSE(ahead.read_ahead(third));  // held already
  CHECK(ahead.holds(3));
  CHECK_THROWS_WITH(ahead.take(third), gone);
  CHECK_FALSE(ahead.holds(3));
  const prs::TaskMsg fourth = rows_task(4, dir / "a.h5", 6, 2);
  ahead.read_ahead(third);
  ahead.read_ahead(fourth);  // another task: the one held is dropped, one mini-batch ahead at most
  CHECK_FALSE(ahead.holds(3));
  CHECK(ahead.holds(4));
  ahead.drop();
  CHECK_FALSE(ahead.holds(4));
  CHECK(column_a(ahead.take(fourth), 4) == std::vector<std::int32_t>{6, 7});  // dropped: read at its turn
  const prs::TaskMsg past_end = rows_task(5, dir / "a.h5", 8, 4);
  CHECK_FALSE(ahead.read_ahead(past_end));
  CHECK_THROWS_WITH(ahead.take(past_end),
                    dir / "a.h5" + ": rows 8..12: the table has 10 rows now: it changed since the job was planned");
}

TEST_CASE("a worker reads variable-length strings, h5py's bools and a 2-D dataset's rows", "[hdf5_plan]") {
  TempJobDir dir;
  {
    Writer w(dir / "k.h5");
    hid_t vlen = H5Tcopy(H5T_C_S1);
    H5Tset_size(vlen, H5T_VARIABLE);
    H5Tset_cset(vlen, H5T_CSET_UTF8);
    const char* text[4] = {"zero", "", "zwei \xe2\x98\x83", "three"};
    w.dataset("s", {4}, vlen, text);
    hid_t flag = H5Tenum_create(H5T_NATIVE_INT8);
    const std::int8_t no = 0, yes = 1;
    H5Tenum_insert(flag, "FALSE", &no);
    H5Tenum_insert(flag, "TRUE", &yes);
    const std::int8_t flags[4] = {1, 0, 0, 1};
    w.dataset("f", {4}, flag, flags);
    const std::int16_t m[4][3] = {{0, 1, 2}, {10, 11, 12}, {20, 21, 22}, {30, 31, 32}};
    w.dataset("m", {4, 3}, H5T_NATIVE_INT16, m);
    H5Tclose(flag);
    H5Tclose(vlen);
  }
  prs::Hdf5RowReader columns(columns_reader({"/s", "/f"}));
  std::vector<prs::ColumnBytes> c = columns.read(dir / "k.h5", 1, 3);
  REQUIRE(c.size() == 2);
  CHECK(c[0].dtype == "str");
  CHECK(c[0].data == "zwei \xe2\x98\x83three");
  CHECK(c[0].ends == std::vector<std::uint64_t>{0, 8, 13});
  CHECK(c[1].dtype == "bool");
  CHECK(c[1].data == std::string("\0\0\1", 3));
  prs::Hdf5RowReader matrix(dataset_reader("/m"));
  std::vector<prs::ColumnBytes> rows = matrix.read(dir / "k.h5", 2, 2);
  REQUIRE(rows.size() == 3);
  std::int16_t col3[2];
  REQUIRE(rows[2].data.size() == sizeof col3);
  std::memcpy(col3, rows[2].data.data(), sizeof col3);
  CHECK(rows[2].name == "Column3");
  CHECK(std::vector<std::int16_t>(col3, col3 + 2) == std::vector<std::int16_t>{22, 32});
}

namespace {

// Sets $PRS_H5_MODULE for a test and puts the earlier value back.
struct ModuleEnv {
  explicit ModuleEnv(const std::string& path) : had(std::getenv("PRS_H5_MODULE") != nullptr) {
    if (had) old = std::getenv("PRS_H5_MODULE");
    ::setenv("PRS_H5_MODULE", path.c_str(), 1);
  }
  ~ModuleEnv() { had ? ::setenv("PRS_H5_MODULE", old.c_str(), 1) : ::unsetenv("PRS_H5_MODULE"); }
  bool had;
  std::string old;
};

}  // namespace

TEST_CASE("without prs_h5.so a table is one line naming the module's path", "[hdf5_plan]") {
  TempJobDir dir;
  write_compound(dir / "c.h5", 2);
  const std::string where = "/d/MLTable:4: read_hdf5.dataset: ";
  {
    ModuleEnv env(dir / "none/prs_h5.so");
    CHECK(inspect_error(dir / "c.h5", dataset_reader("/t")) ==
          where + "cannot load the HDF5 module " + dir / "none/prs_h5.so" + " that reads HDF5 tables (it is built "
          "beside prs_mpi; $PRS_H5_MODULE names another): " + dir / "none/prs_h5.so" + ": cannot open shared object "
          "file: No such file or directory");
    prs::Hdf5RowReader reader(dataset_reader("/t"));
    CHECK_THROWS_WITH(reader.read(dir / "c.h5", 0, 2),
                      dir / "c.h5" + ": rows 0..2: " + where + "cannot load the HDF5 module " + dir /
                          "none/prs_h5.so" + " that reads HDF5 tables (it is built beside prs_mpi; $PRS_H5_MODULE "
                          "names another): " + dir / "none/prs_h5.so" + ": cannot open shared object file: No such "
                          "file or directory");
  }
  {
    ModuleEnv env("libm.so.6");  // a library, but not the module
    CHECK(inspect_error(dir / "c.h5", dataset_reader("/t")) ==
          where + "libm.so.6: not prs_mpi's HDF5 module (no prs_h5_input_v1)");
  }
  CHECK(prs::inspect_hdf5(dir / "c.h5", dataset_reader("/t")).rows == 2);  // $PRS_H5_MODULE of ctest again
}
