#pragma once
// Private to src/input/: the read side of the module prs_h5.so (hdf5_abi.hpp), loaded into a rank when it first
// opens an HDF5 table, and the module's handles as move-only RAII types (closed through the module).
#include <memory>
#include <string>

#include "hdf5_abi.hpp"

namespace prs::hdf5 {

// The module's read side: prs_h5.so beside the executable (/proc/self/exe), or the file $PRS_H5_MODULE names;
// loaded once per path with dlopen (RTLD_LOCAL, never unloaded). Throws prs::Error "cannot load the HDF5 module
// PATH ...: dlerror" or "PATH: not prs_mpi's HDF5 module (no prs_h5_input_v1)".
const PrsH5InputV1& input_module();

// Throws prs::Error(error) when a module call failed (error is not NULL).
void check_call(const char* error);

// Closes a file through the module.
struct CloseFile {
  const PrsH5InputV1* api = nullptr;
  void operator()(PrsH5File* file) const { api->close_file(file); }
};

// Closes a dataset through the module.
struct CloseDataset {
  const PrsH5InputV1* api = nullptr;
  void operator()(PrsH5Dataset* dataset) const { api->close_dataset(dataset); }
};

// A file open in the module.
using File = std::unique_ptr<PrsH5File, CloseFile>;
// A dataset open in the module.
using Dataset = std::unique_ptr<PrsH5Dataset, CloseDataset>;

}  // namespace prs::hdf5
