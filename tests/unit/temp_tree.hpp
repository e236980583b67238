#pragma once
// Folders and files for the unit tests that list or create them: a fresh, empty folder under the temporary folder
// per test and process, and a file with its folders.
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

}  // namespace prs_test
