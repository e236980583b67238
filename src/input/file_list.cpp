// The input file list: one arena of sorted paths, filled from a folder, a file, a glob or a path-list file.
#include "prs/input/file_list.hpp"

#include <fnmatch.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
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

void FileList::unique() {
  FileList kept;
  kept.arena_.reserve(arena_.size());
  for (std::size_t i = 0; i < size(); ++i) {
    if (i == 0 || at(i) != at(i - 1)) kept.add(at(i));
  }
  *this = std::move(kept);
}

std::size_t FileList::memory_bytes() const {
  return arena_.capacity() + (offsets_.capacity() + ends_.capacity()) * sizeof(std::uint64_t);
}

namespace {

bool is_regular(const fs::directory_entry& entry) {
  std::error_code ec;
  return entry.is_regular_file(ec);  // follows symlinks
}

bool is_folder(const fs::directory_entry& entry) {
  std::error_code ec;
  return entry.is_directory(ec);  // follows symlinks
}

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    if (end > start) parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

bool has_glob_characters(const std::string& text) { return text.find_first_of("*?[") != std::string::npos; }

// A glob split at its walk's starting folder: the folder, and the components to match below it.
struct Glob {
  std::string base;
  std::vector<std::string> pattern;
};

Glob split_glob(const std::string& pattern) {
  Glob glob{pattern.rfind('/', 0) == 0 ? "/" : "", {}};
  for (const std::string& part : components(pattern)) {
    if (glob.pattern.empty() && !has_glob_characters(part)) {
      glob.base += (glob.base.empty() || glob.base == "/" ? "" : "/") + part;
    } else {
      glob.pattern.push_back(part);
    }
  }
  if (glob.pattern.empty()) {  // no glob character at all: the last component is the whole pattern
    glob.pattern.push_back(fs::path(glob.base).filename().string());
    glob.base = fs::path(glob.base).parent_path().string();
  }
  if (glob.base.empty()) glob.base = ".";
  return glob;
}

// Whether the path's components parts[j..] match pattern[i..]. With `folder`, whether a folder with these components
// can lead to a match (so the walk goes into it). "**" matches zero or more components that do not start with '.'.
bool glob_matches(const std::vector<std::string>& pattern, std::size_t i, const std::vector<std::string>& parts,
                  std::size_t j, bool folder) {
  if (j == parts.size()) {
    if (folder) return i < pattern.size();
    return std::all_of(pattern.begin() + static_cast<std::ptrdiff_t>(i), pattern.end(),
                       [](const std::string& part) { return part == "**"; });
  }
  if (i == pattern.size()) return false;
  if (pattern[i] == "**") {
    return glob_matches(pattern, i + 1, parts, j, folder) ||
           (parts[j][0] != '.' && glob_matches(pattern, i, parts, j + 1, folder));
  }
  return ::fnmatch(pattern[i].c_str(), parts[j].c_str(), FNM_PERIOD) == 0 &&
         glob_matches(pattern, i + 1, parts, j + 1, folder);
}

std::string trimmed(const std::string& text) {
  const std::size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
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

FileList list_glob(const std::string& pattern, const std::string& location, const std::string& as_written) {
  const Glob glob = split_glob(pattern);
  FileList files;
  std::error_code ec;
  fs::recursive_directory_iterator it(glob.base, fs::directory_options::follow_directory_symlink, ec), end;
  if (ec) throw Error(glob.base + ": cannot list the input folder: " + ec.message());
  const std::size_t skip = glob.base == "/" ? 1 : glob.base.size() + 1;  // "BASE/" before each relative path
  for (; it != end; it.increment(ec)) {
    if (ec) throw Error(glob.base + ": cannot list the input folder: " + ec.message());
    const std::string& path = it->path().native();
    const std::vector<std::string> parts = components(path.substr(skip));
    if (is_folder(*it)) {
      if (!glob_matches(glob.pattern, 0, parts, 0, true)) it.disable_recursion_pending();
    } else if (is_regular(*it) && glob_matches(glob.pattern, 0, parts, 0, false)) {
      files.add(path);
    }
  }
  if (files.size() == 0) throw Error(location + ": " + as_written + " matches no file");
  files.sort();
  return files;
}

FileList list_path_list(const std::string& list_file, const std::string& as_written) {
  std::ifstream in(list_file);
  if (!in) throw Error(as_written + ": cannot read the path list: " + std::strerror(errno));
  const fs::path folder = fs::path(list_file).parent_path();
  FileList files;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    const std::string path = trimmed(line);
    if (path.empty() || path[0] == '#') continue;
    const std::string absolute = (folder / path).lexically_normal().string();  // an absolute path stays itself
    std::error_code ec;
    const fs::file_status status = fs::status(absolute, ec);
    const std::string where = as_written + ":" + std::to_string(number) + ": " + absolute;
    if (!fs::exists(status)) throw Error(where + " does not exist");
    if (!fs::is_regular_file(status)) throw Error(where + " is not a file");
    files.add(absolute);
  }
  if (in.bad()) throw Error(as_written + ": cannot read the path list: " + std::strerror(errno));
  if (files.size() == 0) throw Error(as_written + ": the path list names no file; give one path per line");
  files.sort();
  files.unique();
  return files;
}

FileList list_input_files(const JobConfig& config) {
  switch (config.input_form) {
    case InputForm::glob:
      return list_glob(config.input_path, config.input_location, config.input_as_written);
    case InputForm::path_list:
      return list_path_list(config.input_path, config.input_as_written);
    default:
      return list_input_files(config.input_path);
  }
}

}  // namespace prs
