// Glob inputs: "./data/**/*.png", matched component by component while the shared folder walk goes down.
#include <fnmatch.h>

#include <algorithm>
#include <filesystem>

#include "prs/error.hpp"
#include "prs/input/file_list.hpp"
#include "prs/input/folder_walk.hpp"

namespace fs = std::filesystem;

namespace prs {

namespace {

std::vector<std::string> components(std::string_view path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= path.size()) {
    std::size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    if (end > start) parts.emplace_back(path.substr(start, end - start));
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

}  // namespace

FileList list_glob(const std::string& pattern, const std::string& location, const std::string& as_written,
                   const ListRules& rules) {
  const Glob glob = split_glob(pattern);
  input_detail::WalkFilter filter;
  filter.enter = [&](std::string_view relative) { return glob_matches(glob.pattern, 0, components(relative), 0, true); };
  filter.take = [&](std::string_view relative) { return glob_matches(glob.pattern, 0, components(relative), 0, false); };
  FileList files;
  input_detail::walk_folder(glob.base, rules, filter, files);
  if (files.size() == 0) {
    throw Error(location + ": " + as_written + " matches no file" +
                (files.skipped().empty() ? "" : "; " + skipped_paths_line(files)));
  }
  files.sort();
  return files;
}

}  // namespace prs
