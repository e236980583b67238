#pragma once
// Internal to src/input/: one folder's entries as readdir returns them (name and type, nothing stat()ed), sorted by
// name, in one arena that the walk reuses from folder to folder: no allocation per entry.
#include <dirent.h>

#include <cstdint>
#include <string>
#include <vector>

namespace prs::input_detail {

// The entries of one folder, but "." and "..".
class FolderEntries {
 public:
  // Replaces the entries by dir's; returns 0, or the errno of a readdir that failed (the entries before it kept).
  int read(DIR* dir);
  // Sorts them by name, bytewise (the order of "folder/name" paths in the sorted listing).
  void sort();
  // Number of entries.
  std::size_t size() const { return entries_.size(); }
  // The i-th entry's name (valid until the next read).
  const char* name(std::size_t i) const { return arena_.data() + entries_[i].offset; }
  // The i-th entry's d_type (DT_UNKNOWN when the file system does not say).
  unsigned char type(std::size_t i) const { return entries_[i].type; }

 private:
  struct Entry {
    std::uint64_t offset;  // of the name in arena_, which ends with '\0'
    unsigned char type;
  };
  std::string arena_;
  std::vector<Entry> entries_;
};

}  // namespace prs::input_detail
