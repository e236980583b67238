// The MLTable file: paths, read_delimited and read_json_lines options, and one clear line for each bad file.
#include <catch2/catch.hpp>

#include "config_support.hpp"
#include "prs/input/mltable.hpp"
#include "prs/input/table_plan.hpp"

using prs::HeaderMode;
using prs::TableFormat;
using prs_test::TempJobDir;

namespace {

std::string error_of(const TempJobDir& dir, const std::string& mltable) {
  dir.write("t/MLTable", mltable);
  try {
    prs::read_mltable(dir / "t", true);
  } catch (const prs::Error& e) {
    return e.what();
  }
  FAIL("no error for:\n" << mltable);
  return "";
}

}  // namespace

TEST_CASE("read_delimited with every option and the three kinds of path", "[mltable]") {
  TempJobDir dir;
  dir.write("t/a.csv", "x\n1\n");
  dir.write("t/sub/b.csv", "x\n2\n");
  dir.write("t/sub/c.csv", "x\n3\n");
  dir.write("t/p/d.csv", "x\n4\n");
  dir.write("t/p/e.txt", "x\n5\n");
  dir.write("t/MLTable",
            "paths:\n  - file: ./a.csv\n  - folder: ./sub\n  - pattern: ./p/*.csv\ntransformations:\n"
            "  - read_delimited:\n      delimiter: ';'\n      header: from_first_file\n      encoding: iso88591\n"
            "      empty_as_string: true\n      include_path_column: true\n      support_multi_line: true\n"
            "      infer_column_types: false\n");
  prs::MLTable t = prs::read_mltable(dir / "t", true);
  CHECK(t.file == dir / "t/MLTable");
  CHECK(t.reader.format == TableFormat::delimited);
  CHECK(t.reader.delimiter == ';');
  CHECK(t.reader.header == HeaderMode::from_first_file);
  CHECK(t.reader.encoding == "latin1");
  CHECK(t.reader.empty_as_string);
  CHECK(t.reader.include_path_column);
  CHECK(t.reader.support_multi_line);
  CHECK_FALSE(t.reader.infer_column_types);
  REQUIRE(t.files.size() == 4);
  CHECK(t.files.at(0) == dir / "t/a.csv");
  CHECK(t.files.at(1) == dir / "t/p/d.csv");
  CHECK(t.files.at(3) == dir / "t/sub/c.csv");
}

TEST_CASE("defaults, json lines, a file list and the MLTable file never listed", "[mltable]") {
  TempJobDir dir;
  dir.write("t/a.csv", "x\n");
  dir.write("t/MLTable", "paths:\n  - folder: .\ntransformations:\n  - read_delimited\n");
  prs::MLTable t = prs::read_mltable(dir / "t", true);
  CHECK(t.reader.header == HeaderMode::all_files_same_headers);
  CHECK(t.reader.delimiter == ',');
  CHECK(t.reader.encoding == "utf8");
  CHECK(t.reader.infer_column_types);
  REQUIRE(t.files.size() == 1);
  dir.write("t/MLTable", "paths:\n  - file: a.csv\ntransformations:\n  - read_json_lines:\n      invalid_lines: drop\n");
  t = prs::read_mltable(dir / "t", true);
  CHECK(t.reader.format == TableFormat::json_lines);
  CHECK(t.reader.drop_invalid_lines);
  dir.write("t/MLTable", "paths:\n  - file: a.csv\n");
  CHECK(prs::read_mltable(dir / "t", true).reader.format == TableFormat::file_list);
}

