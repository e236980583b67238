#pragma once
// Folders and files for the unit tests that list or create them: a fresh, empty folder under the temporary folder
// per test and process, a file with its folders, a tree opened to every user.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace prs_test {

// $TMPDIR/prs_test_<suite>_<name>_<pid>, emptied and created.
inline std::filesystem::path fresh_dir(const std::string& suite, const std::string& name) {
  std::filesystem::path d =
      std::filesystem::temp_directory_path() / ("prs_test_" + suite + "_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

// A one-byte file at p, its folders created.
inline void touch(const std::filesystem::path& p) {
  std::filesystem::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

// Makes a tree readable by anyone (the permission tests run their listings as nobody).
inline void open_to_all(const std::filesystem::path& d) {
  namespace fs = std::filesystem;
  fs::permissions(d, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                         fs::perms::others_exec);
  for (const auto& entry : fs::recursive_directory_iterator(d)) {
    if (entry.is_symlink()) continue;
    fs::permissions(entry.path(), fs::perms::group_read | fs::perms::others_read |
                                      (entry.is_directory() ? fs::perms::group_exec | fs::perms::others_exec
                                                            : fs::perms::none),
                    fs::perm_options::add);
  }
}

}  // namespace prs_test
