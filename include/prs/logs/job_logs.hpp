#pragma once
// The logs/ folder users of the service already know, written by rank 0: job_result.txt (the verdict and counts),
// user/error.txt (every entry-script error with rank, host, mini-batch and attempt) and job_summary.json.
#include <cstdint>
#include <fstream>
#include <string>

#include "prs/config/config.hpp"
#include "prs/logs/job_outcome.hpp"

namespace prs {

// Writes the logs folder of one job (rank 0 only).
class JobLogs {
 public:
  // Creates dir, dir/user and dir/sys and writes readme.txt; appends to the logs of an earlier run when resuming.
  // Throws prs::Error.
  JobLogs(std::string dir, bool append);
  // The folder.
  const std::string& dir() const { return dir_; }
  // Appends an entry-script error (traceback) to user/error.txt.
  void entry_script_error(const std::string& heading, const std::string& traceback);
  // Appends a line to sys/master_role.txt (scheduling decisions, thresholds).
  void master_note(const std::string& line);
  // Keeps the job's resolved settings and ignored keys for job_summary.json (the config must outlive the logs).
  void describe(const JobConfig& config) { config_ = &config; }
  // Replaces an earlier run's job_result.txt and job_summary.json with "running" (pid, host, start): a job killed
  // before its end leaves that, never an old verdict.
  void write_running();
  // Writes job_result.txt and job_summary.json.
  void write_result(const JobOutcome& outcome, const std::string& output_file);

 private:
  std::string dir_;
  std::ofstream errors_;
  std::ofstream master_;
  const JobConfig* config_ = nullptr;
};

// The text of job_summary.json: status, exit code, reason, output file (null for summary_only), counts and times,
// throughput, init() and run() time distributions, per-worker and per-node stats, and (with config) the resolved
// settings and the ignored keys.
std::string summary_json(const JobOutcome& outcome, const std::string& output_file,
                         const JobConfig* config = nullptr);

// The verdict on the console (rank 0): one line, plus the reason when the job did not succeed.
void print_outcome(const JobOutcome& outcome, const std::string& output_file, const std::string& log_dir);

// The text of logs/readme.txt: what every file of the folder is.
std::string logs_readme();
// Writes a whole file atomically (a temporary beside it, then rename), so a reader never sees half of it.
// Throws prs::Error naming the path.
void write_file_atomically(const std::string& path, const std::string& text);

// "1:02:03" for a number of seconds.
std::string format_duration(double seconds);

}  // namespace prs
