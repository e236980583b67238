#pragma once
// HDF5 tables (read_hdf5, our extension): the rows of a compound dataset (a column per field), of a 2-D dataset
// (Column1..N) or of same-length 1-D datasets (named after their last path component), in mini-batches of N rows.
// Rank 0 reads only shapes and types; each worker rank reads its own hyperslab with the serial (sec2) driver and
// hands the columns' bytes to its Python process, which builds the DataFrame (numpy.frombuffer, one copy). The
// HDF5 calls are in the module prs_h5.so, which a rank loads (dlopen) when it first opens a table: prs_mpi, and so
// the entry script's process, has no libhdf5 in its image (src/input/hdf5_abi.hpp).
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "prs/input/mltable.hpp"
#include "prs/input/table_plan.hpp"

namespace prs {

// One column of an HDF5 mini-batch, as the worker hands it to its Python process.
struct ColumnBytes {
  std::string name;   // the DataFrame column
  std::string dtype;  // numpy dtype of data ("int32", "uint8", "float64", "bool", "S12"); "str": vlen strings
  std::string data;   // the values, native byte order; "str": their UTF-8 bytes one after another
  std::vector<std::uint64_t> ends;  // "str" only: where each value ends in data
};

// One column of a file's table, as planned.
struct Hdf5Column {
  std::string name;   // the DataFrame column
  std::string dtype;  // numpy dtype in the DataFrame ("object" for strings)
};

// The shape of one HDF5 file's table.
struct Hdf5Shape {
  std::uint64_t rows = 0;            // rows of the table
  std::uint64_t row_bytes = 0;       // bytes of one row in memory (a vlen string counts its pointer)
  std::vector<Hdf5Column> columns;   // in DataFrame order
  // "a int64, b float64, s object": for --dry-run and the resume fingerprint.
  std::string describe() const;
};

// The shape of the table read_hdf5 names in one file; reads no table data. Throws prs::Error
// "/abs/MLTable:LINE: read_hdf5.dataset: what, got X" for a file that is not HDF5, a missing dataset, a dataset of
// rank other than 1 or 2, 1-D columns of different lengths, or an unsupported type (references, opaque, arrays,
// nested compounds, enums other than h5py's bool, ...), and "...: cannot load the HDF5 module PATH ..." without it.
Hdf5Shape inspect_hdf5(const std::string& path, const TableReader& reader);

// Rows per HDF5 mini-batch: mini_batch_row_size, else mini_batch_size as a count (rows), else a size ("10kb",
// default 1 MB) divided by the bytes of a row (at least 1).
std::uint64_t hdf5_batch_rows(const JobConfig& config, std::uint64_t row_bytes);

// Cuts tables of the given row counts into mini-batches of batch_rows rows (TableCut offset/length are rows); a
// mini-batch never crosses a file, a file without rows has none.
std::vector<TableCut> plan_rows(const std::vector<std::uint64_t>& rows, std::uint64_t batch_rows);

// The plan of an HDF5 MLTable: every file inspected (the same columns in each), cut into mini-batches of rows.
// TablePlan::hdf5 holds the shapes. Throws prs::Error as inspect_hdf5, or when files disagree on the columns.
TablePlan plan_hdf5(const MLTable& table, const JobConfig& config);

// A worker's reader of HDF5 rows: keeps the file it read last open.
class Hdf5RowReader {
 public:
  // A reader of the table read_hdf5 names (reader.format is hdf5); opens nothing yet.
  explicit Hdf5RowReader(TableReader reader);
  // Closes the open file, if any.
  ~Hdf5RowReader();
  // Move-only: it owns the module's handles.
  Hdf5RowReader(Hdf5RowReader&&) noexcept;
  // Move-only: it owns the module's handles.
  Hdf5RowReader& operator=(Hdf5RowReader&&) noexcept;
  // The rows [first, first + count) of a file's table, column by column. Throws prs::Error naming the file and
  // the rows (a file that changed or vanished since planning): the attempt fails, the worker goes on.
  std::vector<ColumnBytes> read(const std::string& path, std::uint64_t first, std::uint64_t count);

 private:
  struct Open;
  TableReader reader_;
  std::unique_ptr<Open> open_;
};

}  // namespace prs
