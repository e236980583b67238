#include "prs/app.hpp"

#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>

#include "prs/config/config.hpp"
#include "prs/error.hpp"
#include "prs/input/dry_run.hpp"
#include "prs/input/file_list.hpp"
#include "prs/input/partition.hpp"
#include "prs/logs/job_logs.hpp"
#include "prs/master/journal.hpp"
#include "prs/master/master.hpp"
#include "prs/master/resume.hpp"
#include "prs/master/signals.hpp"
#include "prs/master/walltime.hpp"
#include "prs/mpi/job_end.hpp"
#include "prs/mpi/mpi_comm.hpp"
#include "prs/output/append_file.hpp"
#include "prs/worker/worker.hpp"

namespace fs = std::filesystem;

namespace prs {

namespace {

// What rank 0 prepares before any worker starts Python.
struct MasterSetup {
  JobConfig config;
  FileList files;
  std::optional<Partition> partition;
  JournalState journal;         // fresh, or what --resume continues from
  std::uint64_t output_size = 0;  // committed bytes already in the output
  bool finished = false;        // --resume of a job that already ended: nothing to do
};

// Why an existing file at the output path is not known to be this job's earlier output, or "" when it is: the
// journal of that run lies in the logs folder and describes this very output.
std::string not_earlier_output(const std::string& journal, const PlanFingerprint& plan) {
  std::error_code ec;
  if (!fs::exists(journal, ec)) return "no journal of an earlier run is at " + journal;
  try {
    if (read_journal(journal).plan.output != plan.output) {
      return "the journal " + journal + " describes another output or other output settings";
    }
  } catch (const Error& e) {
    return "its journal cannot be read: " + std::string(e.what());
  }
  return "";
}

// Whether a path exists (a dangling symlink too); throws when it is a folder, which prs_mpi never removes.
bool exists_as_file(const std::string& path, const std::string& key) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(path, ec);
  if (path.empty() || !fs::exists(status)) return false;
  if (fs::is_directory(status)) {
    throw Error(path + " is a folder, not an output of an earlier run; prs_mpi never removes a folder: move it away "
                "or choose another " + key);
  }
  return true;
}

// Refuses to clobber an earlier job's output or journal unless --overwrite, which removes them. Nothing else is
// ever removed: not a folder, not a file that no journal of an earlier run describes (the user's own).
void check_previous_run(const CliOptions& cli, const JobConfig& config, const PlanFingerprint& plan) {
  const std::string journal = journal_path(config);
  const bool has_output = exists_as_file(config.append_row_file, "task.append_row_to");
  const bool has_journal = exists_as_file(journal, "--log-dir");
  const std::string why = has_output ? not_earlier_output(journal, plan) : "";
  if (!why.empty()) {
    throw Error(config.append_row_location + ": " + config.append_row_file + " already exists and is not an output "
                "of an earlier run of this job: " + why + "; prs_mpi replaces only its own earlier output: move the "
                "file away or write the rows to another file");
  }
  for (const std::string& path : {has_output ? config.append_row_file : "", has_journal ? journal : ""}) {
    if (path.empty()) continue;
    if (!cli.overwrite)
      throw Error(config.job_name + ": " + path +
                  " already exists (from an earlier run); use --resume to continue that run or --overwrite to "
                  "replace it");
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) throw Error(path + ": cannot remove it for --overwrite: " + ec.message());
  }
}

void create_dirs(const JobConfig& config) {
  std::vector<std::string> dirs = config.output_dirs;
  dirs.push_back(config.log_dir);
  for (const std::string& dir : dirs) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(dir + ": cannot create the folder: " + ec.message());
  }
}

bool all_ended(const JournalState& state) {
  for (const auto& end : state.ended)
    if (!end) return false;
  return true;
}

MasterSetup prepare_master(const CliOptions& cli) {
  MasterSetup s;
  s.config = load_job_config(cli);
  s.files = list_input_files(s.config);
  s.partition.emplace(s.files.size(), s.config.mini_batch_size);
  PlanFingerprint plan = fingerprint_plan(s.config, s.files, *s.partition);
  if (cli.resume) {
    ResumePoint point = prepare_resume(s.config, plan, cli.retry_failed);
    s.journal = std::move(point.state);
    s.output_size = point.output_size;
    s.finished = all_ended(s.journal);
    if (point.removed_bytes > 0)
      std::cout << "prs_mpi: removed " << point.removed_bytes << " bytes of rows no mini-batch committed" << std::endl;
  } else {
    check_previous_run(cli, s.config, plan);
    s.journal = fresh_journal(plan, s.partition->batch_count());
  }
  create_dirs(s.config);
  return s;
}

