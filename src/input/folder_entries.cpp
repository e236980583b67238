// A folder's entries read before any is stat()ed, sorted by name (folder_entries.hpp).
#include "folder_entries.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace prs::input_detail {

int FolderEntries::read(DIR* dir) {
  arena_.clear();
  entries_.clear();
  errno = 0;
  for (const dirent* e; (e = ::readdir(dir)) != nullptr; errno = 0) {
    if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0) continue;
    entries_.push_back({arena_.size(), e->d_type});
    arena_.append(e->d_name, std::strlen(e->d_name) + 1);
  }
  return errno;
}

void FolderEntries::sort() {
  const char* names = arena_.data();
  std::sort(entries_.begin(), entries_.end(), [names](const Entry& a, const Entry& b) {
    return std::strcmp(names + a.offset, names + b.offset) < 0;  // compares as unsigned char, as the listing does
  });
}

}  // namespace prs::input_detail
