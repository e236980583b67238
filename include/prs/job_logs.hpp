#pragma once
// The logs/ folder users of the service already know, written by rank 0: job_result.txt (the verdict and counts),
// user/error.txt (every entry-script error with rank, host, mini-batch and attempt) and job_summary.json.
#include <cstdint>
#include <fstream>
#include <string>

#include "prs/error.hpp"
#include "prs/scheduler.hpp"

namespace prs {

// Sums over all workers, reduced to rank 0 at the end of the job.
struct WorkerTotals {
  std::uint64_t attempts_run = 0;     // run() calls
  std::uint64_t attempts_failed = 0;  // raised, timed out, returned a wrong type or too few rows
  std::uint64_t timeouts = 0;         // run() calls interrupted by the timeout
  std::uint64_t bytes_written = 0;    // output bytes written with MPI-IO
  std::uint64_t run_micros = 0;       // time spent inside run()
};

// How the job ended, as rank 0 reports it.
struct JobOutcome {
  ExitCode code = ExitCode::succeeded;
  std::string reason;          // why it failed; empty on success
  JobCounts counts;            // the master's counts
  WorkerTotals workers;        // the workers' counters
  int workers_started = 0;     // workers that ran init() successfully
  int workers_retired = 0;     // workers whose init() failed
  int workers_given_up = 0;    // workers whose run() ignored the timeout past the grace period
  double seconds = 0;          // wall time of the master loop
  double dispatch_seconds = 0;  // from the first task sent to the end (the loop without workers' start-up)
  double master_cpu_seconds = 0;  // CPU time rank 0 used in that time
  double journal_seconds = 0;     // of the master loop's time, spent writing and syncing the journal
  std::uint64_t journal_bytes = 0;  // size of the journal
};

// Writes the logs folder of one job (rank 0 only).
class JobLogs {
 public:
  // Creates dir, dir/user and dir/sys; appends to the logs of an earlier run when resuming. Throws prs::Error.
  JobLogs(std::string dir, bool append);
  // The folder.
  const std::string& dir() const { return dir_; }
  // Appends an entry-script error (traceback) to user/error.txt.
  void entry_script_error(const std::string& heading, const std::string& traceback);
  // Appends a line to sys/master_role.txt (scheduling decisions, thresholds).
  void master_note(const std::string& line);
  // Writes job_result.txt and job_summary.json.
  void write_result(const JobOutcome& outcome, const std::string& output_file);

 private:
  std::string dir_;
  std::ofstream errors_;
  std::ofstream master_;
};

// The verdict on the console (rank 0): one line, plus the reason when the job did not succeed.
void print_outcome(const JobOutcome& outcome, const std::string& output_file, const std::string& log_dir);

// "1:02:03" for a number of seconds.
std::string format_duration(double seconds);

}  // namespace prs
