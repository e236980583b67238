#pragma once
// Where a rank finds prs_h5.so, the module that holds every HDF5 call of prs_mpi: the read_hdf5 input
// (src/input/hdf5_module.cpp) and the .h5 output (src/output/h5_module.cpp) load the same file by this one rule.
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace prs {

// $PRS_H5_MODULE when set and not empty, else prs_h5.so in the folder of the running executable.
inline std::string h5_module_path() {
  if (const char* path = std::getenv("PRS_H5_MODULE"); path != nullptr && *path != '\0') return path;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (ec ? std::filesystem::path(".") : exe.parent_path()).string() + "/prs_h5.so";
}

}  // namespace prs
