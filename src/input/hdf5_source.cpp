// A file's read_hdf5 table opened and checked: datasets, shapes, and the memory type of every column. The types the
// module describes are turned into columns here; the module only opens, describes and (set_memory) builds them.
#include "hdf5_source.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "prs/error.hpp"

namespace prs::hdf5 {
namespace {

constexpr const char* kSupported =
    "supported: integer, float, bool (h5py's enum), fixed- and variable-length string";

// One value's type in memory, its width there and the dtype of its column.
struct Element {
  std::string dtype;
  PrsH5Value memory;
  std::size_t width = 0;
};

// What a table's checks say where they fail: "/abs/MLTable:5: read_hdf5.dataset" and the file.
struct Place {
  const std::string& where;
  const std::string& file;
  [[noreturn]] void fail(const std::string& what) const { throw Error(where + ": " + what); }
};

const char* class_name(int32_t c) {
  switch (c) {
    case PRS_H5_INTEGER: return "integer";
    case PRS_H5_FLOAT: return "float";
    case PRS_H5_TIME: return "time";
    case PRS_H5_STRING: return "string";
    case PRS_H5_BITFIELD: return "bitfield";
    case PRS_H5_OPAQUE: return "opaque";
    case PRS_H5_COMPOUND: return "compound";
    case PRS_H5_REFERENCE: return "reference";
    case PRS_H5_ENUM: return "enum";
    case PRS_H5_VLEN: return "variable-length sequence";
    case PRS_H5_ARRAY: return "array";
    default: return "unknown type";
  }
}

// h5py's bool: an enum of an integer with exactly the members FALSE = 0 and TRUE = 1.
bool is_h5py_bool(const PrsH5Type& t) {
  if (t.members != 2 || t.size > 8) return false;
  bool no = false, yes = false;
  for (uint32_t i = 0; i < 2; ++i) {
    no = no || (std::strcmp(t.member[i].name, "FALSE") == 0 && t.member[i].value == 0);
    yes = yes || (std::strcmp(t.member[i].name, "TRUE") == 0 && t.member[i].value == 1);
  }
  return no && yes;
}

// The native width an integer of size bytes is read in: 1, 2, 4 or 8.
std::size_t native_width(std::uint64_t size) { return size <= 1 ? 1 : size <= 2 ? 2 : size <= 4 ? 4 : 8; }

Element native_integer(const PrsH5Type& t, const Place& at, const std::string& what) {
  const std::size_t width = native_width(t.size);
  if (t.size > 8) at.fail(what + " in " + at.file + " is an integer of " + std::to_string(t.size) + " bytes; " +
                          kSupported + " of up to 8 bytes, got " + std::to_string(t.size * 8) + "-bit integer");
  const std::string dtype = std::string(t.is_signed ? "int" : "uint") + std::to_string(width * 8);
  return {dtype, {t.is_signed ? PRS_H5_MEM_INT : PRS_H5_MEM_UINT, width, 0}, width};
}

Element string_element(const PrsH5Type& t) {
  if (t.is_variable) return {"str", {PRS_H5_MEM_VLEN_STRING, sizeof(char*), t.is_utf8}, sizeof(char*)};
  return {"S" + std::to_string(t.size), {PRS_H5_MEM_STRING, t.size, t.is_utf8}, static_cast<std::size_t>(t.size)};
}

// The memory type of one value of a file type; unsupported classes fail with what they are.
Element element(const PrsH5Type& t, const Place& at, const std::string& what) {
  const int32_t c = t.type_class;
  if (c == PRS_H5_INTEGER) return native_integer(t, at, what);
  if (c == PRS_H5_FLOAT) {
    if (t.size <= 4) return {"float32", {PRS_H5_MEM_FLOAT, sizeof(float), 0}, sizeof(float)};
    if (t.size <= 8) return {"float64", {PRS_H5_MEM_FLOAT, sizeof(double), 0}, sizeof(double)};
    return {"longdouble", {PRS_H5_MEM_FLOAT, sizeof(long double), 0}, sizeof(long double)};
  }
  if (c == PRS_H5_STRING) return string_element(t);
  if (c == PRS_H5_ENUM && is_h5py_bool(t)) {
    const std::size_t width = native_width(t.size);
    return {"bool", {PRS_H5_MEM_BOOL, width, 0}, width};
  }
  std::string kind = class_name(c);
  if (c == PRS_H5_ENUM) kind = "enum other than h5py's bool (FALSE = 0, TRUE = 1)";
  if (c == PRS_H5_COMPOUND) kind = "nested compound";
  at.fail(what + " in " + at.file + " has a type a DataFrame column cannot hold (" + kSupported + "), got " + kind);
}

std::string dims_text(const std::vector<std::uint64_t>& dims) {
  if (dims.empty()) return "0 dimensions (a scalar)";
  std::string text = std::to_string(dims.size()) + (dims.size() == 1 ? " dimension (" : " dimensions (");
  for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? " x " : "") + std::to_string(dims[i]);
  return text + ")";
}

// A compound dataset: one column per field, read as a packed compound of the fields' memory types.
void compound_fields(const Source& s, Unit& u, const PrsH5Type& type, const Place& at) {
  if (type.members == 0) at.fail(u.path + " in " + at.file + " is a compound without fields, got 0 fields");
  std::vector<Element> elements;
  std::size_t offset = 0;
  for (uint32_t i = 0; i < type.members; ++i) {
    const std::string name = type.member[i].name;
    Element e = element(type.member[i].type, at, u.path + " field " + name);
    u.fields.push_back({name, e.dtype, offset, e.width});
    offset += e.width;
    elements.push_back(std::move(e));
  }
  u.row_bytes = offset;
  std::vector<PrsH5Field> packed;  // the fields packed in a row, in the order of the file's
  for (std::size_t i = 0; i < elements.size(); ++i)
    packed.push_back({u.fields[i].name.c_str(), u.fields[i].offset, elements[i].memory});
  check_call(s.api->set_memory(u.dataset.get(), packed.data(), static_cast<uint32_t>(packed.size()), u.row_bytes));
}

// A dataset of one element type: 1-D is one column, 2-D is Column1..N.
void element_fields(const Source& s, Unit& u, const PrsH5Type& type, const Place& at) {
  Element e = element(type, at, u.path);
  const bool two_d = u.dims.size() == 2;
  const std::uint64_t columns = two_d ? u.dims[1] : 1;
  if (columns == 0) at.fail(u.path + " in " + at.file + " has no columns, got " + dims_text(u.dims));
  for (std::uint64_t j = 0; j < columns; ++j) {
    const std::string name = two_d ? "Column" + std::to_string(j + 1) : hdf5_column_name(u.path);
    u.fields.push_back({name, e.dtype, static_cast<std::size_t>(j) * e.width, e.width});
  }
  u.row_bytes = static_cast<std::size_t>(columns) * e.width;
  const PrsH5Field element_field{nullptr, 0, e.memory};  // the memory type is the element's
  check_call(s.api->set_memory(u.dataset.get(), &element_field, 1, e.width));
}

Unit dataset_unit(const Source& s, const std::string& path, bool columns_form, const Place& at) {
  Unit u;
  u.path = path;
  PrsH5Dataset* dataset = nullptr;
  check_call(s.api->open_dataset(s.file.get(), path.c_str(), &dataset));
  if (dataset == nullptr) at.fail("no such dataset in " + at.file + ", got " + path);
  u.dataset = Dataset(dataset, CloseDataset{s.api});
  const PrsH5Shape& shape = *s.api->shape(dataset);
  u.dims.assign(shape.dims, shape.dims + shape.rank);
  const bool compound = shape.type.type_class == PRS_H5_COMPOUND;
  if (columns_form && u.dims.size() != 1)
    at.fail(path + " in " + at.file + " must be a 1-D dataset (a column), got " + dims_text(u.dims));
  if (columns_form && compound)
    at.fail(path + " in " + at.file + " must be a column of numbers, booleans or strings (read a compound's fields "
            "with dataset: " + path + "), got compound");
  if (compound && !columns_form && u.dims.size() != 1)
    at.fail(path + " in " + at.file + " is a compound dataset, which must be 1-D, got " + dims_text(u.dims));
  if (u.dims.empty() || u.dims.size() > 2)
    at.fail(path + " in " + at.file + " must be a 1-D or 2-D dataset, got " + dims_text(u.dims));
  if (compound && !columns_form) compound_fields(s, u, shape.type, at);
  else element_fields(s, u, shape.type, at);
  return u;
}

// The module, and the file opened in it; fails at the table's line when either cannot be had.
Source open_file(const std::string& path, const Place& at) {
  Source s;
  try {
    s.api = &input_module();
  } catch (const Error& e) {
    at.fail(e.what());
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) at.fail("cannot read " + path + ": " + std::strerror(errno));
  PrsH5File* file = nullptr;
  int32_t is_hdf5 = 0;
  if (const char* error = s.api->open_file(path.c_str(), &file, &is_hdf5)) at.fail(error);
  if (is_hdf5 == 0) at.fail("not an HDF5 file, got " + path);
  s.file = File(file, CloseFile{s.api});
  return s;
}

}  // namespace

Source open_source(const std::string& path, const TableReader& reader) {
  const Place at{reader.hdf5_where, path};
  Source s = open_file(path, at);
  if (!reader.hdf5_dataset.empty()) {
    s.units.push_back(dataset_unit(s, reader.hdf5_dataset, false, at));
    s.rows = s.units[0].dims[0];
    return s;
  }
  for (const std::string& column : reader.hdf5_columns) {
    s.units.push_back(dataset_unit(s, column, true, at));
    const std::uint64_t rows = s.units.back().dims[0];
    if (s.units.size() == 1) s.rows = rows;
    else if (rows != s.rows)
      at.fail(column + " has " + std::to_string(rows) + " rows in " + path + " but " + reader.hdf5_columns[0] +
              " has " + std::to_string(s.rows) + "; the columns must have the same length, got " +
              std::to_string(rows));
  }
  return s;
}

}  // namespace prs::hdf5
