// A worker's hyperslab reads: rows [first, first + count) of each dataset (read by the module prs_h5.so into our
// buffer), split into columns.
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

// Frees the variable-length strings the module allocated in a read buffer, however the gathering ends.
class Reclaim {
 public:
  Reclaim(const hdf5::Source& s, const hdf5::Unit& u, std::uint64_t count, std::string& buffer)
      : s_(s), u_(u), count_(count), buffer_(buffer) {}
  ~Reclaim() { s_.api->reclaim(u_.dataset.get(), count_, buffer_.data()); }
  Reclaim(const Reclaim&) = delete;
  Reclaim& operator=(const Reclaim&) = delete;

 private:
  const hdf5::Source& s_;
  const hdf5::Unit& u_;
  std::uint64_t count_;
  std::string& buffer_;
};

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
    const hdf5::Source& s = open_->source;
    for (const hdf5::Unit& u : s.units) {
      buffer.assign(static_cast<std::size_t>(count) * u.row_bytes, '\0');
      Reclaim reclaim(s, u, count, buffer);  // a zeroed buffer, or one partly read, is safe to reclaim
      hdf5::check_call(s.api->read_rows(u.dataset.get(), first, count, buffer.data(), buffer.size()));
      for (const hdf5::Field& f : u.fields) columns.push_back(gather(f, buffer, u.row_bytes, count));
    }
    return columns;
  } catch (const Error& e) {
    open_.reset();  // the next mini-batch opens the file afresh
    throw Error(path + ": rows " + std::to_string(first) + ".." + std::to_string(first + count) + ": " + e.what());
  }
}

}  // namespace prs
