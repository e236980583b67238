// The folders a job creates and removes (job_folders.hpp).
#include "prs/output/job_folders.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "prs/error.hpp"

namespace fs = std::filesystem;

namespace prs {

namespace {

// dir and the folders above it, the topmost first.
std::vector<fs::path> chain_down_to(const std::string& dir) {
  std::vector<fs::path> chain;
  for (fs::path p = fs::path(dir).lexically_normal(); !p.empty(); p = p.parent_path()) {
    if (p.filename().empty() && p != p.root_path()) continue;  // "a/b/" normalises to "a/b/": its parent is "a/b"
    chain.push_back(p);
    if (p == p.parent_path()) break;
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

// Removes the empty folders of the tree at path, deepest first; adds what stays to kept.
void remove_empty(const fs::path& path, std::vector<std::string>& kept) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(path, ec);
  if (!fs::exists(status)) return;  // gone already
  if (!fs::is_directory(status)) return kept.push_back(path.string());
  std::vector<fs::path> children;
  for (fs::directory_iterator it(path, ec), end; !ec && it != end; it.increment(ec)) children.push_back(it->path());
  for (const fs::path& child : children)
    if (fs::is_directory(fs::symlink_status(child, ec))) remove_empty(child, kept);
  if (!fs::remove(path, ec) || ec) kept.push_back(path.string());
}

}  // namespace

std::string create_job_folder(const std::string& dir) {
  std::string topmost;
  for (const fs::path& p : chain_down_to(dir)) {
    if (::mkdir(p.c_str(), 0777) == 0) {
      if (topmost.empty()) topmost = p.string();
      continue;
    }
    const int error = errno;
    std::error_code ec;
    if (error == EEXIST && fs::is_directory(p, ec)) continue;  // there already, or made by another job just now
    throw Error(dir + ": cannot create the folder: " + std::strerror(error == EEXIST ? ENOTDIR : error));
  }
  return topmost;
}

std::vector<std::string> remove_job_folder(const std::string& folder, const std::vector<std::string>& ours) {
  std::error_code ec;
  for (const std::string& file : ours) fs::remove(file, ec);
  std::vector<std::string> kept;
  remove_empty(folder, kept);
  return kept;
}

}  // namespace prs
