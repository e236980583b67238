#pragma once
// The two kinds of exception: what the user can fix, and what they cannot.
#include <stdexcept>
#include <string>

namespace prs {

// Documented process exit codes.
enum class ExitCode : int { succeeded = 0, job_failed = 1, usage = 2, interrupted = 3 };

// Bad input (configuration, command line, files): reported as one line, exit 2.
// The message is already "where: key: what is wrong, got VALUE" without the "prs_mpi: error: " prefix.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A failure of prs_mpi or its environment (MPI, file system) that no setting can fix: the job is aborted.
class Fatal : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

}  // namespace prs
