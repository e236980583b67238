#pragma once
// One job per output: a write lock on logs/job.lock beside the journal, taken by rank 0 before anything of the job
// is written and held until the process ends. The file names its holder (pid, host, start time), so a refused job
// can say who has it.
//
// The lock is fcntl's, non-blocking, on an open file description (F_OFD_SETLK; F_SETLK where that is missing): the
// kernel drops it when rank 0 ends in any way (also kill -9), it works on local file systems and on NFS with locks,
// and, unlike a process-owned F_SETLK lock, it is not lost when some other descriptor of the file is closed in the
// same process, and a second take in the same process is refused too. The file is never removed: removing it would
// let a third job lock a new file while a second one still holds the old.
#include <string>

namespace prs {

// A held job lock; move-only, released by the destructor (which never throws).
class JobLock {
 public:
  // Creates path if needed, locks it and writes the holder into it. A held lock is tried again for up to
  // patience_seconds (the ranks of a job just killed with its mpirun live on for about a second), then refused:
  // prs::Error "<who>: another prs_mpi job is using this output: pid P on host H since T (lock PATH); wait for it or
  // use another output". Throws one naming the folder when the file cannot be created or locked.
  static JobLock take(const std::string& path, const std::string& who, double patience_seconds = 3.0);
  JobLock() = default;
  JobLock(JobLock&& other) noexcept;
  JobLock& operator=(JobLock&& other) noexcept;
  JobLock(const JobLock&) = delete;
  JobLock& operator=(const JobLock&) = delete;
  ~JobLock();

  // The lock is held.
  bool held() const { return fd_ >= 0; }
  // The lock file.
  const std::string& path() const { return path_; }

 private:
  int fd_ = -1;
  std::string path_;
};

// The lock file of a logs folder: logs/job.lock, beside the journal.
inline std::string job_lock_path(const std::string& log_dir) { return log_dir + "/job.lock"; }

}  // namespace prs
