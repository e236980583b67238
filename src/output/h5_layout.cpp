#include "prs/output/h5_layout.hpp"

#include <algorithm>

#include "prs/error.hpp"
#include "prs/mpi/byte_codec.hpp"

namespace prs {

H5Layout lay_out_h5(const std::vector<StagedRecord>& records, const std::vector<RowRecord>& headers, int ranks,
                    const std::string& where) {
  H5Layout layout;
  layout.records = records;
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const RowRecord& h = headers[i];
    if (i == 0) layout.columns = h.columns;
    std::string change = schema_difference(layout.columns, records[0].batch, h.columns, records[i].batch);
    if (!change.empty())
      throw Error(where + ": " + change + "; every mini-batch of a .h5 output must return the same columns with the "
                  "same types");
    for (std::size_t c = 0; c < h.columns.size(); ++c)
      layout.columns[c].max_length = std::max(layout.columns[c].max_length, h.columns[c].max_length);
    layout.first_row.push_back(layout.total_rows);
    layout.total_rows += h.rows;
    bytes += records[i].length;
  }
  // Record i goes to the rank in whose share of the bytes it starts: contiguous runs, about equal in bytes.
  layout.rank_first.assign(static_cast<std::size_t>(ranks) + 1, records.size());
  std::uint64_t before = 0;
  std::size_t next_rank = 0;
  for (std::size_t i = 0; i < records.size(); ++i) {
    const auto share = static_cast<long double>(before) * ranks / static_cast<long double>(bytes);
    const std::size_t rank = std::min(static_cast<std::size_t>(share), static_cast<std::size_t>(ranks) - 1);
    while (next_rank <= rank) layout.rank_first[next_rank++] = i;
    before += records[i].length;
  }
  return layout;
}

std::string encode_h5_layout(const H5Layout& layout) {
  ByteWriter w;
  w.put<std::uint64_t>(layout.columns.size());
  for (const ColumnSpec& c : layout.columns)
    w.put(c.name).put<char>(static_cast<char>(c.kind)).put(c.item_size).put(c.max_length);
  w.put(layout.total_rows).put<std::uint64_t>(layout.records.size());
  for (std::size_t i = 0; i < layout.records.size(); ++i)
    w.put(layout.records[i].batch).put(layout.records[i].offset).put(layout.records[i].length).put(layout.first_row[i]);
  w.put<std::uint64_t>(layout.rank_first.size());
  for (std::size_t first : layout.rank_first) w.put<std::uint64_t>(first);
  return w.take();
}

H5Layout decode_h5_layout(const std::string& bytes) {
  ByteReader r(bytes, "h5 layout");
  H5Layout layout;
  const auto columns = r.get<std::uint64_t>();
  for (std::uint64_t i = 0; i < columns && r.left() > 0; ++i) {
    ColumnSpec c;
    c.name = r.get_string();
    c.kind = static_cast<ColumnKind>(r.get<char>());
    c.item_size = r.get<std::uint8_t>();
    c.max_length = r.get<std::uint64_t>();
    layout.columns.push_back(std::move(c));
  }
  layout.total_rows = r.get<std::uint64_t>();
  const auto records = r.get<std::uint64_t>();
  for (std::uint64_t i = 0; i < records && r.left() > 0; ++i) {
    StagedRecord s;
    s.batch = r.get<std::uint64_t>();
    s.offset = r.get<std::uint64_t>();
    s.length = r.get<std::uint64_t>();
    layout.records.push_back(s);
    layout.first_row.push_back(r.get<std::uint64_t>());
  }
  const auto ranks = r.get<std::uint64_t>();
  for (std::uint64_t i = 0; i < ranks && r.left() > 0; ++i) layout.rank_first.push_back(r.get<std::uint64_t>());
  r.done();
  if (layout.columns.size() != columns || layout.records.size() != records) throw Fatal("h5 layout: truncated");
  return layout;
}

}  // namespace prs
