#pragma once
// Internal to src/input/: the walk below a folder that the folder and glob listings share.
//
// Symlinks are followed, but each real folder (device + inode) is entered once, so loops end and a folder reached
// by two paths is listed once: real entries are walked first and folders reached through a symlink after them, in
// sorted order, so a folder inside the tree keeps its real path and the choice does not depend on readdir's order.
// Within a folder the entries are read first (names and types, no stat) and then stat()ed in name order, so that
// what a flat folder's first files are is known before its last ones are stat()ed (the stat is what costs on a
// network file system) and the first error met is the same on every file system.
// Every error (open, read, stat, a broken symlink) names the path and the OS reason; with rules.skip_unreadable it
// is noted in FileList::skipped() instead. An excluded file that does not exist yet when the walk starts (an output
// created while a streamed listing goes on) is looked up again when a file of its name is met. One folder is open
// at a time; its names are kept in one arena while it is read and paths go straight into the FileList's arena: no
// allocation per file.
#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

#include "prs/input/file_list.hpp"

namespace prs::input_detail {

// Which folders a walk enters and which files it lists, by their path relative to the walk's root.
struct WalkFilter {
  std::function<bool(std::string_view relative)> enter;  // empty: every folder
  std::function<bool(std::string_view relative)> take;   // empty: every file
  // Called with the smallest path a file found later can have, or nullptr when nothing more can come: the files
  // found so far that sort before it are final. Called after each folder (the smallest folder still to enter, plus
  // "/") and every frontier_every entries within one (that, or the folder's next entry not yet stat()ed).
  std::function<void(const std::string* frontier)> frontier;  // empty: not called
  std::size_t frontier_every = 256;                           // 0: only after each folder
};

// Adds to files every regular file below root (a folder), symlinks followed, as rules and filter say; unsorted.
// Throws prs::Error "PATH: cannot list the input folder: REASON; ..." unless rules.skip_unreadable.
void walk_folder(const std::string& root, const ListRules& rules, const WalkFilter& filter, FileList& files);

// The hint every listing error ends with.
extern const char* const skip_hint;

}  // namespace prs::input_detail
