#pragma once
// A sorted list of input files kept compactly: one character arena and one offset per path, so that rank 0 holds
// millions of paths in a few bytes of overhead each.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace prs {

// The input files of a job, sorted bytewise.
class FileList {
 public:
  // Appends a path; call sort() before indexing.
  void add(std::string_view path);
  // Sorts the paths bytewise (deterministic runs) and compacts the arena.
  void sort();
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

}  // namespace prs
