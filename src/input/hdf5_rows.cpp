// A worker's hyperslab reads: rows [first, first + count) of each dataset, split into columns.
#include <cstring>

#include "hdf5_source.hpp"
#include "prs/error.hpp"
#include "prs/input/hdf5_table.hpp"

namespace prs {

struct Hdf5RowReader::Open {
  std::string path;
  hdf5::Source source;
};

namespace {

// Selects rows [first, first + count) of a dataset (all its columns) and reads them into buffer.
void read_slab(const hdf5::Unit& u, std::uint64_t first, std::uint64_t count, std::string& buffer) {
  const hsize_t start[2] = {first, 0};
  const hsize_t extent[2] = {count, u.columns};
  hdf5::Id file_space = hdf5::dataset_space(u.dataset, u.path);
  hdf5::check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr),
              u.path + ": selecting rows " + std::to_string(first) + ".." + std::to_string(first + count));
  hdf5::Id memory_space = hdf5::simple_space(u.rank, extent, u.path + ": memory space");
  buffer.assign(static_cast<std::size_t>(count) * u.row_bytes, '\0');
  hdf5::check(H5Dread(u.dataset.get(), u.memory_type.get(), memory_space.get(), file_space.get(), H5P_DEFAULT,
                      buffer.data()),
              u.path + ": reading rows " + std::to_string(first) + ".." + std::to_string(first + count));
}

// Frees the strings HDF5 allocated for the variable-length values of a read buffer.
void reclaim(const hdf5::Unit& u, std::uint64_t count, std::string& buffer) {
  const hsize_t extent[2] = {count, u.columns};
  hdf5::Id memory_space = hdf5::simple_space(u.rank, extent, u.path + ": memory space");
  H5Dvlen_reclaim(u.memory_type.get(), memory_space.get(), H5P_DEFAULT, buffer.data());
}

// One column out of the read rows: fixed-width values copied (bools as one byte), strings gathered.
ColumnBytes gather(const hdf5::Field& f, const std::string& buffer, std::size_t row_bytes, std::uint64_t count) {
  ColumnBytes c{f.name, f.dtype, {}, {}};
  const char* row = buffer.data() + f.offset;
  if (f.dtype == "str") {
    c.ends.reserve(static_cast<std::size_t>(count));
    for (std::uint64_t r = 0; r < count; ++r, row += row_bytes) {
      const char* text = nullptr;
      std::memcpy(&text, row, sizeof text);
      if (text != nullptr) c.data.append(text);
      c.ends.push_back(c.data.size());
    }
  } else if (f.dtype == "bool") {
    c.data.assign(static_cast<std::size_t>(count), '\0');
    for (std::uint64_t r = 0; r < count; ++r, row += row_bytes)
      for (std::size_t b = 0; b < f.width; ++b) c.data[r] = static_cast<char>(c.data[r] | (row[b] != 0));
  } else if (f.width == row_bytes) {
    c.data = buffer;  // a 1-D dataset: the buffer is the column
  } else {
    c.data.resize(static_cast<std::size_t>(count) * f.width);
    for (std::uint64_t r = 0; r < count; ++r, row += row_bytes) std::memcpy(&c.data[r * f.width], row, f.width);
  }
  return c;
}

}  // namespace

Hdf5RowReader::Hdf5RowReader(TableReader reader) : reader_(std::move(reader)) {}
Hdf5RowReader::~Hdf5RowReader() = default;
Hdf5RowReader::Hdf5RowReader(Hdf5RowReader&&) noexcept = default;
Hdf5RowReader& Hdf5RowReader::operator=(Hdf5RowReader&&) noexcept = default;

std::vector<ColumnBytes> Hdf5RowReader::read(const std::string& path, std::uint64_t first, std::uint64_t count) {
  try {
    if (!open_ || open_->path != path) {
      open_.reset();
      open_ = std::make_unique<Open>(Open{path, hdf5::open_source(path, reader_)});
    }
    if (first + count > open_->source.rows)
      throw Error("the table has " + std::to_string(open_->source.rows) + " rows now: it changed since the job "
                  "was planned");
    std::vector<ColumnBytes> columns;
    std::string buffer;
    for (const hdf5::Unit& u : open_->source.units) {
      read_slab(u, first, count, buffer);
      for (const hdf5::Field& f : u.fields) columns.push_back(gather(f, buffer, u.row_bytes, count));
      for (const hdf5::Field& f : u.fields)
        if (f.dtype == "str") {
          reclaim(u, count, buffer);
          break;
        }
    }
    return columns;
  } catch (const Error& e) {
    open_.reset();  // the next mini-batch opens the file afresh
    throw Error(path + ": rows " + std::to_string(first) + ".." + std::to_string(first + count) + ": " + e.what());
  }
}

}  // namespace prs
