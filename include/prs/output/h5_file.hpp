#pragma once
// The HDF5 side of a .h5 output: a file with the group /rows and one pre-sized 1-D dataset per column.
//
// Every HDF5 call lives in the module prs_h5.so (here src/output/h5_file.cpp; the read_hdf5 input's side is
// src/input/hdf5_access.cpp), built beside prs_mpi and linked with the parallel libhdf5, which only the ranks load,
// with dlopen, when they build the .h5 (or read an HDF5 input). prs_mpi links no libhdf5; the entry script's process
// is the same executable (prs_mpi --python-process) and never loads the module, so a script's own `import h5py`
// (Debian's serial libhdf5) never meets a second libhdf5 in its process.
//
// Collective set-up, independent writes: create and close are collective over the communicator (parallel HDF5 1.10
// makes every metadata call collective), write() is independent, each rank writing its own rows.
#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "prs/output/row_record.hpp"

namespace prs {

// An open .h5 being built. Errors are std::runtime_error naming the path and the HDF5 library's reason.
class H5RowsFile {
 public:
  virtual ~H5RowsFile() = default;
  // Writes rows [first_row, first_row + rows) of a column: the values in the record's layout (little-endian
  // numbers, 0/1 booleans), strings as rows x the column's width, NUL-padded. Independent.
  virtual void write(std::size_t column, std::uint64_t first_row, std::uint64_t rows, const void* data) = 0;
  // Flushes and closes the file. Collective.
  virtual void close() = 0;
};

// The module's entry point: creates (truncating) path for rows rows of columns; collective over comm. The caller
// owns the result (delete); on failure nullptr and the reason in error.
using H5CreateRows = H5RowsFile* (*)(const std::string& path, const std::vector<ColumnSpec>& columns,
                                     std::uint64_t rows, MPI_Comm comm, std::string& error);

// The name the module exports its H5CreateRows under.
constexpr const char* kH5CreateRowsSymbol = "prs_h5_create_rows_v1";

// Loads prs_h5.so (beside the executable, or $PRS_H5_MODULE) once and returns its entry point. Independent: call it
// on every rank and agree on the outcome before the collective create. Throws prs::Fatal naming the path.
H5CreateRows load_h5_module();

// The width an HDF5 fixed-length string column gets: its longest value in bytes, at least 1.
inline std::uint64_t h5_string_width(const ColumnSpec& column) { return column.max_length > 0 ? column.max_length : 1; }

}  // namespace prs
