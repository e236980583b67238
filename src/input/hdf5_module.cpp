// Loads the read side of the HDF5 module prs_h5.so into a rank (never into the entry script's process): see
// hdf5_abi.hpp. The .h5 output loads the same file for its own entry point (src/output/h5_module.cpp).
#include "hdf5_module.hpp"

#include <dlfcn.h>

#include <map>
#include <mutex>

#include "prs/error.hpp"
#include "prs/h5_module_path.hpp"

namespace prs::hdf5 {
namespace {

const PrsH5InputV1& load(const std::string& path) {
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr)
    throw Error("cannot load the HDF5 module " + path + " that reads HDF5 tables (it is built beside prs_mpi; "
                "$PRS_H5_MODULE names another): " + ::dlerror());
  void* symbol = ::dlsym(handle, PRS_H5_INPUT_SYMBOL);
  if (symbol == nullptr) {
    ::dlclose(handle);
    throw Error(path + ": not prs_mpi's HDF5 module (no " PRS_H5_INPUT_SYMBOL ")");
  }
  return *reinterpret_cast<PrsH5InputEntry>(symbol)();
}

}  // namespace

const PrsH5InputV1& input_module() {
  static std::mutex mutex;
  static std::map<std::string, const PrsH5InputV1*> loaded;  // never unloaded (libhdf5 keeps global state)
  const std::string path = h5_module_path();
  std::lock_guard<std::mutex> lock(mutex);
  auto it = loaded.find(path);
  if (it == loaded.end()) it = loaded.emplace(path, &load(path)).first;
  return *it->second;
}

void check_call(const char* error) {
  if (error != nullptr) throw Error(error);
}

}  // namespace prs::hdf5
