#pragma once
// Private to src/input/: the datasets of one file's read_hdf5 table, opened and checked, with the memory types the
// rows are read in and where each column lies in a read row. inspect_hdf5 (rank 0) and Hdf5RowReader (workers)
// both open a file through open_source, so a worker checks what rank 0 checked. The HDF5 calls are the module's
// (hdf5_module.hpp); the checks and their messages are here.
#include <cstdint>
#include <string>
#include <vector>

#include "hdf5_module.hpp"
#include "prs/input/mltable.hpp"

namespace prs::hdf5 {

// One column inside a read row.
struct Field {
  std::string name;          // the DataFrame column
  std::string dtype;         // as ColumnBytes::dtype
  std::size_t offset = 0;    // its bytes in a row of the memory buffer
  std::size_t width = 0;     // bytes of one value in memory
};

// One dataset read per mini-batch: its rows in the memory type set in the module, each row row_bytes wide.
struct Unit {
  std::string path;          // the dataset
  Dataset dataset;           // open in the module, its memory type set
  std::vector<std::uint64_t> dims;  // its shape
  std::size_t row_bytes = 0;
  std::vector<Field> fields;
};

// The open file and its units.
struct Source {
  const PrsH5InputV1* api = nullptr;  // the module's read side
  File file;
  std::vector<Unit> units;
  std::uint64_t rows = 0;
};

// Opens and checks the table read_hdf5 names in path. Throws prs::Error at reader.hdf5_where (also when the module
// cannot be loaded).
Source open_source(const std::string& path, const TableReader& reader);

}  // namespace prs::hdf5