StopSettings stop_settings(const CliOptions& cli, const JobConfig& config) {
  StopSettings stop;
  stop.first_task_creation_timeout = config.first_task_creation_timeout;
  stop.progress_update_timeout = config.progress_update_timeout > 0
                                     ? config.progress_update_timeout
                                     : 3.0 * (config.timeout + config.task_overhead_timeout);
  stop.drain_grace = std::min(config.timeout + 2.0, 60.0);
  stop.drain_before = cli.drain_before ? *cli.drain_before : config.timeout + 30.0;
  stop.lost_after = hard_timeout(config) + 10;    // a worker always answers by then: it kills a stuck run()
  stop.end_patience = hard_timeout(config) + 15;  // shutdown() gets hard_timeout, then its process is killed
  if (auto end = slurm_job_end()) {
    stop.walltime_end = static_cast<double>(*end - std::time(nullptr));
    std::cout << "prs_mpi: the Slurm allocation ends in " << format_duration(*stop.walltime_end)
              << "; dispatching stops " << static_cast<long long>(stop.drain_before) << " s before" << std::endl;
  }
  return stop;
}

void print_ignored_keys(const JobConfig& config, JobLogs& logs) {
  std::string line = ignored_keys_line(config);
  if (line.empty()) return;
  std::cout << "prs_mpi: " << line << std::endl;
  logs.master_note(line);
}

// With ordered: true, a finished job's rows are put in mini-batch order (the journal is read back for the layout).
void order_if_asked(const JobConfig& config) {
  if (!config.ordered || config.append_row_file.empty()) return;
  const std::string journal = journal_path(config);
  order_output(config.append_row_file, journal, read_journal(journal));
}

// A rank that stopped answering cannot join the final collectives (nor MPI_Finalize): the report and the journal
// are written, then rank 0 ends every rank with the job's exit code.
[[noreturn]] void abort_without_lost_ranks(const JobOutcome& outcome, const JobConfig& config, JobLogs& logs) {
  logs.write_result(outcome, config.append_row_file);
  print_outcome(outcome, config.append_row_file, config.log_dir);
  std::cerr << "prs_mpi: " << outcome.lost_ranks.size() << (outcome.lost_ranks.size() == 1 ? " rank" : " ranks")
            << " stopped answering (see " << config.log_dir << "/sys/master_role.txt); ending every rank with "
            << "MPI_Abort and exit code " << static_cast<int>(outcome.code) << std::endl;
  abort_all(static_cast<int>(outcome.code));
}

// An error on rank 0 after the workers started (the journal cannot be written, the logs folder filled up): the
// workers wait for messages, so unwinding into the final collectives would hang. The report says why, and every
// rank is ended at once; the journal names only what is committed, so --resume continues the job.
[[noreturn]] void abort_on_master_error(const std::string& what, const JobConfig& config, JobLogs& logs) {
  std::cerr << "prs_mpi: fatal: rank 0: " << what << "; ending every rank (resumable with --resume)" << std::endl;
  try {
    JobOutcome failed;
    failed.code = ExitCode::job_failed;
    failed.reason = "rank 0: " + what;
    logs.write_result(failed, config.append_row_file);
  } catch (const std::exception&) {  // the logs folder may be what failed
  }
  abort_all(static_cast<int>(ExitCode::job_failed));
}

JobOutcome master_phase(MasterSetup& setup, const CliOptions& cli, int world_size, JobLogs& logs) {
  JournalWriter journal = std::move(setup.journal_writer);
  MasterPlan plan{setup.config, setup.files, *setup.partition, logs, journal, world_size,
                  cli.resume ? &setup.journal : nullptr, setup.output_size, cli.retry_failed,
                  stop_settings(cli, setup.config)};
  return run_master(plan);
}  // the journal is flushed and synced here

