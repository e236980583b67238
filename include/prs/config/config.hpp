#pragma once
// The job YAML (the seeds' v2 parallel job, its v1 ParallelRunConfig names, or a pipeline's parallel job), resolved and
// validated into one JobConfig.
//
// Sources: the YAML and task.program_arguments must agree when both give a setting (as must two names of one
// setting); --set overrides both silently. Relative paths are relative to the job file; ${{inputs.X}} /
// ${{outputs.X}} resolve to absolute paths everywhere. Cloud-only keys are accepted and listed in ignored_keys.
// Every error is a prs::Error whose text is "job.yml:12: retry_settings.timeout: must be in (0, 259200], got -5".
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "prs/config/cli.hpp"
#include "prs/config/python_env.hpp"

namespace prs {

// What run() receives and how input_data is cut into mini-batches: files, or an MLTable folder whose MLTable file
// (read by the input layer) says a table (DataFrames, cut by size) or a file list.
enum class InputKind { file_list, mltable };

// How the file list is given: a folder (listed recursively), one file, a glob, or a text file of paths.
enum class InputForm { folder, file, glob, path_list };

// What happens to the rows run() returns.
enum class OutputAction { append_row, summary_only };

// One resolved setting, for --dry-run and the logs: "retry_settings.timeout = 60 (job.yml:14)".
struct ResolvedSetting {
  std::string key;
  std::string value;
  std::string origin;  // "job.yml:14", "--set", "program_arguments (job.yml:30)" or "default"
};

// Everything a rank needs to know about the job; identical on every rank.
struct JobConfig {
  std::string job_file;  // absolute path of the YAML
  std::string job_name;  // file name of the YAML, as used in messages ("job.yml")
  std::string pipeline_job;               // the job run from a pipeline file (jobs.NAME), else empty
  std::vector<std::string> ignored_keys;  // cloud-only keys, "compute (job.yml:74)", in file order

  InputKind input_kind = InputKind::file_list;
  InputForm input_form = InputForm::folder;
  std::string input_path;        // absolute: the folder, the file, the glob pattern or the path-list file
  std::string input_location;    // where listing errors point: "job.yml:3: inputs.input_data.path"
  std::string input_as_written;  // the path as the job gives it: "./data/**/*.png", "paths.txt"
  std::uint64_t mini_batch_size = 10;  // files per mini-batch, in [1, max_mini_batch_size]
  std::uint64_t mini_batch_bytes = 0;  // bytes per tabular mini-batch as written ("10kb", or a count "1024"); 0: unset
  bool mini_batch_size_is_size = false;  // written with a unit ("10kb"): only a table may have it
  std::string mini_batch_size_location;  // "job.yml:12: mini_batch_size", empty when unset
  std::string mini_batch_size_problem;   // a size out of range, told once the input is known to be a table
  std::uint64_t mini_batch_row_size = 0;  // rows per tabular mini-batch (mini_batch_row_size); 0 = not given
  std::vector<std::string> partition_keys;  // one mini-batch per combination of these keys' values; empty: none
  std::string partition_keys_location;     // "job.yml:9: partition_keys", empty when unset
  bool skip_unreadable_inputs = false;  // skip (and list) input paths that cannot be read instead of failing

  int instance_count = 1;                // nodes the job expects
  int max_concurrency_per_instance = 0;  // workers per node at most; 0 = not set (all ranks work)

  std::int64_t mini_batch_error_threshold = -1;  // failed mini-batches allowed; -1 ignores
  std::int64_t error_threshold = -1;             // failed items allowed; -1 ignores
  int allowed_failed_percent = 100;              // failed mini-batches in percent; 100 ignores
  int max_retries = 2;                           // retries after the first attempt
  int timeout = 60;                              // seconds for one run() call
  int task_overhead_timeout = 600;               // seconds of overhead per mini-batch
  int progress_update_timeout = 0;               // seconds without progress; 0 = 3 x (timeout + overhead)
  int first_task_creation_timeout = 600;         // seconds until the first mini-batch runs
  int resource_monitor_interval = 600;           // seconds between resource samples; 0 = off
  bool copy_logs_to_parent = false;              // accepted for compatibility; nothing to copy to here
  std::string logging_level = "INFO";            // DEBUG, INFO, WARNING or ERROR

