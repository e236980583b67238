// The index pass's scans: delimited records split as pandas splits them (quotes, "", embedded delimiters and
// newlines, CRLF), JSON keys as text, record counts and row cuts that never cross a file.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "prs/error.hpp"
#include "prs/input/index_pass.hpp"
#include "prs/input/table_index.hpp"

using namespace prs;
using Strings = std::vector<std::string>;
namespace fs = std::filesystem;

namespace {

// A table file in a fresh folder, planned as one cut after its header.
struct OneFile {
  fs::path dir = fs::temp_directory_path() / ("prs_index_" + std::to_string(::getpid()));
  TablePlan plan;
  OneFile(const std::string& bytes, std::uint64_t data_start, std::uint64_t header_length = 0) {
    fs::create_directories(dir);
    const std::string path = (dir / "t.csv").string();
    std::ofstream(path, std::ios::binary) << bytes;
    TableFile f{path, bytes.size(), 0, header_length, data_start};
    plan.files.push_back(f);
    plan.batches.push_back({0, data_start, bytes.size() - data_start});
  }
  ~OneFile() { fs::remove_all(dir); }
};

}  // namespace

TEST_CASE("split_record unquotes fields as pandas does", "[table_index]") {
  CHECK(split_record("a,b,c\r\n", ',') == Strings{"a", "b", "c"});
  CHECK(split_record("\"x,y\",\"say \"\"hi\"\"\",", ',') == Strings{"x,y", "say \"hi\"", ""});
  CHECK(split_record("\"multi\nline\";2", ';') == Strings{"multi\nline", "2"});
  CHECK(split_record("ab\"c,\"q\"r", ',') == Strings{"ab\"c", "qr"});  // a quote mid-field is text
  CHECK(split_record("", ',') == Strings{""});
}

TEST_CASE("cut_keys finds each record's key tuple; quoted newlines and CRLF do not split records", "[table_index]") {
  const std::string header = "k,v,t\r\n";
  OneFile f(header + "x,1,\"a\r\nb\"\r\n\"y,1\",2,c\r\n\r\nx,3,\"d,e\"\r\nz\r\n", header.size(), header.size());
  TableReader reader;
  reader.format = TableFormat::delimited;
  IndexQuery q;
  q.keys = {"k", "t"};
  q.columns = {{0, 2}};
  const CutKeys keys = cut_keys(f.plan, reader, q, 0);
  CHECK(keys.tuples == std::vector<Strings>{{"x", "a\r\nb"}, {"x", "d,e"}, {"y,1", "c"}, {"z", ""}});
  CHECK(cut_record_count(f.plan, reader, 0) == 4);  // the blank line is no record
}

TEST_CASE("key_query finds key columns by header name and refuses unknown ones", "[table_index]") {
  const std::string header = "k,v\n";
  OneFile f(header + "1,2\n", header.size(), header.size());
  MLTable table;
  table.reader.format = TableFormat::delimited;
  CHECK(key_query(table, f.plan, {"v", "k"}, "job.yml:9: partition_keys").columns ==
        std::vector<std::vector<std::int64_t>>{{1, 0}});
  try {
    key_query(table, f.plan, {"Store"}, "job.yml:9: partition_keys");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) == "job.yml:9: partition_keys: Store is not a column of " + f.plan.files[0].path +
                                       " (columns: k, v) nor a folder Store=VALUE in its path");
  }
  table.reader.header = HeaderMode::no_header;
  CHECK(key_query(table, f.plan, {"Column2"}, "").columns == std::vector<std::vector<std::int64_t>>{{1}});
}

TEST_CASE("JSON keys are text: strings as they are, numbers as written, null and missing as empty",
          "[table_index]") {
  OneFile f("{\"k\": \"a\", \"n\": 1.50}\n{\"k\": 7}\n\n{\"n\": null}\n{\"k\": true, \"n\": -0}\n", 0);
  TableReader reader;
  reader.format = TableFormat::json_lines;
  IndexQuery q;
  q.keys = {"k", "n"};
  const CutKeys keys = cut_keys(f.plan, reader, q, 0);
  CHECK(keys.tuples == std::vector<Strings>{{"", ""}, {"7", ""}, {"a", "1.50"}, {"true", "0"}});
  CHECK(keys.seen == std::vector<bool>{true, true});
}

TEST_CASE("a bad JSON line or a nested key is an error naming the file and byte", "[table_index]") {
  OneFile f("{\"k\": 1}\n{oops\n{\"k\": [1]}\n", 0);
  TableReader reader;
  reader.format = TableFormat::json_lines;
  IndexQuery q;
  q.keys = {"k"};
  const std::string path = f.plan.files[0].path;
  CHECK_THROWS_WITH(cut_keys(f.plan, reader, q, 0),
                    Catch::StartsWith(path + ": byte 9: invalid JSON line (") &&
                        Catch::EndsWith("); invalid_lines: drop skips such lines"));
  reader.drop_invalid_lines = true;
  CHECK_THROWS_WITH(cut_keys(f.plan, reader, q, 0),
                    path + ": byte 15: partition_keys: k holds an object or a list; a key must hold a string, a "
                           "number, a boolean or null");
}

TEST_CASE("row cuts start every N records, restart per file and never cross a file", "[table_index]") {
  const std::string header = "a\n";
  std::string body;
  for (int i = 0; i < 10; ++i) body += std::to_string(i) + (i == 4 ? "\n\n" : "\n");  // a blank line after 4
  OneFile f(header + body, header.size(), header.size());
  TableReader reader;
  reader.format = TableFormat::delimited;
  // The file cut in two at "5\n": the second cut's first record is number 5.
  const std::uint64_t mid = header.size() + body.find("5\n");
  f.plan.batches = {{0, header.size(), mid - header.size()}, {0, mid, header.size() + body.size() - mid}};
  f.plan.files.push_back(f.plan.files[0]);  // the same bytes again as a second file, one cut
  f.plan.batches.push_back({1, header.size(), body.size()});
  IndexJob job{reader, {}, "job.yml:9: mini_batch_row_size"};
  job.query.row_size = 4;
  run_index_serial(job, f.plan);
  std::vector<std::pair<std::uint32_t, std::string>> cuts;
  for (const TableCut& c : f.plan.batches)
    cuts.emplace_back(c.file, (header + body).substr(c.offset, c.length));
  using Cut = std::pair<std::uint32_t, std::string>;
  CHECK(cuts == std::vector<Cut>{{0, "0\n1\n2\n3\n"}, {0, "4\n\n5\n6\n7\n"}, {0, "8\n9\n"},
                                 {1, "0\n1\n2\n3\n"}, {1, "4\n\n5\n6\n7\n"}, {1, "8\n9\n"}});
}
