#pragma once
// Rank 0's view of a running job for people: the console (a one-line bar redrawn in place on a terminal, a plain
// line every few seconds otherwise, for Slurm output files), logs/job_progress_overview.<timestamp>.txt in the
// service's wording, and logs/sys/job_progress.json, which `prs_mpi status` reads from another shell.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace prs {

// How the console shows progress: --progress auto|bar|lines|none.
enum class ProgressMode { auto_detect, bar, lines, none };

// "auto", "bar", "lines" or "none" as a mode; throws prs::Error naming --progress otherwise.
ProgressMode parse_progress_mode(const std::string& text);

// auto: a bar when stdout and stderr are a terminal, plain lines otherwise; TERM=dumb gets lines. Under Open MPI's
// mpirun a rank's stdout is always a pty of mpirun's (its stderr a pipe), so mpirun's own descriptors decide, read
// through /proc/<parent>/fd when the rank's parent is mpirun; other launchers (srun, a remote orted) give lines.
ProgressMode resolve_progress_mode(ProgressMode asked);

// One mini-batch attempt a worker is running now (for the status of the slowest ones).
struct RunningAttempt {
  std::uint64_t batch = 0;
  std::uint32_t attempt = 0;
  int rank = 0;
  std::string host;
  double seconds = 0;  // running for
};

// The counts and times one progress report shows.
struct ProgressSnapshot {
  std::uint64_t done = 0, total = 0;        // mini-batches ended (succeeded or failed) of all
  bool listing = false;                     // the input is still being listed: total is what is listed so far
  std::uint64_t failed = 0, retried = 0;    // mini-batches failed, attempts retried
  std::uint64_t in_flight = 0;              // attempts sent and not answered
  double elapsed = 0;                       // seconds since the master started
  double rate = 0;                          // mini-batches per second in this run (0 until one ended)
  std::optional<double> eta;                // seconds left at that rate
  std::vector<RunningAttempt> slowest;      // the longest-running attempts, longest first
};

// "Processed 4117 of 20000 mini batches in 5:02:14. Estimated remaining time 19:25:59." and the failed and
// retried counts on a second line: job_progress_overview.<timestamp>.txt. While the input is still listed, the
// total is unknown: "of 20000+ (still listing)", and no estimate (in the line and the bar too).
std::string overview_text(const ProgressSnapshot& s);

// "prs_mpi: processed 6 of 10 mini-batches (1 failed, 2 retried) in 0:00:05; 1.2/s, 0:00:03 left": the plain line.
std::string progress_line(const ProgressSnapshot& s);

// "[#########...........]  6/10  60%  1.2/s  ETA 0:00:03  1 failed": the bar, at most width columns.
std::string progress_bar(const ProgressSnapshot& s, int width);

// sys/job_progress.json: the snapshot, the time it was taken (Unix seconds) and the master's pid and host.
std::string progress_json(const ProgressSnapshot& s);

// The bar's line on a terminal: while it lives, anything written to std::cout or std::cerr first clears the bar.
class BarConsole {
 public:
  // Hooks std::cout and std::cerr; the destructor clears the bar and unhooks them.
  BarConsole();
  ~BarConsole();
  BarConsole(const BarConsole&) = delete;
  BarConsole& operator=(const BarConsole&) = delete;
  // Redraws the bar in place (on stderr).
  void draw(const std::string& bar);
  // Leaves the bar as it is and moves to the next line.
  void end();
  // Erases the bar's line (before other output).
  void clear();

 private:
  class Guard;
  std::unique_ptr<Guard> out_, err_;
  bool drawn_ = false;
};

// Reports progress on rank 0's console and in the logs folder; cheap to call on every pass of the master's loop.
class ProgressReporter {
 public:
  // mode: resolved (bar, lines or none); every: seconds between plain lines; log_dir: "" writes no files.
  ProgressReporter(ProgressMode mode, double every, const std::string& log_dir);
  // Whether a report is due at elapsed seconds (the caller then builds a snapshot and calls report).
  bool due(double elapsed) const;
  // Reports: redraws the bar or prints a line when due, rewrites the files when due. Throws prs::Error when a
  // file cannot be written.
  void report(const ProgressSnapshot& s);
  // The last report: the bar's final state and its newline (so the summary starts on a line of its own).
  void finish(const ProgressSnapshot& s);
  // The overview file's path.
  const std::string& overview_path() const { return overview_path_; }

 private:
  void write_files(const ProgressSnapshot& s);
  ProgressMode mode_;
  double every_;
  std::string log_dir_;
  std::string overview_path_;
  double last_console_ = 0, last_files_ = -1e9;  // the first line after `every` s, files at once
  std::unique_ptr<BarConsole> bar_;  // bar mode: the console line it owns
  int width_ = 80;
};

}  // namespace prs