  std::vector<std::pair<std::string, std::string>> environment_variables;  // set in every worker, in order

  std::string code_dir;                    // absolute; put first on sys.path
  std::string entry_script;                // absolute path of the entry script
  std::vector<std::string> program_arguments;  // split as a shell would; become sys.argv[1:]
  PythonEnv python_env;                    // python_env: (or VIRTUAL_ENV, see use_virtual_env); empty prefix: none
  std::string virtual_env_unused;          // VIRTUAL_ENV when python_env overrides it: said on the console

  OutputAction output_action = OutputAction::append_row;
  std::string append_row_file;              // absolute, the file rows are committed to; empty with summary_only
  std::string h5_file;                      // an append_row_to ending in .h5 (then append_row_file is its staging
                                            // file, h5_staging_path); empty otherwise
  std::string append_row_location;          // where errors about it point: "job.yml:14: task.append_row_to"
  bool append_row_dataframe_header = false;  // write a DataFrame header once at the top
  std::vector<std::string> output_dirs;     // folders to create before init(): outputs and the append file's parent
  std::vector<std::string> output_folders;  // the declared uri_folder outputs: never listed as input
  std::string log_dir;                      // absolute: --log-dir, else logs/ beside the output
  bool ordered = false;                     // rows in input order (ordered: true or --ordered)

  int max_tasks_per_child = 0;                 // mini-batches a Python process serves before a fresh one; 0 = no limit
  std::uint64_t max_memory_per_child = 0;      // bytes of RSS past which the Python process is replaced; 0 = none
  int quarantine_after_failures = 5;           // failed mini-batches in a row that quarantine a worker; 0 = never

  std::vector<ResolvedSetting> resolved;  // every setting with its origin, in a stable order
};

// The largest job file read: a job is a page of YAML; this bounds the memory and time a wrong path can cost.
constexpr std::uint64_t max_job_file_bytes = 16u << 20;  // 16 MiB

// The most files one mini-batch may hold (mini_batch_size), as for every other count setting.
constexpr std::uint64_t max_mini_batch_size = 2147483647;

// Reads, resolves and validates the job file with the command line's overrides.
// Checks that the input path and the entry script exist, and that the output is neither the job file, the entry
// script nor a file inside task.code. The job file must be a regular file of at most max_job_file_bytes.
// Throws prs::Error.
JobConfig load_job_config(const CliOptions& cli);

// Rank 0 (and --dry-run): the VIRTUAL_ENV prs_mpi was started in is the workers' environment unless python_env
// names one (then VIRTUAL_ENV, if another, is noted in virtual_env_unused). Throws prs::Error as python_env does.
void use_virtual_env(JobConfig& config);

// "ignored (cloud-only): compute (job.yml:74), task.environment (job.yml:105)", or empty when nothing was ignored.
std::string ignored_keys_line(const JobConfig& config);

// Seconds a run() may take before its worker kills its Python process: the timeout plus a grace period (10% of
// it, 2 to 60 s) in which the TimeoutError raised inside run() should have ended the call.
double hard_timeout(const JobConfig& config);

// The staging file of a .h5 output: "<out>.h5.rows", beside it; the row records are committed there and the .h5 is
// built from it at the end.
std::string h5_staging_path(const std::string& h5_file);

// The file the user reads: the .h5 of a .h5 output, else append_row_file.
inline const std::string& output_file(const JobConfig& config) {
  return config.h5_file.empty() ? config.append_row_file : config.h5_file;
}

// The journal's path for a job (it records committed mini-batches; see --resume).
std::string journal_path(const JobConfig& config);

}  // namespace prs
