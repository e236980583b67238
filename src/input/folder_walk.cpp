// The walk below an input folder: symlinks followed, each real folder entered once, its entries stat()ed in name
// order, every error named or skipped.
#include "prs/input/folder_walk.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "folder_entries.hpp"
#include "prs/error.hpp"

namespace prs::input_detail {

const char* const skip_hint = "; fix it, or set skip_unreadable_inputs: true to skip what cannot be read";

namespace {

// A file or folder by identity, so that a folder reached by two paths (a symlink, a loop) counts once.
using FileId = std::pair<dev_t, ino_t>;

FileId id_of(const struct stat& st) { return {st.st_dev, st.st_ino}; }

// A file the walk leaves out, known by its name (a cheap first test) and its identity (once it exists).
struct Excluded {
  std::string path;
  std::string name;
  std::optional<FileId> id;
};

std::string base_name(const std::string& path) { return path.substr(path.rfind('/') + 1); }

// One walk: the folders entered so far, the folders still to enter, and what it adds to the list.
class Walk {
 public:
  Walk(const std::string& root, const ListRules& rules, const WalkFilter& filter, FileList& files)
      : root_(root), rules_(rules), filter_(filter), files_(files) {
    for (const std::string& folder : rules.excluded_folders) {
      struct stat st {};
      if (::stat(folder.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) entered_.insert(id_of(st));
    }
    for (const std::string& file : rules.excluded_files) {
      struct stat st {};
      if (file.empty()) continue;
      excluded_files_.push_back({file, base_name(file), std::nullopt});
      if (::stat(file.c_str(), &st) == 0) excluded_files_.back().id = id_of(st);
    }
    struct stat st {};
    if (::stat(root.c_str(), &st) == 0) entered_.erase(id_of(st));  // the root itself is never left out
  }

  void run() {
    pending_.push_back(root_);
    while (!pending_.empty() || !through_links_.empty()) {
      if (pending_.empty()) {  // the real tree is done: the folders reached through symlinks, in sorted order
        std::sort(through_links_.begin(), through_links_.end(), std::greater<>());
        pending_.swap(through_links_);
      }
      const std::string folder = std::move(pending_.back());
      pending_.pop_back();
      if (filter_.frontier && folder != root_) queued_.erase(queued_.find(folder + "/"));
      list_folder(folder);
      if (filter_.frontier) filter_.frontier(queued_.empty() ? nullptr : &*queued_.begin());
    }
  }

 private:
  // Fails with the path and the OS reason, or notes the path as skipped.
  void problem(const std::string& path, const std::string& what, int error) {
    const std::string text = what + ": " + std::strerror(error);
    if (!rules_.skip_unreadable) throw Error(path + ": " + text + skip_hint);
    files_.add_skipped(path, text);
  }

  std::string_view relative(const std::string& path) const {
    return std::string_view(path).substr(std::min(path.size(), root_ == "/" ? 1 : root_.size() + 1));
  }

  // Opens a folder not entered before; -1 when it cannot be read (noted) or was entered already.
  int open_new_folder(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      problem(path, "cannot list the input folder", errno);
      return -1;
    }
    struct stat st {};
    int error = ::fstat(fd, &st) != 0 ? errno : 0;
    if (error == 0 && !entered_.insert(id_of(st)).second) {
      ::close(fd);
      return -1;  // a loop, a second path to a folder already listed, or an output or logs folder
    }
    if (error == 0 && ::faccessat(fd, ".", X_OK, AT_EACCESS) != 0) error = errno;  // readable but not searchable
    if (error != 0) {
      ::close(fd);
      problem(path, "cannot enter the input folder", error);
      return -1;
    }
    return fd;
  }

  bool excluded(const struct stat& st) {
    return std::any_of(excluded_files_.begin(), excluded_files_.end(), [&](Excluded& e) {
      struct stat now {};
      if (!e.id && ::stat(e.path.c_str(), &now) == 0) e.id = id_of(now);  // created since the walk began
      return e.id == id_of(st);
    });
  }

  bool named_like_excluded(const char* name) const {
    return std::any_of(excluded_files_.begin(), excluded_files_.end(),
                       [&](const Excluded& e) { return e.name == name; });
  }

