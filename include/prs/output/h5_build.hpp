#pragma once
// Builds a .h5 output at the end of a job from its staging file (the row records the journal says are committed).
//
// Collective over MPI_COMM_WORLD, with known sizes: rank 0 reads only the records' headers, checks that every
// mini-batch returned the same schema, computes the rows and each rank's slice (h5_layout.hpp) and broadcasts it;
// every rank then creates the file together (collective), writes its own records' columns as hyperslabs
// (independent), and closes it together. The file is written as "<out>.h5.tmp" and renamed into place by rank 0
// only when every rank wrote its rows, so a kill during the build leaves the earlier .h5 (or none), and the next
// build truncates the .tmp it finds.
//
// Strings are fixed-length HDF5 strings as wide as the column's longest value (the layout's max_length): parallel
// HDF5 1.10 cannot write variable-length strings collectively, and fixed lengths let every rank write its own rows
// of a string column like a number column, at a known place.
#include <cstdint>
#include <string>
#include <vector>

#include "prs/output/h5_layout.hpp"

namespace prs {

// What a build did, the same on every rank.
struct H5BuildResult {
  bool built = false;
  std::uint64_t rows = 0;  // rows in the .h5
  std::string error;       // why it was not built ("" when built)
};

// Builds h5_file from staging. records: on rank 0, the committed records in the .h5's row order (other ranks pass
// none). Collective over MPI_COMM_WORLD; never throws for a bad staging file or an HDF5 error (they are the
// result's error, on every rank).
H5BuildResult build_h5_output(const std::string& h5_file, const std::string& staging,
                              const std::vector<StagedRecord>& records);

// The temporary file a build writes before renaming it into place.
inline std::string h5_temporary_path(const std::string& h5_file) { return h5_file + ".tmp"; }

}  // namespace prs
