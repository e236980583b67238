// The checked HDF5 calls of the module's read side; see hdf5_handles.hpp.
#include "hdf5_handles.hpp"

#include "prs/error.hpp"

namespace prs::hdf5 {
namespace {

// Keeps the deepest message of the error stack: the library's most specific reason.
herr_t deepest(unsigned, const H5E_error2_t* e, void* out) {
  if (e->desc != nullptr && e->desc[0] != '\0') *static_cast<std::string*>(out) = e->desc;
  return 0;
}

Id checked(hid_t id, Id::Close close, const std::string& what) {
  if (id < 0) throw Error(what + ": " + last_reason());
  return Id(id, close);
}

}  // namespace

std::string last_reason() {
  std::string reason;
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, deepest, &reason);
  H5Eclear2(H5E_DEFAULT);
  return reason.empty() ? "the HDF5 library gave no reason" : reason;
}

void quiet() {
  static const bool done = [] {
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
    return true;
  }();
  (void)done;
}

void check(herr_t status, const std::string& what) {
  if (status < 0) throw Error(what + ": " + last_reason());
}

Id open_file(const std::string& path) {
  quiet();
  return checked(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose, path + ": cannot be opened as HDF5");
}

bool open_dataset(const Id& file, const std::string& path, Id& out) {
  // H5Lexists fails on a missing intermediate group: walk the path one component at a time.
  for (std::size_t end = path.find('/', 1);; end = path.find('/', end + 1)) {
    const std::string prefix = path.substr(0, end);
    if (prefix.size() > 1 && prefix.back() != '/') {
      htri_t exists = H5Lexists(file.get(), prefix.c_str(), H5P_DEFAULT);
      if (exists < 0) H5Eclear2(H5E_DEFAULT);
      if (exists <= 0) return false;
    }
    if (end == std::string::npos) break;
  }
  Id object = checked(H5Oopen(file.get(), path.c_str(), H5P_DEFAULT), H5Oclose, path + ": cannot be opened");
  if (H5Iget_type(object.get()) != H5I_DATASET) return false;
  out = std::move(object);
  return true;
}

Id dataset_space(const Id& dataset, const std::string& what) {
  return checked(H5Dget_space(dataset.get()), H5Sclose, what + ": cannot read its shape");
}

Id dataset_type(const Id& dataset, const std::string& what) {
  return checked(H5Dget_type(dataset.get()), H5Tclose, what + ": cannot read its type");
}

Id copy_type(hid_t type, const std::string& what) { return checked(H5Tcopy(type), H5Tclose, what); }

Id compound_type(std::size_t size, const std::string& what) {
  return checked(H5Tcreate(H5T_COMPOUND, size), H5Tclose, what);
}

Id member_type(hid_t compound, unsigned index, const std::string& what) {
  return checked(H5Tget_member_type(compound, index), H5Tclose, what);
}

Id simple_space(int rank, const hsize_t* dims, const std::string& what) {
  return checked(H5Screate_simple(rank, dims, nullptr), H5Sclose, what);
}

}  // namespace prs::hdf5