  // A file the filter takes, with the stat() the resume fingerprint reuses (stat()ed only when taken).
  void take(int dir_fd, const char* name, const std::string& path, const struct stat* known) {
    if (filter_.take && !filter_.take(relative(path))) return;
    struct stat st {};
    if (known == nullptr && ::fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
      return problem(path, "cannot stat the input path", errno);
    files_.add(path, stamp_of(known != nullptr ? *known : st));
  }

  // A folder met: kept to enter later (one reached through a symlink after the real tree), if the filter enters it.
  void found_folder(const std::string& path, std::vector<std::string>& folders) {
    if (filter_.enter && !filter_.enter(relative(path))) return;
    if (filter_.frontier) queued_.insert(path + "/");
    folders.push_back(path);
  }

  // One entry of a folder: a file is listed, a folder kept to enter later.
  void entry(int dir_fd, const char* name, unsigned char type, const std::string& path,
             std::vector<std::string>& folders, std::vector<std::string>& linked) {
    if (type == DT_REG && !named_like_excluded(name)) return take(dir_fd, name, path, nullptr);
    if (type == DT_DIR) return found_folder(path, folders);
    if (type != DT_REG && type != DT_LNK && type != DT_UNKNOWN) return;  // FIFOs, sockets, devices
    struct stat st {};
    if (::fstatat(dir_fd, name, &st, 0) != 0) {  // follows a symlink
      return problem(path, type == DT_LNK ? "cannot follow the symlink" : "cannot stat the input path", errno);
    }
    if (S_ISREG(st.st_mode) && !excluded(st)) return take(dir_fd, name, path, &st);
    if (S_ISDIR(st.st_mode)) found_folder(path, type == DT_LNK ? linked : folders);
  }

  // Reports what is final within a folder: the paths before its next entry not yet stat()ed (which may be a
  // folder: "folder/next" is the smallest path below it too) and before every folder still to enter.
  void report_within(const std::string& next) {
    filter_.frontier(!queued_.empty() && *queued_.begin() < next ? &*queued_.begin() : &next);
  }

  // The folder's entries, in name order, each stat()ed and classified; a frontier every frontier_every of them
  // (a count, not also when a subfolder is met: from then on the subfolder caps the frontier, so a report there
  // would release only what the next one releases anyway; every 256 keeps the reports, a lock and a heap of the
  // paths found since the last one each, few beside the stat()s, and the wait for a first mini-batch short).
  void classify(int dir_fd, const std::string& path, std::vector<std::string>& folders,
                std::vector<std::string>& linked) {
    const std::size_t every = filter_.frontier ? filter_.frontier_every : 0;
    std::string child = path == "/" ? "/" : path + "/";
    const std::size_t prefix = child.size();
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      child.resize(prefix);
      child += entries_.name(i);
      if (every > 0 && i > 0 && i % every == 0) report_within(child);
      entry(dir_fd, entries_.name(i), entries_.type(i), child, folders, linked);
    }
  }

  void list_folder(const std::string& path) {
    const int fd = open_new_folder(path);
    if (fd < 0) return;
    const std::unique_ptr<DIR, int (*)(DIR*)> dir(::fdopendir(fd), ::closedir);
    if (dir == nullptr) {
      const int error = errno;
      ::close(fd);
      return problem(path, "cannot list the input folder", error);
    }
    const int read_error = entries_.read(dir.get());  // names and types first: nothing is stat()ed yet
    entries_.sort();
    std::vector<std::string> folders;
    std::vector<std::string> linked;
    classify(::dirfd(dir.get()), path, folders, linked);
    if (read_error != 0) problem(path, "cannot list the input folder", read_error);
    keep(std::move(folders), pending_);
    keep(std::move(linked), through_links_);
  }

  // Queues the folders found in one folder, the smallest path on top (so the walk is in sorted order).
  static void keep(std::vector<std::string> folders, std::vector<std::string>& queue) {
    std::sort(folders.begin(), folders.end(), std::greater<>());
    for (std::string& folder : folders) queue.push_back(std::move(folder));
  }

  const std::string& root_;
  const ListRules& rules_;
  const WalkFilter& filter_;
  FileList& files_;
  std::set<FileId> entered_;                // folders entered, and the excluded ones
  std::vector<Excluded> excluded_files_;
  std::vector<std::string> pending_;        // folders to enter, the next one last
  std::vector<std::string> through_links_;  // folders reached through a symlink, entered after the real tree
  std::multiset<std::string> queued_;       // with a frontier: every folder still to enter, plus "/"
  FolderEntries entries_;                   // the folder being listed, read whole before its entries are stat()ed
};

}  // namespace

void walk_folder(const std::string& root, const ListRules& rules, const WalkFilter& filter, FileList& files) {
  Walk(root, rules, filter, files).run();
}

}  // namespace prs::input_detail
