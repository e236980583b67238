#pragma once
// Test support for the config tests: a job folder in a fresh temporary directory, a minimal job, the error a load
// throws and the resolved settings.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "prs/config/config.hpp"
#include "prs/error.hpp"

namespace prs_test {

// A fresh temporary folder, made the working directory while the test runs (so the job is "job.yml").
class TempJobDir {
 public:
  TempJobDir() : old_cwd_(std::filesystem::current_path()) {
    std::string pattern = (std::filesystem::temp_directory_path() / "prs_config_XXXXXX").string();
    REQUIRE(::mkdtemp(pattern.data()) != nullptr);
    root_ = std::filesystem::canonical(pattern).string();
    std::filesystem::current_path(root_);
  }
  ~TempJobDir() {
    std::filesystem::current_path(old_cwd_);
    std::error_code ignored;
    std::filesystem::remove_all(root_, ignored);
  }
  TempJobDir(const TempJobDir&) = delete;
  TempJobDir& operator=(const TempJobDir&) = delete;

  // The absolute path of a file or folder inside.
  std::string operator/(const std::string& relative) const { return root_ + "/" + relative; }
  // The folder itself.
  const std::string& root() const { return root_; }
  // Writes a file, creating its folders.
  void write(const std::string& relative, const std::string& text) const {
    std::filesystem::create_directories(std::filesystem::path(*this / relative).parent_path());
    std::ofstream(*this / relative) << text;
  }
  // Creates a folder.
  void mkdir(const std::string& relative) const { std::filesystem::create_directories(*this / relative); }

 private:
  std::filesystem::path old_cwd_;
  std::string root_;
};

// The message of the prs::Error that loading the job throws; fails the test when it throws none.
inline std::string load_error(const prs::CliOptions& cli) {
  try {
    prs::load_job_config(cli);
  } catch (const prs::Error& e) {
    return e.what();
  }
  FAIL("expected a prs::Error");
  return "";
}

// A minimal valid job: lines 1-6; `extra` starts at line 7 (indent it by two spaces to put it in task).
inline std::string minimal_job(const std::string& extra = "") {
  return "type: parallel\n"
         "inputs:\n"
         "  input_data: {type: uri_folder, path: ./data}\n"
         "input_data: ${{inputs.input_data}}\n"
         "task:\n"
         "  entry_script: score.py\n" +
         extra;
}

// "value (origin)" of one resolved setting, or "missing".
inline std::string resolved(const prs::JobConfig& config, const std::string& key) {
  for (const prs::ResolvedSetting& setting : config.resolved) {
    if (setting.key == key) return setting.value + " (" + setting.origin + ")";
  }
  return "missing";
}

}  // namespace prs_test
