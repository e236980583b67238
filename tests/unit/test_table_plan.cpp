// Property tests of the table cut plan: random delimited files whose record boundaries the generator knows, cut at
// random sizes; the cuts tile the data without gap or overlap, none is empty, and each ends at the first record
// boundary at or past a multiple of mini_batch_size (so a record longer than it is one cut). The seed is printed on
// failure.
#include <catch2/catch.hpp>

#include <random>
#include <set>
#include <string>

#include "prs/input/table_plan.hpp"

using prs::TableCut;
using prs::TableFile;
using prs::TableFormat;
using prs::TableReader;

namespace {

struct Generated {
  std::string bytes;
  std::set<std::uint64_t> boundaries;  // record starts after the header (and the file's end)
  std::uint64_t data_start = 0;
};

std::string field(std::mt19937& rng, bool multi_line) {
  const std::string plain = "ab1 .-";
  std::string text;
  int n = static_cast<int>(rng() % 6);
  for (int i = 0; i < n; ++i) text += plain[rng() % plain.size()];
  if (rng() % 3 != 0) return text;
  std::string quoted = "\"";
  const std::string inside = multi_line ? "ab,\"\n\r;x" : "ab,\";x";
  for (int i = 0; i < static_cast<int>(rng() % 8); ++i) {
    char c = inside[rng() % inside.size()];
    quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
  }
  return quoted + "\"";
}

// A file with a header record, blank lines, CRLF or LF, maybe no final newline, maybe a BOM.
Generated generate(std::mt19937& rng, bool multi_line, bool header) {
  Generated g;
  if (rng() % 4 == 0) g.bytes = "\xEF\xBB\xBF";
  const bool crlf = rng() % 2 == 0;
  const int records = static_cast<int>(rng() % 40);
  const bool final_newline = rng() % 3 != 0;
  if (header) {
    g.bytes += "h1,h2,h3";
    g.bytes += crlf ? "\r\n" : "\n";
  }
  g.data_start = g.bytes.size();
  for (int r = 0; r < records; ++r) {
    if (rng() % 8 == 0) g.bytes += crlf ? "\r\n" : "\n";  // a blank line is a record of its own
    else g.bytes += field(rng, multi_line) + "," + field(rng, multi_line) + "," + field(rng, multi_line) + (crlf ? "\r\n" : "\n");
    if (r + 1 == records && !final_newline) g.bytes.resize(g.bytes.size() - (crlf ? 2 : 1));
    g.boundaries.insert(g.bytes.size());
  }
  g.boundaries.insert(g.bytes.size());
  if (!multi_line) {  // without support_multi_line every newline ends a record, also inside quotes
    g.boundaries.clear();
    for (std::size_t i = g.data_start; i < g.bytes.size(); ++i)
      if (g.bytes[i] == '\n') g.boundaries.insert(i + 1);
    g.boundaries.insert(g.bytes.size());
  }
  return g;
}

// The cuts must end exactly at the first record boundary at or past each multiple of size after the data start
// (a boundary counted once), and at the end of the file.
void check_cuts(const Generated& g, const std::vector<TableCut>& cuts, const TableFile& layout, std::uint64_t size) {
  CHECK(layout.data_start == g.data_start);
  std::vector<std::uint64_t> ends;
  for (std::uint64_t k = 1; g.data_start + k * size < g.bytes.size(); ++k) {
    const std::uint64_t end = *g.boundaries.lower_bound(g.data_start + k * size);
    if (ends.empty() || ends.back() != end) ends.push_back(end);
  }
  if (g.data_start < g.bytes.size() && (ends.empty() || ends.back() != g.bytes.size())) ends.push_back(g.bytes.size());
  REQUIRE(cuts.size() == ends.size());
  std::uint64_t pos = g.data_start;
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    INFO("cut " << i << " at " << cuts[i].offset << " + " << cuts[i].length);
    REQUIRE(cuts[i].offset == pos);
    REQUIRE(cuts[i].length > 0);
    pos += cuts[i].length;
    REQUIRE(pos == ends[i]);
  }
  REQUIRE(pos == std::max<std::uint64_t>(g.data_start, g.bytes.size()));
}

}  // namespace

TEST_CASE("random delimited files cut on record boundaries, every byte once", "[table_plan]") {
  for (bool multi_line : {false, true}) {
    for (unsigned seed = 1; seed <= 400; ++seed) {
      std::mt19937 rng(seed);
      const bool header = rng() % 4 != 0;
      Generated g = generate(rng, multi_line, header);
      const std::uint64_t size = 1 + rng() % 60;
      TableReader reader;
      reader.format = TableFormat::delimited;
      reader.support_multi_line = multi_line;
      INFO("seed " << seed << (multi_line ? " support_multi_line" : "") << " mini_batch_size " << size);
      TableFile layout;
      std::vector<TableCut> cuts = prs::plan_bytes(g.bytes, reader, header, size, &layout);
      if (!header && g.bytes.rfind("\xEF\xBB\xBF", 0) == 0) g.data_start = 3;
      check_cuts(g, cuts, layout, size);
    }
  }
}

TEST_CASE("utf16 files cut on two-byte newlines after the byte-order mark", "[table_plan]") {
  for (unsigned seed = 1; seed <= 200; ++seed) {
    std::mt19937 rng(seed);
    Generated ascii = generate(rng, seed % 2 == 0, true);
    if (ascii.bytes.rfind("\xEF\xBB\xBF", 0) == 0) continue;
    Generated g;
    g.bytes = "\xFF\xFE";
    for (char c : ascii.bytes) g.bytes += std::string(1, c) + '\0';
    g.data_start = 2 + 2 * ascii.data_start;
    for (std::uint64_t b : ascii.boundaries) g.boundaries.insert(2 + 2 * b);
    TableReader reader;
    reader.format = TableFormat::delimited;
    reader.encoding = "utf16";
    reader.support_multi_line = seed % 2 == 0;
    const std::uint64_t size = 1 + rng() % 60;
    INFO("seed " << seed << " mini_batch_size " << size);
    TableFile layout;
    check_cuts(g, prs::plan_bytes(g.bytes, reader, true, size, &layout), layout, size);
  }
}

TEST_CASE("a header only, an empty file and a record longer than the size", "[table_plan]") {
  TableReader reader;
  reader.format = TableFormat::delimited;
  TableFile layout;
  CHECK(prs::plan_bytes("a,b\n", reader, true, 10, &layout).empty());
  CHECK(layout.header_length == 4);
  CHECK(prs::plan_bytes("a,b", reader, true, 10, &layout).empty());
  CHECK(prs::plan_bytes("", reader, true, 10, &layout).empty());
  CHECK(layout.header_length == 0);
  std::vector<TableCut> cuts = prs::plan_bytes("a\n" + std::string(100, 'x') + "\ny\n", reader, true, 5);
  REQUIRE(cuts.size() == 2);
  CHECK(cuts[0].offset == 2);
  CHECK(cuts[0].length == 101);
  CHECK(cuts[1].length == 2);
}

TEST_CASE("blank lines before the header are skipped", "[table_plan]") {
  TableReader reader;
  reader.format = TableFormat::delimited;
  TableFile layout;
  std::vector<TableCut> cuts = prs::plan_bytes("\n\r\na,b\n1,2\n", reader, true, 100, &layout);
  CHECK(layout.header_offset == 3);
  CHECK(layout.header_length == 4);
  REQUIRE(cuts.size() == 1);
  CHECK(cuts[0].offset == 7);
}
