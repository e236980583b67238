// Loads the HDF5 module prs_h5.so into a rank (never into the entry script's process): see prs/output/h5_file.hpp.
// The read_hdf5 input loads the same file by the same rule for its own entry point (src/input/hdf5_module.cpp).
#include <dlfcn.h>

#include <string>

#include "prs/error.hpp"
#include "prs/h5_module_path.hpp"
#include "prs/output/h5_file.hpp"

namespace prs {

H5CreateRows load_h5_module() {
  static H5CreateRows create = nullptr;  // loaded once, never unloaded (libhdf5 keeps global state)
  if (create != nullptr) return create;
  const std::string path = h5_module_path();
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr)
    throw Fatal("cannot load the HDF5 module " + path + " that builds .h5 outputs (it is built beside prs_mpi; "
                "$PRS_H5_MODULE names another): " + ::dlerror());
  void* symbol = ::dlsym(handle, kH5CreateRowsSymbol);
  if (symbol == nullptr) throw Fatal(path + ": not prs_mpi's HDF5 module (no " + kH5CreateRowsSymbol + ")");
  create = reinterpret_cast<H5CreateRows>(symbol);
  return create;
}

}  // namespace prs