// With skip_unreadable_inputs, the paths the listing skipped: the first few on the console, all in the master log.
void print_skipped_inputs(const FileList& files, JobLogs& logs) {
  const std::string line = skipped_paths_line(files);
  if (line.empty()) return;
  std::cerr << "prs_mpi: warning: " << line << std::endl;
  logs.master_note(skipped_paths_line(files, files.skipped().size()));
}

int run_rank0(MasterSetup& setup, const CliOptions& cli, int world_size, AppendFile& output) {
  JobLogs& logs = *setup.logs;
  logs.write_running();
  print_ignored_keys(setup.config, logs);
  print_skipped_inputs(setup.files, logs);
  JobOutcome outcome;
  try {
    outcome = master_phase(setup, cli, world_size, logs);
  } catch (const std::exception& e) {
    abort_on_master_error(e.what(), setup.config, logs);
  }
  if (!outcome.lost_ranks.empty()) abort_without_lost_ranks(outcome, setup.config, logs);
  JobEnd end = end_job_collectively({}, static_cast<int>(outcome.code));
  output.close();  // collective
  outcome.workers = end.totals;
  if (outcome.code == ExitCode::succeeded) order_if_asked(setup);
  logs.write_result(outcome, setup.config.append_row_file);
  print_outcome(outcome, setup.config.append_row_file, setup.config.log_dir);
  return end.exit_code;
}

// Rank 0 prepares (and reports bad input) before any worker starts: 0 go, 2 bad input, 4 nothing to do.
int prepare_on_rank0(const CliOptions& cli, const MpiSession& mpi, MasterSetup& setup) {
  std::string error;
  int status = 0;
  if (mpi.rank() == 0) {
    try {
      setup = prepare_master(cli);
      if (setup.finished) status = 4;
    } catch (const Error& e) {
      error = e.what();
      status = 2;
    }
  }
  status = broadcast_int(status);
  if (mpi.rank() != 0) return status;
  if (status == 2) std::cerr << "prs_mpi: error: " << error << std::endl;
  if (status == 4) {
    order_if_asked(setup.config);
    std::cout << "prs_mpi: nothing to resume: every mini-batch of this job already ended; the output is "
              << (setup.config.append_row_file.empty() ? "not written (summary_only)" : setup.config.append_row_file)
              << std::endl;
  }
  return status;
}

int run_mpi_job(const CliOptions& cli, const MpiSession& mpi) {
  MasterSetup setup;
  int status = prepare_on_rank0(cli, mpi, setup);
  if (status == 2) return static_cast<int>(ExitCode::usage);
  if (status == 4) return static_cast<int>(ExitCode::succeeded);
  if (mpi.rank() != 0) setup.config = load_job_config(cli);
  NodeInfo node = discover_node();
  if (mpi.rank() == 0 && node.node_count != setup.config.instance_count)
    std::cerr << "prs_mpi: warning: resources.instance_count is " << setup.config.instance_count << " but the job runs on "
              << node.node_count << (node.node_count == 1 ? " node" : " nodes") << "; the MPI ranks decide\n";
  AppendFile output;
  if (setup.config.output_action == OutputAction::append_row) output = AppendFile::open(setup.config.append_row_file);
  if (mpi.rank() == 0) return run_rank0(setup, cli, mpi.size(), output);
  return run_worker(setup.config, node, mpi.rank(), output);
}

}  // namespace

int run_app(const CliOptions& cli, int& argc, char**& argv) {
  if (cli.dry_run) {
    JobConfig config = load_job_config(cli);
    FileList files = list_input_files(config);
    print_plan(std::cout, config, files, Partition(files.size(), config.mini_batch_size));
    return 0;
  }
  install_drain_handlers();  // as early as can be: a drain signal during start-up must not kill a rank
  MpiSession mpi(argc, argv);
  install_drain_handlers();  // again after MPI_Init, which may set handlers of its own; before Python
  if (mpi.size() < 2) {
    std::cerr << "prs_mpi: error: a job needs a master and at least one worker: start it under MPI with 2 or more "
                 "ranks (mpirun -np 4 prs_mpi "
              << cli.job_file << "), or check it with --dry-run" << std::endl;
    return static_cast<int>(ExitCode::usage);
  }
  try {
    return run_mpi_job(cli, mpi);
  } catch (const std::exception& e) {
    std::cerr << "prs_mpi: fatal: rank " << mpi.rank() << ": " << e.what() << std::endl;
    mpi.abort(1);
  }
}

}  // namespace prs
