// The input file list: one arena of sorted paths, filled from a folder, a file, a glob or a path-list file.
#include "prs/input/file_list.hpp"
#include "prs/input/mltable.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <system_error>

#include "prs/error.hpp"
#include "prs/input/folder_walk.hpp"

namespace fs = std::filesystem;

namespace prs {

void FileList::add(std::string_view path, FileStamp stamp) {
  offsets_.push_back(arena_.size());
  arena_.append(path);
  ends_.push_back(arena_.size());
  stamps_.push_back(stamp);
}

void FileList::add_skipped(std::string path, std::string problem) {
  skipped_.push_back({std::move(path), std::move(problem)});
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
  sorted.stamps_.reserve(size());
  for (std::uint64_t i : order) sorted.add(at(i), stamps_[i]);
  sorted.skipped_ = std::move(skipped_);
  std::sort(sorted.skipped_.begin(), sorted.skipped_.end(),
            [](const SkippedPath& a, const SkippedPath& b) { return a.path < b.path; });
  *this = std::move(sorted);
}

void FileList::unique() {
  FileList kept;
  kept.arena_.reserve(arena_.size());
  for (std::size_t i = 0; i < size(); ++i) {
    if (i == 0 || at(i) != at(i - 1)) kept.add(at(i), stamps_[i]);
  }
  kept.skipped_ = std::move(skipped_);
  *this = std::move(kept);
}

std::size_t FileList::memory_bytes() const {
  return arena_.capacity() + (offsets_.capacity() + ends_.capacity()) * sizeof(std::uint64_t) +
         stamps_.capacity() * sizeof(FileStamp);
}

namespace {

std::string trimmed(const std::string& text) {
  const std::size_t begin = text.find_first_not_of(" \t\r");
  if (begin == std::string::npos) return "";
  return text.substr(begin, text.find_last_not_of(" \t\r") - begin + 1);
}

// "; skipped 2 unreadable paths: ..." after a "holds no file" error, or nothing.
std::string skipped_suffix(const FileList& files) {
  return files.skipped().empty() ? "" : "; " + skipped_paths_line(files);
}

// One line of a path list: the absolute path, added when it is a regular file; fails (or skips) otherwise.
void add_listed_path(const std::string& absolute, const std::string& where, const ListRules& rules, FileList& files) {
  struct stat st {};
  if (::stat(absolute.c_str(), &st) != 0) {
    const int error = errno;
    if (error == ENOENT || error == ENOTDIR) throw Error(where + " does not exist");
    const std::string problem = std::string("cannot stat the input path: ") + std::strerror(error);
    if (!rules.skip_unreadable) throw Error(where + ": " + problem + input_detail::skip_hint);
    return files.add_skipped(absolute, problem);
  }
  if (!S_ISREG(st.st_mode)) throw Error(where + " is not a file");
  files.add(absolute, stamp_of(st));
}

// Whether two paths name the same file (both exist and have one device and inode).
bool same_file(const std::string& a, std::string_view b) {
  struct stat sa {};
  struct stat sb {};
  return ::stat(a.c_str(), &sa) == 0 && ::stat(std::string(b).c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

// Refuses an output file (the rows', a .h5's) that is one of the inputs: the rows would overwrite it (and
// --overwrite delete it).
// Only paths with the output's file name are compared by identity, so the check costs no system call per file.
void check_output_is_not_input(const JobConfig& config, const FileList& files, const std::string& output) {
  if (output.empty()) return;
  const std::string name = "/" + fs::path(output).filename().string();
  for (std::size_t i = 0; i < files.size(); ++i) {
    const std::string_view path = files.at(i);
    if (path.size() < name.size() || path.compare(path.size() - name.size(), name.size(), name) != 0) continue;
    if (path != output && !same_file(output, path)) continue;
    throw Error(config.append_row_location + ": " + output + " is one of the input files (" +
                (path == output ? "" : "listed as " + std::string(path) + ", ") + "input_data: " + config.input_path +
                "); the rows would overwrite it: write them to a file outside the input");
  }
}

}  // namespace

// What the job's listing leaves out: the logs and output folders, the entry script, and an earlier run's output
// (an output beside which the journal of that run lies; without one, the file is the user's and is refused).
ListRules job_rules(const JobConfig& config, bool outputs_too) {
  ListRules rules;
  rules.skip_unreadable = config.skip_unreadable_inputs;
  rules.excluded_folders = config.output_folders;
  rules.excluded_folders.push_back(config.log_dir);
  rules.excluded_files.push_back(config.entry_script);
  std::error_code ignored;
  if (!config.append_row_file.empty() && (outputs_too || fs::exists(journal_path(config), ignored))) {
    rules.excluded_files.push_back(config.append_row_file);
    if (!config.h5_file.empty()) rules.excluded_files.push_back(config.h5_file);
  }
  if (!config.h5_file.empty()) rules.excluded_files.push_back(config.h5_file + ".tmp");  // a build's, never input
  return rules;
}

void check_outputs_not_listed(const JobConfig& config, const FileList& files) {
  for (const std::string* output : {&config.append_row_file, &config.h5_file})
    check_output_is_not_input(config, files, *output);
}

FileList list_input_files(const std::string& path, const ListRules& rules) {
  FileList files;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
    files.add(path, stamp_of(st));
    return files;
  }
  input_detail::walk_folder(path, rules, {}, files);
  if (files.size() == 0) throw Error(path + ": the input folder holds no file" + skipped_suffix(files));
  files.sort();
  return files;
}

FileList list_path_list(const std::string& list_file, const std::string& as_written, const ListRules& rules) {
  std::ifstream in(list_file);
  if (!in) throw Error(as_written + ": cannot read the path list: " + std::strerror(errno));
  const fs::path folder = fs::path(list_file).parent_path();
  FileList files;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    const std::string path = trimmed(line);
    if (path.empty() || path[0] == '#') continue;
    const std::string absolute = (folder / path).lexically_normal().string();  // an absolute path stays itself
    add_listed_path(absolute, as_written + ":" + std::to_string(number) + ": " + absolute, rules, files);
  }
  if (in.bad()) throw Error(as_written + ": cannot read the path list: " + std::strerror(errno));
  if (files.size() == 0) {
    throw Error(as_written + ": the path list names no file; give one path per line" + skipped_suffix(files));
  }
  files.sort();
  files.unique();
  return files;
}

FileList list_input_files(const JobConfig& config) {
  const ListRules rules = job_rules(config);
  FileList files;
  if (config.input_kind == InputKind::mltable) {  // an MLTable without a read transformation: a file list
    if (config.mini_batch_size_is_size)
      throw Error(config.mini_batch_size_location + ": must be a count of files for an MLTable without "
                  "read_delimited or read_json_lines (a file list), got " + std::to_string(config.mini_batch_bytes) +
                  " bytes");
    return read_job_mltable(config).files;
  }
  switch (config.input_form) {
    case InputForm::glob:
      files = list_glob(config.input_path, config.input_location, config.input_as_written, rules);
      break;
    case InputForm::path_list:
      files = list_path_list(config.input_path, config.input_as_written, rules);
      break;
    default:
      files = list_input_files(config.input_path, rules);
  }
  check_outputs_not_listed(config, files);
  return files;
}

MLTable read_job_mltable(const JobConfig& config) {
  MLTable table = read_mltable(config.input_path, true, job_rules(config));
  for (const std::string* output : {&config.append_row_file, &config.h5_file})
    check_output_is_not_input(config, table.files, *output);
  return table;
}

FileStamp stamp_of(const struct stat& st) {
  return {static_cast<std::int64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1000000000 + static_cast<std::int64_t>(st.st_mtim.tv_nsec)};
}

std::string skipped_paths_line(const FileList& files, std::size_t shown) {
  const std::vector<SkippedPath>& skipped = files.skipped();
  if (skipped.empty()) return "";
  std::string line = "skipped " + std::to_string(skipped.size()) +
                     (skipped.size() == 1 ? " unreadable path: " : " unreadable paths: ");
  for (std::size_t i = 0; i < skipped.size() && i < shown; ++i) {
    line += (i == 0 ? "" : ", ") + skipped[i].path + " (" + skipped[i].problem + ")";
  }
  if (skipped.size() > shown) line += ", and " + std::to_string(skipped.size() - shown) + " more (--dry-run lists them)";
  return line;
}

}  // namespace prs
