// A file's read_hdf5 table opened and checked: datasets, shapes, and the memory type of every column.
#include "hdf5_source.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "prs/error.hpp"

namespace prs::hdf5 {
namespace {

constexpr const char* kSupported =
    "supported: integer, float, bool (h5py's enum), fixed- and variable-length string";

// One value's memory type, its width there and the dtype of its column.
struct Element {
  std::string dtype;
  Id memory;
  std::size_t width = 0;
};

// What a table's checks say where they fail: "/abs/MLTable:5: read_hdf5.dataset" and the file.
struct Place {
  const std::string& where;
  const std::string& file;
  [[noreturn]] void fail(const std::string& what) const { throw Error(where + ": " + what); }
};

const char* class_name(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER: return "integer";
    case H5T_FLOAT: return "float";
    case H5T_TIME: return "time";
    case H5T_STRING: return "string";
    case H5T_BITFIELD: return "bitfield";
    case H5T_OPAQUE: return "opaque";
    case H5T_COMPOUND: return "compound";
    case H5T_REFERENCE: return "reference";
    case H5T_ENUM: return "enum";
    case H5T_VLEN: return "variable-length sequence";
    case H5T_ARRAY: return "array";
    default: return "unknown type";
  }
}

std::string member_name(hid_t type, unsigned i) {
  char* name = H5Tget_member_name(type, i);
  std::string text = name != nullptr ? name : "";
  H5free_memory(name);
  return text;
}

// h5py's bool: an enum of an integer with exactly the members FALSE = 0 and TRUE = 1.
bool is_h5py_bool(hid_t type) {
  if (H5Tget_nmembers(type) != 2) return false;
  Id native(H5Tget_native_type(type, H5T_DIR_DEFAULT), H5Tclose);
  if (native.get() < 0 || H5Tget_size(native.get()) > 8) return (void)H5Eclear2(H5E_DEFAULT), false;
  unsigned char no[8] = {0}, yes[8] = {0};  // the values in native order (little-endian: the low byte first)
  if (H5Tenum_valueof(native.get(), "FALSE", no) < 0 || H5Tenum_valueof(native.get(), "TRUE", yes) < 0)
    return (void)H5Eclear2(H5E_DEFAULT), false;
  bool ok = yes[0] == 1 && no[0] == 0;
  for (int i = 1; i < 8; ++i) ok = ok && no[i] == 0 && yes[i] == 0;
  return ok;
}

Element native_integer(hid_t type, const Place& at, const std::string& what) {
  const std::size_t size = H5Tget_size(type);
  const bool sign = H5Tget_sign(type) == H5T_SGN_2;
  std::size_t width = size <= 1 ? 1 : size <= 2 ? 2 : size <= 4 ? 4 : 8;
  if (size > 8) at.fail(what + " in " + at.file + " is an integer of " + std::to_string(size) + " bytes; " +
                        kSupported + " of up to 8 bytes, got " + std::to_string(size * 8) + "-bit integer");
  static const hid_t* const signed_types[] = {&H5T_NATIVE_INT8_g, &H5T_NATIVE_INT16_g, nullptr, &H5T_NATIVE_INT32_g,
                                              nullptr, nullptr, nullptr, &H5T_NATIVE_INT64_g};
  static const hid_t* const unsigned_types[] = {&H5T_NATIVE_UINT8_g, &H5T_NATIVE_UINT16_g, nullptr,
                                                &H5T_NATIVE_UINT32_g, nullptr, nullptr, nullptr, &H5T_NATIVE_UINT64_g};
  H5open();  // the H5T_NATIVE_* ids exist once the library is open
  const hid_t native = *(sign ? signed_types : unsigned_types)[width - 1];
  return {std::string(sign ? "int" : "uint") + std::to_string(width * 8), copy_type(native, what), width};
}

Element string_element(hid_t type, const std::string& what) {
  Id memory = copy_type(H5T_C_S1, what);
  const H5T_cset_t cset = H5Tget_cset(type);
  if (H5Tis_variable_str(type) > 0) {
    check(H5Tset_size(memory.get(), H5T_VARIABLE), what + ": variable-length string type");
    check(H5Tset_cset(memory.get(), cset), what + ": string character set");
    return {"str", std::move(memory), sizeof(char*)};
  }
  const std::size_t size = H5Tget_size(type);
  check(H5Tset_size(memory.get(), size), what + ": fixed-length string type");
  check(H5Tset_strpad(memory.get(), H5T_STR_NULLPAD), what + ": string padding");
  check(H5Tset_cset(memory.get(), cset), what + ": string character set");
  return {"S" + std::to_string(size), std::move(memory), size};
}

// The memory type of one value of a file type; unsupported classes fail with what they are.
Element element(hid_t type, const Place& at, const std::string& what) {
  const H5T_class_t c = H5Tget_class(type);
  if (c == H5T_INTEGER) return native_integer(type, at, what);
  if (c == H5T_FLOAT) {
    H5open();
    const std::size_t size = H5Tget_size(type);
    if (size <= 4) return {"float32", copy_type(H5T_NATIVE_FLOAT, what), sizeof(float)};
    if (size <= 8) return {"float64", copy_type(H5T_NATIVE_DOUBLE, what), sizeof(double)};
    return {"longdouble", copy_type(H5T_NATIVE_LDOUBLE, what), sizeof(long double)};
  }
  if (c == H5T_STRING) return string_element(type, what);
  if (c == H5T_ENUM && is_h5py_bool(type)) {
    Id native(H5Tget_native_type(type, H5T_DIR_DEFAULT), H5Tclose);
    const std::size_t width = H5Tget_size(native.get());
    return {"bool", std::move(native), width};
  }
  std::string kind = class_name(c);
  if (c == H5T_ENUM) kind = "enum other than h5py's bool (FALSE = 0, TRUE = 1)";
  if (c == H5T_COMPOUND) kind = "nested compound";
  at.fail(what + " in " + at.file + " has a type a DataFrame column cannot hold (" + kSupported + "), got " + kind);
}

std::string dims_text(const std::vector<hsize_t>& dims) {
  if (dims.empty()) return "0 dimensions (a scalar)";
  std::string text = std::to_string(dims.size()) + (dims.size() == 1 ? " dimension (" : " dimensions (");
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? " x " : "") + std::to_string(dims[i]);
  return text + ")";
}

