// The module prs_h5.so: every HDF5 call of a .h5 output (see prs/output/h5_file.hpp). One checked wrapper per C call,
// a move-only RAII id per handle; errors are std::runtime_error with what we were doing and HDF5's own reason.
#include <hdf5.h>

#include <stdexcept>
#include <utility>

#include "prs/output/h5_file.hpp"

namespace prs {

namespace {

// The innermost message of HDF5's error stack (then cleared), e.g. "unable to open file".
std::string h5_reason() {
  std::string text;
  auto walk = [](unsigned n, const H5E_error2_t* e, void* out) -> herr_t {
    if (n == 0 && e->desc != nullptr) *static_cast<std::string*>(out) = e->desc;
    return 0;
  };
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk, &text);
  H5Eclear2(H5E_DEFAULT);
  return text.empty() ? "HDF5 gave no reason" : text;
}

hid_t check_id(hid_t id, const std::string& what) {
  if (id < 0) throw std::runtime_error(what + ": " + h5_reason());
  return id;
}

void check(herr_t rc, const std::string& what) {
  if (rc < 0) throw std::runtime_error(what + ": " + h5_reason());
}

// A move-only HDF5 id closed by its own close function; the destructor never throws.
class Id {
 public:
  Id() = default;
  Id(hid_t id, herr_t (*close)(hid_t)) : id_(id), close_(close) {}
  Id(Id&& o) noexcept : id_(std::exchange(o.id_, -1)), close_(o.close_) {}
  Id& operator=(Id&& o) noexcept {
    std::swap(id_, o.id_);
    std::swap(close_, o.close_);
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  ~Id() {
    if (id_ >= 0) close_(id_);
  }
  hid_t get() const { return id_; }
  // Closes now, checked (a file's close is where its data is flushed).
  void close(const std::string& what) {
    if (id_ >= 0) check(close_(std::exchange(id_, -1)), what);
  }

 private:
  hid_t id_ = -1;
  herr_t (*close_)(hid_t) = nullptr;
};

Id new_type(hid_t id, const std::string& what) { return Id(check_id(id, what), H5Tclose); }

// A fixed-length string type of width bytes, NUL-padded (h5py reads it as numpy's S<width>; .asstr() decodes).
Id string_type(std::uint64_t width, H5T_cset_t cset) {
  Id type = new_type(H5Tcopy(H5T_C_S1), "H5Tcopy");
  check(H5Tset_size(type.get(), width), "H5Tset_size " + std::to_string(width));
  check(H5Tset_strpad(type.get(), H5T_STR_NULLPAD), "H5Tset_strpad");
  check(H5Tset_cset(type.get(), cset), "H5Tset_cset");
  return type;
}

// The column's type in the file, also used as the memory type: the record's data is little-endian already.
Id column_type(const ColumnSpec& c) {
  const int bits = 8 * c.item_size;
  switch (c.kind) {
    case ColumnKind::signed_int:
      return new_type(H5Tcopy(bits == 8 ? H5T_STD_I8LE : bits == 16 ? H5T_STD_I16LE : bits == 32 ? H5T_STD_I32LE
                                                                                                   : H5T_STD_I64LE),
                      "H5Tcopy");
    case ColumnKind::unsigned_int:
      return new_type(H5Tcopy(bits == 8 ? H5T_STD_U8LE : bits == 16 ? H5T_STD_U16LE : bits == 32 ? H5T_STD_U32LE
                                                                                                   : H5T_STD_U64LE),
                      "H5Tcopy");
    case ColumnKind::floating: return new_type(H5Tcopy(bits == 32 ? H5T_IEEE_F32LE : H5T_IEEE_F64LE), "H5Tcopy");
    case ColumnKind::datetime_ns: return new_type(H5Tcopy(H5T_STD_I64LE), "H5Tcopy");
    case ColumnKind::boolean: {  // h5py's bool: an int8 enum FALSE = 0, TRUE = 1
      Id type = new_type(H5Tenum_create(H5T_STD_I8LE), "H5Tenum_create");
      signed char no = 0, yes = 1;
      check(H5Tenum_insert(type.get(), "FALSE", &no), "H5Tenum_insert");
      check(H5Tenum_insert(type.get(), "TRUE", &yes), "H5Tenum_insert");
      return type;
    }
    case ColumnKind::text: return string_type(h5_string_width(c), H5T_CSET_UTF8);
    case ColumnKind::bytes: return string_type(h5_string_width(c), H5T_CSET_ASCII);
  }
  throw std::runtime_error("column '" + c.name + "': unknown kind");
}

// A fixed-length string attribute (one value, or an array of them): collective, like every metadata call.
void put_strings(hid_t object, const char* name, const std::vector<std::string>& values, bool scalar) {
  std::uint64_t width = 1;
  for (const std::string& v : values) width = std::max<std::uint64_t>(width, v.size());
  std::string buffer(values.size() * width, '\0');
  for (std::size_t i = 0; i < values.size(); ++i) buffer.replace(i * width, values[i].size(), values[i]);
  Id type = string_type(width, H5T_CSET_UTF8);
  const hsize_t dims[1] = {values.size()};
  Id space(check_id(scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, nullptr), "H5Screate"), H5Sclose);
  Id attr(check_id(H5Acreate2(object, name, type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT),
                   std::string("creating the attribute ") + name),
          H5Aclose);
  check(H5Awrite(attr.get(), type.get(), buffer.data()), std::string("writing the attribute ") + name);
}

class File final : public H5RowsFile {
 public:
  File(const std::string& path, const std::vector<ColumnSpec>& columns, std::uint64_t rows, MPI_Comm comm)
      : path_(path), columns_(columns) {
    Id fapl(check_id(H5Pcreate(H5P_FILE_ACCESS), "H5Pcreate"), H5Pclose);
    check(H5Pset_fapl_mpio(fapl.get(), comm, MPI_INFO_NULL), "H5Pset_fapl_mpio");
    file_ = Id(check_id(H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, fapl.get()), "creating " + path), H5Fclose);
    group_ = Id(check_id(H5Gcreate2(file_.get(), "rows", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), path + ": /rows"),
                H5Gclose);
    std::vector<std::string> names;
    for (const ColumnSpec& c : columns) names.push_back(c.name);
    put_strings(group_.get(), "columns", names, false);
    const hsize_t dims[1] = {rows};
    Id space(check_id(H5Screate_simple(1, dims, nullptr), "H5Screate_simple"), H5Sclose);
    Id dcpl(check_id(H5Pcreate(H5P_DATASET_CREATE), "H5Pcreate"), H5Pclose);
    check(H5Pset_fill_time(dcpl.get(), H5D_FILL_TIME_NEVER), "H5Pset_fill_time");  // every row is written
    for (const ColumnSpec& c : columns) {
      types_.push_back(column_type(c));
      datasets_.emplace_back(check_id(H5Dcreate2(group_.get(), c.name.c_str(), types_.back().get(), space.get(),
                                                 H5P_DEFAULT, dcpl.get(), H5P_DEFAULT),
                                      path + ": creating /rows/" + c.name),
                             H5Dclose);
      put_strings(datasets_.back().get(), "dtype", {column_type_name(c)}, true);
    }
  }

