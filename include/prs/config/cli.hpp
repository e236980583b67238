#pragma once
// The command line: prs_mpi JOB.yml [--set key=value]... [--job NAME] [--dry-run] [--overwrite | --resume]
// [--retry-failed] [--ordered] [--drain-before SECONDS] [--log-dir DIR] [--progress auto|bar|lines|none]
// [--progress-every SECONDS] [--trace FILE.json] [--help] [--version]; and prs_mpi status JOB.yml|LOGS_DIR.
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
  std::optional<std::string> pipeline_job;  // --job NAME: the parallel job of a pipeline file to run
  bool resume = false;                      // continue an interrupted job, reusing its committed results
  bool retry_failed = false;                // with --resume: run the failed mini-batches again
  bool ordered = false;                     // rows in input order (as ordered: true in the job file)
  std::optional<int> drain_before;          // --drain-before SECONDS: stop dispatching that long before walltime
  std::string progress = "auto";            // --progress: auto, bar, lines or none
  int progress_every = 5;                   // --progress-every SECONDS: between plain progress lines
  std::optional<std::string> trace;         // --trace FILE.json: a Chrome trace of the job
  bool status = false;                      // prs_mpi status TARGET: job_file is the job file or a logs folder
};

// Parses argv; returns nullopt after printing --help or --version. Throws prs::Error on bad usage.
std::optional<CliOptions> parse_cli(int argc, const char* const* argv);

}  // namespace prs
