#pragma once
// Tabular mini-batches: each file of an MLTable cut into byte ranges of whole records, near multiples of
// mini_batch_size. Rank 0 reads no table data: without support_multi_line a cut moves to the next newline with a
// few small reads, so planning costs O(mini-batches), not O(bytes); with it, a quote-aware pass over each file.
// A range never crosses a file boundary and holds at least one whole record.
#include <cstdint>
#include <string>
#include <vector>

#include "prs/input/mltable.hpp"

namespace prs {

// One file of the plan.
struct TableFile {
  std::string path;              // absolute
  std::uint64_t size = 0;        // bytes
  std::uint64_t header_offset = 0;  // where its header record starts (after a byte-order mark and blank lines)
  std::uint64_t header_length = 0;  // bytes of its header record, newline included; 0: the file has none
  std::uint64_t data_start = 0;  // first byte after the header (or the byte-order mark)
  std::uint64_t rows = 0;        // read_hdf5: rows of its table
};

// One tabular mini-batch: bytes [offset, offset + length) of a file (read_hdf5: rows [offset, offset + length)).
struct TableCut {
  std::uint32_t file = 0;    // index in TablePlan::files
  std::uint64_t offset = 0;  // a record start
  std::uint64_t length = 0;  // > 0
};

// What partition_keys does to a table's mini-batches.
enum class KeyMode : std::uint8_t {
  none,     // every cut is one mini-batch
  folders,  // one mini-batch per hive folder combination: its files' rows, the keys added as columns
  columns,  // one mini-batch per combination of the key columns' values: the cuts holding it, those rows kept
};

// The cut plan of a tabular input, mini-batches numbered densely in input order (files sorted, then offsets), or
// with partition_keys one per key group, sorted by the keys' values.
struct TablePlan {
  std::vector<TableFile> files;
  std::vector<TableCut> batches;  // the cuts (without keys: one mini-batch each)
  KeyMode key_mode = KeyMode::none;
  std::vector<std::string> key_names;  // partition_keys
  // With keys: group g is the cuts group_cuts[group_starts[g] .. group_starts[g + 1]) with values group_values[g].
  std::vector<std::uint64_t> group_starts;
  std::vector<std::uint64_t> group_cuts;
  std::vector<std::vector<std::string>> group_values;
  std::string columns;          // read_hdf5: the table's columns and dtypes ("a int64, b float64")
  std::uint64_t batch_rows = 0;  // read_hdf5: rows per mini-batch
  // The file whose header names the columns of a file's rows (from_first_file: the first file); -1 for none.
  int header_file(std::uint32_t file, HeaderMode mode) const;
  // Number of mini-batches: cuts, or key groups.
  std::uint64_t batch_count() const;
  // The cuts of mini-batch b (indexes into batches), in file and offset order.
  std::vector<std::uint64_t> batch_cuts(std::uint64_t b) const;
};

// Reads length bytes at offset of a file (fewer at its end). Throws prs::Error naming the file.
std::string read_file_range(const std::string& path, std::uint64_t offset, std::uint64_t length);

// Bytes per tabular mini-batch: mini_batch_size as written ("10kb"; a plain count is bytes), else 1 MB.
std::uint64_t table_batch_bytes(const JobConfig& config);

// Plans every file of the table in batch_bytes ranges. Throws prs::Error for a file that cannot be read (named).
TablePlan plan_table(const MLTable& table, std::uint64_t batch_bytes);

// The cuts plan_table makes of one file given as its bytes (for tests); layout gets its header and data start.
std::vector<TableCut> plan_bytes(const std::string& bytes, const TableReader& reader, bool has_header,
                                 std::uint64_t batch_bytes, TableFile* layout = nullptr);

}  // namespace prs