TEST_CASE("every bad MLTable is one line naming the file, the line and the key", "[mltable]") {
  TempJobDir dir;
  dir.write("t/a.csv", "x\n");
  const std::string m = dir / "t/MLTable";
  const std::string paths = "paths:\n  - file: a.csv\n";
  CHECK(error_of(dir, paths + "transformations:\n  - read_parquet: {}\n") ==
        m + ":4: transformations[0]: read_parquet is not supported: this platform's packages have no Parquet reader; "
            "supported: read_delimited, read_json_lines, read_hdf5, or paths without a transformation (a file list)");
  CHECK(error_of(dir, paths + "transformations:\n  - take: 10\n") ==
        m + ":4: transformations[0]: take is not supported; supported: read_delimited, read_json_lines, read_hdf5, "
            "or paths without a transformation (a file list)");
  CHECK(error_of(dir, paths + "transformations:\n  - read_delimited\n  - filter: x\n") ==
        m + ":5: transformations[1]: filter: only one transformation is supported (one read_delimited, "
            "read_json_lines or read_hdf5)");
  CHECK(error_of(dir, paths + "transformations:\n  - read_delimited:\n      header: first\n") ==
        m + ":5: transformations[0].read_delimited.header: must be no_header, from_first_file, "
            "all_files_same_headers or all_files_different_headers, got first");
  CHECK(error_of(dir, paths + "transformations:\n  - read_delimited:\n      encoding: ebcdic\n") ==
        m + ":5: transformations[0].read_delimited.encoding: must be utf8, utf8bom, ascii, latin1 (iso88591), "
            "windows1252 or utf16, got ebcdic");
  CHECK(error_of(dir, paths + "transformations:\n  - read_delimited:\n      delimiter: '::'\n") ==
        m + ":5: transformations[0].read_delimited.delimiter: must be one character other than a quote or a "
            "newline, got ::");
  CHECK(error_of(dir, paths + "transformations:\n  - read_delimited:\n      sep: ','\n") ==
        m + ":5: transformations[0].read_delimited.sep: unknown option; read_delimited takes delimiter, header, "
            "encoding, empty_as_string, include_path_column, support_multi_line, infer_column_types, dtype");
  CHECK(error_of(dir, paths + "transformations:\n  - read_json_lines:\n      invalid_lines: skip\n") ==
        m + ":5: transformations[0].read_json_lines.invalid_lines: must be error or drop, got skip");
  CHECK(error_of(dir, paths + "transformations:\n  - read_delimited:\n      empty_as_string: maybe\n") ==
        m + ":5: transformations[0].read_delimited.empty_as_string: must be true or false, got maybe");
  CHECK(error_of(dir, "transformations:\n  - read_delimited\n") ==
        m + ":1: paths: is required: the files of the table, e.g. - file: ./iris.csv");
  CHECK(error_of(dir, "paths:\n  - file: missing.csv\n") ==
        m + ":2: paths[0].file: " + dir / "t/missing.csv" + " is not a file");
  CHECK(error_of(dir, "paths:\n  - url: a.csv\n") == m + ":2: paths[0].url: unknown kind of path; use file, folder or pattern");
  CHECK(error_of(dir, "paths: [\n") .rfind(m + ":2: not valid YAML: ", 0) == 0);
  CHECK(error_of(dir, "paths:\n  - file: a.csv\ncolumns: 3\n") ==
        m + ":3: columns: unknown key; an MLTable has paths and transformations");
}

TEST_CASE("a folder without an MLTable file is refused", "[mltable]") {
  TempJobDir dir;
  dir.mkdir("t");
  CHECK_THROWS_WITH(prs::read_mltable(dir / "t", true),
                    dir / "t/MLTable" + " does not exist: a type: mltable input is a folder holding an MLTable file");
}

namespace {

// A job whose input_data is a type: mltable folder (table/ with an MLTable file); `extra` starts at line 7.
std::string table_job(const std::string& extra) {
  return "type: parallel\n"
         "inputs:\n"
         "  input_data: {type: mltable, path: ./table}\n"
         "input_data: ${{inputs.input_data}}\n"
         "task:\n"
         "  entry_script: score.py\n" +
         extra;
}

}  // namespace

TEST_CASE("mini_batch_size for a table: sizes, a plain count in bytes, 1 MB by default", "[mltable]") {
  prs_test::basic::JobDir dir;
  dir.write("table/MLTable", "paths:\n  - file: a.csv\ntransformations:\n  - read_delimited\n");
  dir.write("table/a.csv", "x\n1\n");
  using prs_test::basic::load_job;
  CHECK(load_job(dir, table_job("mini_batch_size: 10kb\n")).mini_batch_bytes == 10240);
  CHECK(load_job(dir, table_job("mini_batch_size: \"1MB\"\n")).mini_batch_bytes == 1048576);
  CHECK(load_job(dir, table_job("mini_batch_size: 100 mb\n")).mini_batch_bytes == 100u << 20);
  CHECK(load_job(dir, table_job("mini_batch_size: 1GB\n")).mini_batch_bytes == 1u << 30);
  CHECK(load_job(dir, table_job("mini_batch_size: \"1024\"\n")).mini_batch_bytes == 1024);
  const prs::JobConfig unset = load_job(dir, table_job(""));
  CHECK(unset.input_kind == prs::InputKind::mltable);
  CHECK(prs::table_batch_bytes(unset) == 1048576);
  CHECK(prs_test::basic::error_of(dir, table_job("mini_batch_size: 16777216tb\n")) ==
        "job.yml:7: mini_batch_size: must be in [1, 18446744073709551615] bytes, got 16777216tb");
  // A size while input_data is a file list, even beside a declared mltable input.
  CHECK(prs_test::basic::error_of(dir, "type: parallel\ninputs:\n  t: {type: mltable, path: ./table}\n"
                                       "  input_data: {type: uri_folder, path: ./data}\n"
                                       "input_data: ${{inputs.input_data}}\nmini_batch_size: 10kb\n"
                                       "task:\n  entry_script: score.py\n") ==
        "job.yml:6: mini_batch_size: must be a count of files for a file list input (sizes such as 10kb are for "
        "tabular input), got 10kb");
}
