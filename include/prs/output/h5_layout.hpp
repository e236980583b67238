#pragma once
// Where each committed row record of a .h5 output goes: the rows of the whole .h5, each record's first row, and the
// records each rank writes. Plain bookkeeping (no MPI, no HDF5): rank 0 computes it from the records' headers and
// broadcasts it; every rank then writes its contiguous slice of records.
#include <cstdint>
#include <string>
#include <vector>

#include "prs/output/row_record.hpp"

namespace prs {

// A committed mini-batch's record in the staging file (from the journal).
struct StagedRecord {
  std::uint64_t batch = 0;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

// The .h5's shape and who writes what.
struct H5Layout {
  std::vector<ColumnSpec> columns;       // the schema; a string column's max_length is the longest of every record
  std::uint64_t total_rows = 0;
  std::vector<StagedRecord> records;     // in the .h5's row order
  std::vector<std::uint64_t> first_row;  // per record: its first row in the .h5
  std::vector<std::size_t> rank_first;   // ranks + 1 entries: rank r writes records [rank_first[r], rank_first[r+1])
};

// Lays the records (in row order, with their parsed headers) out over ranks: each rank gets a contiguous run of
// records holding about 1/ranks of the bytes. Throws prs::Error("where: ...") when a record's schema differs from
// the first record's, naming both mini-batches and the column.
H5Layout lay_out_h5(const std::vector<StagedRecord>& records, const std::vector<RowRecord>& headers, int ranks,
                    const std::string& where);

// The layout as bytes (for the broadcast) and back; decode throws prs::Fatal on bytes encode did not make.
std::string encode_h5_layout(const H5Layout& layout);
// See encode_h5_layout.
H5Layout decode_h5_layout(const std::string& bytes);

}  // namespace prs
