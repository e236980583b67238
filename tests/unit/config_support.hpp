#pragma once
// Test support for the config tests (test_config_*.cpp): a job folder in a fresh temporary directory, a minimal job,
// the error a load throws and the resolved settings; then two sets of load helpers, one per family of tests:
//   prs_test::basic  the v2 job tests (values, precedence, paths, the file): job.yml is written with its folders and
//                    scripts before each load, overrides given as a list of --set
//   prs_test::cloud  the tests of job files from the cloud service (v1 names, pipelines, cloud keys, input forms):
//                    the folder's data, model and scripts made once, each load given whole command-line options
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

#include "prs/config/config.hpp"
#include "prs/error.hpp"

namespace prs_test {

using Strings = std::vector<std::string>;

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

// ---- the v2 job tests: test_config_values, _precedence, _paths, _file ----
namespace basic {

using JobDir = TempJobDir;

// The brief's example job, with its data, model and script folders.
inline const char* const example_job = R"(type: parallel
inputs:
  input_data:  {type: uri_folder, path: ./data}
  score_model: {type: uri_folder, path: ./model}
outputs:
  job_output_file: {type: uri_file, path: ./out/predictions.txt}
input_data: ${{inputs.input_data}}
mini_batch_size: "10"
resources: {instance_count: 2}
max_concurrency_per_instance: 4
mini_batch_error_threshold: 5
retry_settings: {max_retries: 2, timeout: 60}
logging_level: INFO
environment_variables: {OMP_NUM_THREADS: "1"}
task:
  type: run_function
  code: ./src
  entry_script: score.py
  program_arguments: --model ${{inputs.score_model}} --allowed_failed_percent 30
  append_row_to: ${{outputs.job_output_file}}
)";

// Writes job.yml with its data folder and entry script (src/score.py and score.py).
inline void write_job(const JobDir& dir, const std::string& yaml) {
  dir.write("job.yml", yaml);
  dir.mkdir("data");
  dir.mkdir("model");
  dir.write("score.py", "def run(batch): return batch\n");
  dir.write("src/score.py", "def run(batch): return batch\n");
}

// Loads a job file already written, with --set overrides.
inline prs::JobConfig load(const Strings& sets = {}, const std::string& job_file = "job.yml") {
  prs::CliOptions cli;
  cli.job_file = job_file;
  cli.sets = sets;
  return prs::load_job_config(cli);
}

// Writes job.yml (write_job) and loads it.
inline prs::JobConfig load_job(const JobDir& dir, const std::string& yaml, const Strings& sets = {}) {
  write_job(dir, yaml);
  return load(sets);
}

// The message of the prs::Error that loading throws; fails the test when it throws none.
inline std::string error_of(const JobDir& dir, const std::string& yaml, const Strings& sets = {}) {
  write_job(dir, yaml);
  prs::CliOptions cli;
  cli.job_file = "job.yml";
  cli.sets = sets;
  return load_error(cli);
}

}  // namespace basic

// ---- the cloud job file tests: test_config_v1_names, _pipeline, _cloud_keys, _input_forms ----
namespace cloud {

// A job folder with the data, model and scripts every job here uses.
class JobDir : public TempJobDir {
 public:
  JobDir() {
    write("data/a.txt", "a");
    write("model/m.txt", "m");
    write("score.py", "def run(batch): return batch\n");
    write("src/score.py", "def run(batch): return batch\n");
  }
};

// The command line for job.yml with --set overrides and --job.
inline prs::CliOptions options(const Strings& sets = {}, const std::optional<std::string>& job = std::nullopt) {
  prs::CliOptions cli;
  cli.job_file = "job.yml";
  cli.sets = sets;
  cli.pipeline_job = job;
  return cli;
}

// Writes job.yml and loads it.
inline prs::JobConfig load_job(const JobDir& dir, const std::string& yaml, const prs::CliOptions& cli = options()) {
  dir.write("job.yml", yaml);
  return prs::load_job_config(cli);
}

// The message of the prs::Error that loading throws; fails the test when it throws none.
inline std::string error_of(const JobDir& dir, const std::string& yaml, const prs::CliOptions& cli = options()) {
  dir.write("job.yml", yaml);
  return load_error(cli);
}

}  // namespace cloud

}  // namespace prs_test