std::vector<hsize_t> shape_of(const Unit& u) {
  Id space = dataset_space(u.dataset, u.path);
  const int n = H5Sget_simple_extent_ndims(space.get());
  if (n < 0) throw Error(u.path + ": cannot read its shape: " + last_reason());
  std::vector<hsize_t> dims(static_cast<std::size_t>(n));
  if (n > 0) H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr);
  return dims;
}

Unit open_unit(const Source& s, const std::string& path, const Place& at) {
  Unit u;
  u.path = path;
  if (!open_dataset(s.file, path, u.dataset)) at.fail("no such dataset in " + at.file + ", got " + path);
  return u;
}

// A compound dataset: one column per field, read as a packed compound of the fields' memory types.
void compound_fields(Unit& u, hid_t type, const Place& at) {
  const int n = H5Tget_nmembers(type);
  if (n <= 0) at.fail(u.path + " in " + at.file + " is a compound without fields, got 0 fields");
  std::vector<Element> elements;
  std::size_t offset = 0;
  for (unsigned i = 0; i < static_cast<unsigned>(n); ++i) {
    const std::string name = member_name(type, i);
    Id member = member_type(type, i, u.path);
    Element e = element(member.get(), at, u.path + " field " + name);
    u.fields.push_back({name, e.dtype, offset, e.width});
    offset += e.width;
    elements.push_back(std::move(e));
  }
  u.row_bytes = offset;
  u.memory_type = compound_type(offset, u.path + ": memory type");
  for (std::size_t i = 0; i < elements.size(); ++i)
    check(H5Tinsert(u.memory_type.get(), u.fields[i].name.c_str(), u.fields[i].offset, elements[i].memory.get()),
          u.path + ": memory type of field " + u.fields[i].name);
}

// A dataset of one element type: 1-D is one column, 2-D is Column1..N.
void element_fields(Unit& u, hid_t type, const std::vector<hsize_t>& dims, const Place& at) {
  Element e = element(type, at, u.path);
  u.rank = static_cast<int>(dims.size());
  u.columns = u.rank == 2 ? dims[1] : 1;
  if (u.columns == 0) at.fail(u.path + " in " + at.file + " has no columns, got " + dims_text(dims));
  for (std::uint64_t j = 0; j < u.columns; ++j) {
    const std::string name = u.rank == 2 ? "Column" + std::to_string(j + 1) : hdf5_column_name(u.path);
    u.fields.push_back({name, e.dtype, static_cast<std::size_t>(j) * e.width, e.width});
  }
  u.row_bytes = static_cast<std::size_t>(u.columns) * e.width;
  u.memory_type = std::move(e.memory);
}

Unit dataset_unit(const Source& s, const std::string& path, bool columns_form, const Place& at) {
  Unit u = open_unit(s, path, at);
  const std::vector<hsize_t> dims = shape_of(u);
  Id type = dataset_type(u.dataset, path);
  const bool compound = H5Tget_class(type.get()) == H5T_COMPOUND;
  if (columns_form && dims.size() != 1)
    at.fail(path + " in " + at.file + " must be a 1-D dataset (a column), got " + dims_text(dims));
  if (columns_form && compound)
    at.fail(path + " in " + at.file + " must be a column of numbers, booleans or strings (read a compound's fields "
            "with dataset: " + path + "), got compound");
  if (compound && !columns_form && dims.size() != 1)
    at.fail(path + " in " + at.file + " is a compound dataset, which must be 1-D, got " + dims_text(dims));
  if (dims.empty() || dims.size() > 2)
    at.fail(path + " in " + at.file + " must be a 1-D or 2-D dataset, got " + dims_text(dims));
  if (compound && !columns_form) compound_fields(u, type.get(), at);
  else element_fields(u, type.get(), dims, at);
  return u;
}

}  // namespace

Source open_source(const std::string& path, const TableReader& reader) {
  quiet();
  const Place at{reader.hdf5_where, path};
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) at.fail("cannot read " + path + ": " + std::strerror(errno));
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    at.fail("not an HDF5 file, got " + path);
  }
  Source s;
  try {
    s.file = open_file(path);
  } catch (const Error& e) {
    at.fail(e.what());
  }
  if (!reader.hdf5_dataset.empty()) {
    s.units.push_back(dataset_unit(s, reader.hdf5_dataset, false, at));
    s.rows = shape_of(s.units[0])[0];
    return s;
  }
  for (const std::string& column : reader.hdf5_columns) {
    s.units.push_back(dataset_unit(s, column, true, at));
    const std::uint64_t rows = shape_of(s.units.back())[0];
    if (s.units.size() == 1) s.rows = rows;
    else if (rows != s.rows)
      at.fail(column + " has " + std::to_string(rows) + " rows in " + path + " but " + reader.hdf5_columns[0] +
              " has " + std::to_string(s.rows) + "; the columns must have the same length, got " +
              std::to_string(rows));
  }
  return s;
}

}  // namespace prs::hdf5