  void write(std::size_t column, std::uint64_t first_row, std::uint64_t rows, const void* data) override {
    if (rows == 0) return;
    const std::string what = path_ + ": writing rows " + std::to_string(first_row) + ".." +
                             std::to_string(first_row + rows) + " of /rows/" + columns_.at(column).name;
    hid_t dataset = datasets_.at(column).get();
    Id file_space(check_id(H5Dget_space(dataset), what), H5Sclose);
    const hsize_t start[1] = {first_row}, count[1] = {rows};
    check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, count, nullptr), what);
    Id memory(check_id(H5Screate_simple(1, count, nullptr), what), H5Sclose);
    check(H5Dwrite(dataset, types_[column].get(), memory.get(), file_space.get(), H5P_DEFAULT, data), what);
  }

  void close() override {
    for (Id& d : datasets_) d.close(path_ + ": closing a dataset");
    group_.close(path_ + ": closing /rows");
    file_.close("closing " + path_);
  }

 private:
  std::string path_;
  std::vector<ColumnSpec> columns_;
  Id file_, group_;
  std::vector<Id> types_, datasets_;
};

}  // namespace

}  // namespace prs

// The module's one export (kH5CreateRowsSymbol); see prs::H5CreateRows.
extern "C" __attribute__((visibility("default"))) prs::H5RowsFile* prs_h5_create_rows_v1(
    const std::string& path, const std::vector<prs::ColumnSpec>& columns, std::uint64_t rows, MPI_Comm comm,
    std::string& error) {
  H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);  // errors come back as text, not printed by the library
  try {
    return new prs::File(path, columns, rows, comm);
  } catch (const std::exception& e) {
    error = e.what();
    return nullptr;
  }
}
