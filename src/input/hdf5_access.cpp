// The module prs_h5.so's read side (hdf5_abi.hpp): a file and its datasets opened, their shapes and types
// described, rows read into the caller's buffer. The raw HDF5 access only: which types make columns, and every
// message about a table, are prs_core's (hdf5_source.cpp). Nothing here throws across the C boundary.
#include <hdf5.h>

#include <cstring>
#include <deque>
#include <memory>
#include <vector>

#include "hdf5_abi.hpp"
#include "hdf5_handles.hpp"
#include "prs/error.hpp"

using prs::Error;
namespace h5 = prs::hdf5;

struct PrsH5File {
  h5::Id id;
};

struct PrsH5Dataset {
  std::string path;
  h5::Id id;
  std::vector<uint64_t> dims;
  PrsH5Shape shape{};
  std::deque<std::string> names;                  // the members' names (a deque: their addresses stay)
  std::deque<std::vector<PrsH5Member>> members;   // the types' members
  h5::Id memory;                                  // the memory type of a row, once set
  bool has_vlen = false;                          // it holds variable-length strings (reclaim frees them)
};

namespace {

thread_local std::string last_error;  // what the failed call returns

// Runs a call's body, turning any exception into the returned reason.
template <class Body>
const char* guarded(Body&& body) {
  try {
    body();
    return nullptr;
  } catch (const std::exception& e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown error in the HDF5 module";
  }
  return last_error.c_str();
}

int32_t class_of(H5T_class_t c) {
  switch (c) {
    case H5T_INTEGER: return PRS_H5_INTEGER;
    case H5T_FLOAT: return PRS_H5_FLOAT;
    case H5T_TIME: return PRS_H5_TIME;
    case H5T_STRING: return PRS_H5_STRING;
    case H5T_BITFIELD: return PRS_H5_BITFIELD;
    case H5T_OPAQUE: return PRS_H5_OPAQUE;
    case H5T_COMPOUND: return PRS_H5_COMPOUND;
    case H5T_REFERENCE: return PRS_H5_REFERENCE;
    case H5T_ENUM: return PRS_H5_ENUM;
    case H5T_VLEN: return PRS_H5_VLEN;
    case H5T_ARRAY: return PRS_H5_ARRAY;
    default: return PRS_H5_UNKNOWN;
  }
}

std::string member_name(hid_t type, unsigned i) {
  char* name = H5Tget_member_name(type, i);
  std::string text = name != nullptr ? name : "";
  H5free_memory(name);
  return text;
}

// The values of an enum's members as signed 64-bit integers (all 0 when its integers are wider).
std::vector<int64_t> enum_values(hid_t type, unsigned n) {
  std::vector<int64_t> values(n, 0);
  h5::Id native(H5Tget_native_type(type, H5T_DIR_DEFAULT), H5Tclose);
  if (native.get() < 0) return (void)H5Eclear2(H5E_DEFAULT), values;
  const std::size_t size = H5Tget_size(native.get());
  if (size > 8) return values;
  h5::Id base(H5Tget_super(native.get()), H5Tclose);
  const bool sign = base.get() >= 0 && H5Tget_sign(base.get()) == H5T_SGN_2;
  for (unsigned i = 0; i < n; ++i) {
    unsigned char bytes[8] = {0};
    if (H5Tget_member_value(native.get(), i, bytes) < 0) return (void)H5Eclear2(H5E_DEFAULT), values;
    uint64_t v = 0;
    std::memcpy(&v, bytes, size);  // native order; little-endian keeps the low bytes first
    if (sign && size < 8 && (v >> (8 * size - 1)) & 1) v |= ~uint64_t{0} << (8 * size);
    values[i] = static_cast<int64_t>(v);
  }
  return values;
}

PrsH5Type describe(PrsH5Dataset& d, hid_t type) {
  PrsH5Type t{};
  const H5T_class_t c = H5Tget_class(type);
  t.type_class = class_of(c);
  t.size = H5Tget_size(type);
  if (c == H5T_INTEGER) t.is_signed = H5Tget_sign(type) == H5T_SGN_2;
  if (c == H5T_STRING) {
    t.is_variable = H5Tis_variable_str(type) > 0;
    t.is_utf8 = H5Tget_cset(type) == H5T_CSET_UTF8;
  }
  if (c != H5T_COMPOUND && c != H5T_ENUM) return t;
  const int n = H5Tget_nmembers(type);
  if (n < 0) throw Error(d.path + ": cannot read its type's members: " + h5::last_reason());
  std::vector<PrsH5Member> members(static_cast<std::size_t>(n));
  const std::vector<int64_t> values = c == H5T_ENUM ? enum_values(type, n) : std::vector<int64_t>(n, 0);
  for (unsigned i = 0; i < static_cast<unsigned>(n); ++i) {
    d.names.push_back(member_name(type, i));
    members[i].name = d.names.back().c_str();
    members[i].value = values[i];
    if (c == H5T_COMPOUND) members[i].type = describe(d, h5::member_type(type, i, d.path).get());
  }
  d.members.push_back(std::move(members));  // the vector's buffer moves with it
  t.members = static_cast<uint32_t>(n);
  t.member = d.members.back().data();
  return t;
}

void read_shape(PrsH5Dataset& d) {
  h5::Id space = h5::dataset_space(d.id, d.path);
  const int n = H5Sget_simple_extent_ndims(space.get());
  if (n < 0) throw Error(d.path + ": cannot read its shape: " + h5::last_reason());
  std::vector<hsize_t> dims(static_cast<std::size_t>(n));
  if (n > 0) h5::check(H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr), d.path + ": its shape");
  d.dims.assign(dims.begin(), dims.end());
  d.shape.rank = n;
  d.shape.dims = d.dims.data();
  d.shape.type = describe(d, h5::dataset_type(d.id, d.path).get());
}

