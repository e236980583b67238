#pragma once
// A sorted list of input files kept compactly: one character arena and one offset per path, so that rank 0 holds
// millions of paths in a few bytes of overhead each. A listing is complete or fails: a path it cannot read is an
// error naming it, unless the job skips unreadable paths (skip_unreadable_inputs), which are then kept in skipped().
#include <sys/stat.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "prs/config/config.hpp"

namespace prs {

// What the resume fingerprint keeps of a file: its size and modification time as the listing's own stat() saw
// them, so that the fingerprint stats no input a second time. 16 bytes per file.
struct FileStamp {
  std::int64_t size = -1;     // bytes; -1: not known (the fingerprint then stats the file itself)
  std::int64_t mtime_ns = 0;  // modification time, nanoseconds since the epoch
};

// A path the listing could not read and skipped (skip_unreadable_inputs: true).
struct SkippedPath {
  std::string path;     // absolute
  std::string problem;  // what failed and the OS reason: "cannot list the input folder: Permission denied"
};

// The input files of a job, sorted bytewise.
class FileList {
 public:
  // Appends a path (with what its stat() said, when the listing stat()ed it); call sort() before indexing.
  void add(std::string_view path, FileStamp stamp = {});
  // Notes a path that could not be read and was skipped.
  void add_skipped(std::string path, std::string problem);
  // Sorts the paths (and the skipped ones) bytewise (deterministic runs) and compacts the arena.
  void sort();
  // Removes repeated paths; call after sort().
  void unique();
  // Number of paths.
  std::size_t size() const { return offsets_.size(); }
  // The i-th path (valid until the next add or sort).
  std::string_view at(std::size_t i) const;
  // The i-th path's stamp (size -1 when the listing did not stat it).
  FileStamp stamp(std::size_t i) const { return stamps_[i]; }
  // The paths skipped because they could not be read, sorted after sort().
  const std::vector<SkippedPath>& skipped() const { return skipped_; }
  // Bytes used by the paths and their offsets (for the dry run and the benchmarks).
  std::size_t memory_bytes() const;

 private:
  std::string arena_;
  std::vector<std::uint64_t> offsets_;  // start of each path in arena_; a path ends where the next starts
  std::vector<std::uint64_t> ends_;     // end of each path (paths need not be adjacent before sort())
  std::vector<FileStamp> stamps_;       // one per path
  std::vector<SkippedPath> skipped_;
};

// What a listing leaves out and what it does with a path it cannot read.
struct ListRules {
  bool skip_unreadable = false;               // note unreadable paths in skipped() instead of failing
  std::vector<std::string> excluded_folders;  // never entered when met below the root (the logs, output folders)
  std::vector<std::string> excluded_files;    // never listed by a walk (the entry script, an earlier output)
};

// Lists a uri_folder recursively (regular files, symlinks followed, each real folder once) or takes one uri_file;
// sorted. Throws prs::Error when the folder holds no file or a path cannot be read (unless rules skip it).
FileList list_input_files(const std::string& path, const ListRules& rules = {});

// The regular files an absolute glob pattern matches, sorted. '*', '?' and '[...]' match within one path component
// and not a leading '.' (as a shell does); "**" as a whole component matches zero or more folders. The walk starts
// at the longest leading folder without glob characters. Throws prs::Error "LOCATION: AS_WRITTEN matches no file".
FileList list_glob(const std::string& pattern, const std::string& location, const std::string& as_written,
                   const ListRules& rules = {});

// The files a path list names: one path per line, relative to the list's folder unless absolute; blank lines and
// lines starting with '#' skipped; sorted, repeated paths removed. Every path must be a regular file, else
// prs::Error "AS_WRITTEN:LINE: PATH does not exist" (as_written: the list's name as the job gives it); one that
// cannot be read is an error too, or skipped with rules.skip_unreadable.
FileList list_path_list(const std::string& list_file, const std::string& as_written, const ListRules& rules = {});

// The job's input files, listed as its input form says (folder, file, glob or path list), without the logs folder,
// the output folders, the entry script and an earlier output. Refuses (prs::Error at task.append_row_to) an output
// file that is one of the inputs. Rank 0 only.
FileList list_input_files(const JobConfig& config);

// Refuses (prs::Error at task.append_row_to) an output file (the rows', a .h5's) that is one of the files.
void check_outputs_not_listed(const JobConfig& config, const FileList& files);

// What the job's listing leaves out (the logs and output folders, the entry script, an earlier output), and what it
// does with an unreadable path; with outputs_too, the output files even without an earlier run's journal (a
// streamed listing goes on while the job creates them).
ListRules job_rules(const JobConfig& config, bool outputs_too = false);

// The stamp of what stat() returned.
FileStamp stamp_of(const struct stat& st);

// "skipped 3 unreadable paths: /d/a (cannot list the input folder: Permission denied), ..." naming the first
// `shown`, or empty when nothing was skipped.
std::string skipped_paths_line(const FileList& files, std::size_t shown = 3);

}  // namespace prs
