#pragma once
// Private to the module prs_h5.so's read side (hdf5_access.cpp; never compiled into prs_core): HDF5 ids as
// move-only RAII handles, and one checked call per HDF5 C function we use. Every failure throws prs::Error with
// what we were doing, on which object, and the library's own reason (the deepest message of its error stack),
// which the module's entry points return as text; the library's automatic error printing is off.
#include <hdf5.h>

#include <string>
#include <utility>

namespace prs::hdf5 {

// An HDF5 id closed by its destructor (H5Fclose, H5Dclose, H5Sclose or H5Tclose); never throws.
class Id {
 public:
  using Close = herr_t (*)(hid_t);
  Id() = default;
  Id(hid_t id, Close close) : id_(id), close_(close) {}
  ~Id() { reset(); }
  Id(Id&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)), close_(o.close_) {}
  Id& operator=(Id&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
      close_ = o.close_;
    }
    return *this;
  }
  Id(const Id&) = delete;
  Id& operator=(const Id&) = delete;
  // The raw id, for the C API.
  hid_t get() const { return id_; }

 private:
  void reset() {
    if (id_ >= 0 && close_ != nullptr) close_(id_);
    id_ = H5I_INVALID_HID;
  }
  hid_t id_ = H5I_INVALID_HID;
  Close close_ = nullptr;
};

// The library's reason for the last failed call ("unable to open file: ... No such file or directory"), cleared.
std::string last_reason();

// Turns the library's automatic error printing off (once per process).
void quiet();

// Throws prs::Error "what: reason" when status is negative.
void check(herr_t status, const std::string& what);

// H5Fopen read-only with the default (sec2, serial) driver: a worker reads its own rows independently.
Id open_file(const std::string& path);
// H5Dopen2; false (and no id) when the file has no dataset at that path.
bool open_dataset(const Id& file, const std::string& path, Id& out);
// H5Dget_space and H5Dget_type.
Id dataset_space(const Id& dataset, const std::string& what);
Id dataset_type(const Id& dataset, const std::string& what);
// H5Tcopy of a type (a predefined one, or one of the file's).
Id copy_type(hid_t type, const std::string& what);
// H5Tcreate(H5T_COMPOUND, size).
Id compound_type(std::size_t size, const std::string& what);
// H5Tget_member_type of a compound.
Id member_type(hid_t compound, unsigned index, const std::string& what);
// H5Screate_simple.
Id simple_space(int rank, const hsize_t* dims, const std::string& what);

}  // namespace prs::hdf5