// h5py's bool in memory: an enum FALSE = 0, TRUE = 1 of a native integer (HDF5 converts enums by name).
template <class Int>
h5::Id bool_type(hid_t base, const std::string& what) {
  h5::Id type(H5Tenum_create(base), H5Tclose);
  if (type.get() < 0) throw Error(what + ": bool type: " + h5::last_reason());
  const Int no = 0, yes = 1;
  h5::check(H5Tenum_insert(type.get(), "FALSE", &no), what + ": bool type");
  h5::check(H5Tenum_insert(type.get(), "TRUE", &yes), what + ": bool type");
  return type;
}

h5::Id integer_type(const PrsH5Value& v, const std::string& what) {
  H5open();  // the H5T_NATIVE_* ids exist once the library is open
  const bool sign = v.kind != PRS_H5_MEM_UINT;
  switch (v.size) {
    case 1: return v.kind == PRS_H5_MEM_BOOL ? bool_type<int8_t>(H5T_NATIVE_INT8, what)
                                             : h5::copy_type(sign ? H5T_NATIVE_INT8 : H5T_NATIVE_UINT8, what);
    case 2: return v.kind == PRS_H5_MEM_BOOL ? bool_type<int16_t>(H5T_NATIVE_INT16, what)
                                             : h5::copy_type(sign ? H5T_NATIVE_INT16 : H5T_NATIVE_UINT16, what);
    case 4: return v.kind == PRS_H5_MEM_BOOL ? bool_type<int32_t>(H5T_NATIVE_INT32, what)
                                             : h5::copy_type(sign ? H5T_NATIVE_INT32 : H5T_NATIVE_UINT32, what);
    case 8: return v.kind == PRS_H5_MEM_BOOL ? bool_type<int64_t>(H5T_NATIVE_INT64, what)
                                             : h5::copy_type(sign ? H5T_NATIVE_INT64 : H5T_NATIVE_UINT64, what);
  }
  throw Error(what + ": no native integer of " + std::to_string(v.size) + " bytes");
}

h5::Id string_type(const PrsH5Value& v, const std::string& what) {
  h5::Id memory = h5::copy_type(H5T_C_S1, what);
  if (v.kind == PRS_H5_MEM_VLEN_STRING) {
    h5::check(H5Tset_size(memory.get(), H5T_VARIABLE), what + ": variable-length string type");
  } else {
    h5::check(H5Tset_size(memory.get(), v.size), what + ": fixed-length string type");
    h5::check(H5Tset_strpad(memory.get(), H5T_STR_NULLPAD), what + ": string padding");
  }
  h5::check(H5Tset_cset(memory.get(), v.is_utf8 ? H5T_CSET_UTF8 : H5T_CSET_ASCII), what + ": string character set");
  return memory;
}

h5::Id value_type(const PrsH5Value& v, const std::string& what) {
  H5open();
  switch (v.kind) {
    case PRS_H5_MEM_INT: case PRS_H5_MEM_UINT: case PRS_H5_MEM_BOOL: return integer_type(v, what);
    case PRS_H5_MEM_FLOAT:
      if (v.size == sizeof(float)) return h5::copy_type(H5T_NATIVE_FLOAT, what);
      if (v.size == sizeof(double)) return h5::copy_type(H5T_NATIVE_DOUBLE, what);
      if (v.size == sizeof(long double)) return h5::copy_type(H5T_NATIVE_LDOUBLE, what);
      throw Error(what + ": no native float of " + std::to_string(v.size) + " bytes");
    case PRS_H5_MEM_STRING: case PRS_H5_MEM_VLEN_STRING: return string_type(v, what);
  }
  throw Error(what + ": unknown memory value kind " + std::to_string(v.kind));
}

