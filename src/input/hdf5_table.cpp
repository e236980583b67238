// Planning an HDF5 table: shapes and types on rank 0 (no table data read), mini-batches of N rows.
#include "prs/input/hdf5_table.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "hdf5_source.hpp"
#include "prs/error.hpp"

namespace prs {
namespace {

// The dtype a column has in the DataFrame: strings are Python str objects.
std::string frame_dtype(const std::string& dtype) {
  return dtype == "str" || dtype[0] == 'S' ? "object" : dtype;
}

std::uint64_t file_bytes(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
}

}  // namespace

std::string Hdf5Shape::describe() const {
  std::string text;
  for (const Hdf5Column& c : columns) text += (text.empty() ? "" : ", ") + c.name + " " + c.dtype;
  return text;
}

Hdf5Shape inspect_hdf5(const std::string& path, const TableReader& reader) {
  hdf5::Source s = hdf5::open_source(path, reader);
  Hdf5Shape shape;
  shape.rows = s.rows;
  for (const hdf5::Unit& u : s.units) {
    shape.row_bytes += u.row_bytes;
    for (const hdf5::Field& f : u.fields) shape.columns.push_back({f.name, frame_dtype(f.dtype)});
  }
  return shape;
}

std::uint64_t hdf5_batch_rows(const JobConfig& config, std::uint64_t row_bytes) {
  if (config.mini_batch_row_size > 0) return config.mini_batch_row_size;
  if (!config.mini_batch_size_location.empty() && !config.mini_batch_size_is_size) return config.mini_batch_size;
  const std::uint64_t bytes = table_batch_bytes(config);
  return std::max<std::uint64_t>(1, row_bytes == 0 ? bytes : bytes / row_bytes);
}

std::vector<TableCut> plan_rows(const std::vector<std::uint64_t>& rows, std::uint64_t batch_rows) {
  if (batch_rows == 0) throw Error("mini_batch_row_size: must be at least 1 row, got 0");
  std::vector<TableCut> cuts;
  for (std::uint32_t file = 0; file < rows.size(); ++file)
    for (std::uint64_t first = 0; first < rows[file]; first += batch_rows)
      cuts.push_back({file, first, std::min(batch_rows, rows[file] - first)});
  return cuts;
}

TablePlan plan_hdf5(const MLTable& table, const JobConfig& config) {
  TablePlan plan;
  std::vector<std::uint64_t> rows;
  Hdf5Shape first;
  for (std::size_t i = 0; i < table.files.size(); ++i) {
    TableFile f;
    f.path = std::string(table.files.at(i));
    Hdf5Shape shape = inspect_hdf5(f.path, table.reader);
    if (i == 0) first = shape;
    else if (shape.describe() != first.describe())
      throw Error(table.reader.hdf5_where + ": every file must have the same columns; " + plan.files[0].path +
                  " has " + first.describe() + ", got " + shape.describe() + " in " + f.path);
    f.size = file_bytes(f.path);
    f.rows = shape.rows;
    rows.push_back(shape.rows);
    plan.files.push_back(std::move(f));
  }
  plan.columns = first.describe();
  plan.batch_rows = hdf5_batch_rows(config, first.row_bytes);
  plan.batches = plan_rows(rows, plan.batch_rows);
  return plan;
}

}  // namespace prs
