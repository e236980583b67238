#include "prs/file_list.hpp"

#include <algorithm>
#include <filesystem>
#include <numeric>
#include <system_error>

#include "prs/error.hpp"

namespace fs = std::filesystem;

namespace prs {

void FileList::add(std::string_view path) {
  offsets_.push_back(arena_.size());
  arena_.append(path);
  ends_.push_back(arena_.size());
}

std::string_view FileList::at(std::size_t i) const {
  return std::string_view(arena_).substr(offsets_[i], ends_[i] - offsets_[i]);
}

void FileList::sort() {
  std::vector<std::uint64_t> order(size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [this](std::uint64_t a, std::uint64_t b) { return at(a) < at(b); });
  FileList sorted;
  sorted.arena_.reserve(arena_.size());
  sorted.offsets_.reserve(size());
  sorted.ends_.reserve(size());
  for (std::uint64_t i : order) sorted.add(at(i));
  *this = std::move(sorted);
}

std::size_t FileList::memory_bytes() const {
  return arena_.capacity() + (offsets_.capacity() + ends_.capacity()) * sizeof(std::uint64_t);
}

namespace {

bool is_regular(const fs::directory_entry& entry) {
  std::error_code ec;
  return entry.is_regular_file(ec);  // follows symlinks
}

}  // namespace

FileList list_input_files(const std::string& path) {
  FileList files;
  std::error_code ec;
  if (fs::is_regular_file(path, ec)) {
    files.add(path);
    return files;
  }
  auto options = fs::directory_options::follow_directory_symlink;
  fs::recursive_directory_iterator it(path, options, ec), end;
  if (ec) throw Error(path + ": cannot list the input folder: " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) throw Error(path + ": cannot list the input folder: " + ec.message());
    if (is_regular(*it)) files.add(it->path().native());
  }
  if (files.size() == 0) throw Error(path + ": the input folder holds no file");
  files.sort();
  return files;
}

}  // namespace prs
