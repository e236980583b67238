#pragma once
// The logs of one worker process under logs/, as the service lays them out: user/stdout/<node>/processNNN.stdout.txt
// and user/stderr/<node>/processNNN.stderr.txt (the entry script's fds 1 and 2), user/error/<node>/processNNN.txt
// (its tracebacks), user/entry_script_log/<node>/processNNN.log.txt (EntryScript().logger) and
// sys/node/<node>/processNNN.txt (one line per attempt). <node> is the host name, NNN the worker's MPI rank
// (zero-padded to 3), so rank 0 can name the file of any failure. Written by the worker rank (and its Python
// process) itself, always appended: a restarted process or a resumed run adds to the same files.
#include <cstdint>
#include <ctime>
#include <fstream>
#include <string>
#include <vector>

namespace prs {

// The files of one worker process.
struct ProcessLogPaths {
  std::string stdout_file;       // user/stdout/<node>/processNNN.stdout.txt
  std::string stderr_file;       // user/stderr/<node>/processNNN.stderr.txt
  std::string error_file;        // user/error/<node>/processNNN.txt
  std::string entry_script_log;  // user/entry_script_log/<node>/processNNN.log.txt
  std::string sys_file;          // sys/node/<node>/processNNN.txt
};

// "process003" for rank 3.
std::string process_name(int rank);

// The paths of rank's files on host under log_dir.
ProcessLogPaths process_log_paths(const std::string& log_dir, const std::string& host, int rank);

// Python's number for a logging_level name: DEBUG 10, INFO 20, WARNING 30, ERROR 40 (INFO for anything else).
int log_level_number(const std::string& level);

// "2026-12-01 10:02:03" (local time).
std::string log_time(std::time_t t);

// One finished attempt, as sys/node/<node>/processNNN.txt records it.
struct AttemptRecord {
  int rank = 0;                 // the worker's MPI rank
  std::uint64_t batch_id = 0;   // the mini-batch
  std::uint32_t attempt = 0;    // 1 for its first try
  std::uint64_t items = 0;      // items in the mini-batch
  std::uint64_t succeeded = 0;  // of them, those run() returned a row for
  std::string status;           // "ok", "failed", "timed out"
  std::time_t start = 0;        // when the rank handed it to its Python process
  double seconds = 0;           // from then to its outcome
  double run_seconds = 0;       // inside run()
};

// "2026-12-01 10:02:03 rank 3 mini-batch 17 attempt 1: ok, items 10 succeeded 10 failed 0, 1.234 s (run() 1.200 s)"
std::string attempt_line(const AttemptRecord& r);

// How many of a mini-batch's items an error record names.
constexpr std::size_t kItemsShown = 3;

// A failed attempt for user/error/<node>/processNNN.txt: a heading with time, rank, host, mini-batch, attempt and
// the batch's first items (first_items: up to kItemsShown of its r.items), then the traceback.
std::string error_record(const AttemptRecord& r, const std::string& host, const std::vector<std::string>& first_items,
                         const std::string& traceback);

// The worker rank's own writers: sys/node/... and user/error/...; the directories of every file are created.
class ProcessLogs {
 public:
  // Creates the folders of paths (throws prs::Error naming the folder) and opens the sys file for appending.
  explicit ProcessLogs(ProcessLogPaths paths);
  // The paths.
  const ProcessLogPaths& paths() const { return paths_; }
  // Appends a line to sys/node/<node>/processNNN.txt.
  void sys_line(const std::string& line);
  // Appends a record to user/error/<node>/processNNN.txt (opened on the first error).
  void error(const std::string& record);

 private:
  ProcessLogPaths paths_;
  std::ofstream sys_;
  std::ofstream errors_;
};

}  // namespace prs
