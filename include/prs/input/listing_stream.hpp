#pragma once
// A uri_folder listing that hands out its paths while it goes on: a thread walks the folder (the walk of
// folder_walk.hpp, which list_input_files runs too) and, after each folder and every 256 entries within one,
// releases the paths that sort before every folder still to enter and before the folder's next entry not yet
// stat()ed. Those can no longer be preceded by a path found later, so the released paths are a prefix of the sorted
// listing that list_input_files returns: the same paths, stamps, skipped paths and errors, in the same order. A flat
// folder's first paths go out while the rest are still to be stat()ed.
//
// Why a thread: the walk is one loop of blocking system calls (a slow file system's readdir and stat), which the
// master loop cannot interleave with its MPI polling at a finer grain than one folder; a thread keeps the master
// loop as it is and hands over through one mutex-guarded chunk. The thread touches no MPI and nothing of the
// master's. Its paths join the master's list only in take(), on the master's thread.
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <string>
#include <thread>

#include "prs/config/config.hpp"
#include "prs/input/file_list.hpp"

namespace prs {

// Whether a job's input is listed as a stream: a uri_folder or uri_file (not a glob, a path list or an MLTable),
// without partition_keys.
bool input_streams(const JobConfig& config);

// One streamed listing of a job's input folder; the destructor stops the walk (between two files) and joins.
class ListingStream {
 public:
  // Starts listing the job's input (input_streams(config)) with the job's rules, its output files left out even
  // if they are created while it lists. Tests only: PRS_TEST_LISTING_DELAY_US=N sleeps N microseconds per file,
  // PRS_TEST_LISTING_HOLD=PATH pauses (at most 60 s) once hold_after paths are released until PATH exists,
  // PRS_TEST_LISTING_PER_FOLDER=1 releases only after whole folders (the comparison of the benchmarks).
  ListingStream(const JobConfig& config, std::uint64_t hold_after);
  ~ListingStream();
  ListingStream(const ListingStream&) = delete;
  ListingStream& operator=(const ListingStream&) = delete;

  // Waits until at least `paths` paths are released or the listing ended (well or not); returns whether it ended.
  bool wait_for(std::uint64_t paths);
  // Appends the paths released since the last call to files, in order; returns true once the listing ended well,
  // with every path in files and its skipped paths in files.skipped(). Rethrows the listing's error (prs::Error,
  // as list_input_files throws it) once every path released before it was taken.
  bool take(FileList& files);
  // Seconds from the start to the end of the listing (0 until it ended).
  double seconds() const { return seconds_; }

 private:
  void walk(const JobConfig& config);
  void publish(FileList& out, const JobConfig& config);
  void hold_if_asked();

  std::mutex mutex_;
  std::condition_variable changed_;
  FileList chunk_;                // released, not yet taken (guarded)
  std::uint64_t released_ = 0;    // paths released so far (guarded)
  bool ended_ = false;            // the walk returned or threw (guarded)
  std::exception_ptr error_;      // what it threw (guarded)
  std::atomic<bool> cancel_{false};
  std::uint64_t hold_after_ = 0;  // PRS_TEST_LISTING_HOLD: pause once this many paths are released
  bool held_ = false;             // the pause happened (thread only)
  std::atomic<double> seconds_{0};
  std::thread thread_;  // last: started once everything above exists
};

}  // namespace prs
