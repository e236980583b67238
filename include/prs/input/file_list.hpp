#pragma once
// A sorted list of input files kept compactly: one character arena and one offset per path, so that rank 0 holds
// millions of paths in a few bytes of overhead each.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "prs/config/config.hpp"

namespace prs {

// The input files of a job, sorted bytewise.
class FileList {
 public:
  // Appends a path; call sort() before indexing.
  void add(std::string_view path);
  // Sorts the paths bytewise (deterministic runs) and compacts the arena.
  void sort();
  // Removes repeated paths; call after sort().
  void unique();
  // Number of paths.
  std::size_t size() const { return offsets_.size(); }
  // The i-th path (valid until the next add or sort).
  std::string_view at(std::size_t i) const;
  // Bytes used by the paths and their offsets (for the dry run and the benchmarks).
  std::size_t memory_bytes() const;

 private:
  std::string arena_;
  std::vector<std::uint64_t> offsets_;  // start of each path in arena_; a path ends where the next starts
  std::vector<std::uint64_t> ends_;     // end of each path (paths need not be adjacent before sort())
};

// Lists a uri_folder recursively (regular files, symlinks to regular files) or takes one uri_file; sorted.
// Throws prs::Error when the folder holds no file or cannot be read.
FileList list_input_files(const std::string& path);

// The regular files an absolute glob pattern matches, sorted. '*', '?' and '[...]' match within one path component
// and not a leading '.' (as a shell does); "**" as a whole component matches zero or more folders. The walk starts
// at the longest leading folder without glob characters. Throws prs::Error "LOCATION: AS_WRITTEN matches no file".
FileList list_glob(const std::string& pattern, const std::string& location, const std::string& as_written);

// The files a path list names: one path per line, relative to the list's folder unless absolute; blank lines and
// lines starting with '#' skipped; sorted, repeated paths removed. Every path must be a regular file, else
// prs::Error "AS_WRITTEN:LINE: PATH does not exist" (as_written: the list's name as the job gives it).
FileList list_path_list(const std::string& list_file, const std::string& as_written);

// The job's input files, listed as its input form says (folder, file, glob or path list). Rank 0 only.
FileList list_input_files(const JobConfig& config);

}  // namespace prs
