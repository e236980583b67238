// Loads the HDF5 module prs_h5.so into a rank (never into the entry script's process): see prs/output/h5_file.hpp.
// The read_hdf5 input loads the same file by the same rule for its own entry point (src/input/hdf5_module.cpp).
#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "prs/error.hpp"
#include "prs/output/h5_file.hpp"

namespace prs {

namespace {

std::string module_path() {
  if (const char* path = std::getenv("PRS_H5_MODULE"); path != nullptr && *path != '\0') return path;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (ec ? std::filesystem::path(".") : exe.parent_path()).string() + "/prs_h5.so";
}

}  // namespace

H5CreateRows load_h5_module() {
  static H5CreateRows create = nullptr;  // loaded once, never unloaded (libhdf5 keeps global state)
  if (create != nullptr) return create;
  const std::string path = module_path();
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
