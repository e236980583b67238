#pragma once
// The command line: prs_mpi JOB.yml [--set key=value]... [--dry-run] [--overwrite] [--help] [--version].
#include <optional>
#include <string>
#include <vector>

namespace prs {

// What the user asked for on the command line.
struct CliOptions {
  std::string job_file;                // the job YAML, as given
  std::vector<std::string> sets;       // "key.path=value" overrides, in order
  bool dry_run = false;                // validate and print the plan, one process, no MPI
  bool overwrite = false;              // replace an existing output and journal
  std::optional<std::string> log_dir;  // --log-dir, else logs/ beside the output
};

// Parses argv; returns nullopt after printing --help or --version. Throws prs::Error on bad usage.
std::optional<CliOptions> parse_cli(int argc, const char* const* argv);

}  // namespace prs