void set_memory(PrsH5Dataset& d, const PrsH5Field* fields, uint32_t count, uint64_t row_bytes) {
  if (count == 0) throw Error(d.path + ": memory type: no fields");
  h5::Id memory;
  if (count == 1 && fields[0].name == nullptr) {
    memory = value_type(fields[0].value, d.path);
  } else {
    memory = h5::compound_type(row_bytes, d.path + ": memory type");
    for (uint32_t i = 0; i < count; ++i) {
      const std::string field = d.path + ": memory type of field " + (fields[i].name ? fields[i].name : "");
      h5::Id value = value_type(fields[i].value, field);
      h5::check(H5Tinsert(memory.get(), fields[i].name, fields[i].offset, value.get()), field);
    }
  }
  d.has_vlen = false;
  for (uint32_t i = 0; i < count; ++i) d.has_vlen = d.has_vlen || fields[i].value.kind == PRS_H5_MEM_VLEN_STRING;
  d.memory = std::move(memory);
}

// The memory space of count rows (all columns of a 2-D dataset).
h5::Id rows_space(const PrsH5Dataset& d, uint64_t count) {
  const hsize_t extent[2] = {count, d.shape.rank == 2 ? d.dims[1] : 1};
  return h5::simple_space(d.shape.rank == 2 ? 2 : 1, extent, d.path + ": memory space");
}

void read_rows(PrsH5Dataset& d, uint64_t first, uint64_t count, void* buffer, uint64_t bytes) {
  const std::string rows = "rows " + std::to_string(first) + ".." + std::to_string(first + count);
  if (d.memory.get() < 0) throw Error(d.path + ": reading " + rows + ": no memory type was set");
  const uint64_t columns = d.shape.rank == 2 ? d.dims[1] : 1;
  const uint64_t need = count * columns * H5Tget_size(d.memory.get());
  if (bytes < need)
    throw Error(d.path + ": reading " + rows + ": the buffer holds " + std::to_string(bytes) + " bytes, got " +
                std::to_string(need) + " to read");
  const hsize_t start[2] = {first, 0};
  const hsize_t extent[2] = {count, columns};
  h5::Id file_space = h5::dataset_space(d.id, d.path);
  h5::check(H5Sselect_hyperslab(file_space.get(), H5S_SELECT_SET, start, nullptr, extent, nullptr),
            d.path + ": selecting " + rows);
  h5::Id memory_space = rows_space(d, count);
  h5::check(H5Dread(d.id.get(), d.memory.get(), memory_space.get(), file_space.get(), H5P_DEFAULT, buffer),
            d.path + ": reading " + rows);
}

// ---- the entry points ----

const char* open_file(const char* path, PrsH5File** file, int32_t* is_hdf5) {
  *file = nullptr;
  *is_hdf5 = 1;
  return guarded([&] {
    h5::quiet();
    if (H5Fis_hdf5(path) <= 0) {
      H5Eclear2(H5E_DEFAULT);
      *is_hdf5 = 0;
      return;
    }
    auto f = std::make_unique<PrsH5File>();
    f->id = h5::open_file(path);
    *file = f.release();
  });
}

void close_file(PrsH5File* file) { delete file; }

const char* open_dataset(PrsH5File* file, const char* path, PrsH5Dataset** dataset) {
  *dataset = nullptr;
  return guarded([&] {
    auto d = std::make_unique<PrsH5Dataset>();
    d->path = path;
    if (!h5::open_dataset(file->id, path, d->id)) return;
    read_shape(*d);
    *dataset = d.release();
  });
}

void close_dataset(PrsH5Dataset* dataset) { delete dataset; }

const PrsH5Shape* shape(const PrsH5Dataset* dataset) { return &dataset->shape; }

const char* set_memory_call(PrsH5Dataset* d, const PrsH5Field* fields, uint32_t count, uint64_t row_bytes) {
  return guarded([&] { set_memory(*d, fields, count, row_bytes); });
}

const char* read_rows_call(PrsH5Dataset* d, uint64_t first, uint64_t count, void* buffer, uint64_t bytes) {
  return guarded([&] { read_rows(*d, first, count, buffer, bytes); });
}

void reclaim(PrsH5Dataset* d, uint64_t count, void* buffer) {
  if (d == nullptr || !d->has_vlen || count == 0) return;
  guarded([&] {
    h5::Id memory_space = rows_space(*d, count);
    if (H5Dvlen_reclaim(d->memory.get(), memory_space.get(), H5P_DEFAULT, buffer) < 0) H5Eclear2(H5E_DEFAULT);
  });
}

}  // namespace

// The module's read side (PRS_H5_INPUT_SYMBOL); see hdf5_abi.hpp.
extern "C" __attribute__((visibility("default"))) const PrsH5InputV1* prs_h5_input_v1(void) {
  static const PrsH5InputV1 api = {open_file,  close_file,     open_dataset,   close_dataset,
                                   shape,      set_memory_call, read_rows_call, reclaim};
  return &api;
}
