#include "prs/app.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>

#include "prs/config/config.hpp"
#include "prs/error.hpp"
#include "prs/index_pass.hpp"
#include "prs/input/dry_run.hpp"
#include "prs/input/file_list.hpp"
#include "prs/input/input_plan.hpp"
#include "prs/input/mltable.hpp"
#include "prs/input/partition.hpp"
#include "prs/input/table_plan.hpp"
#include "prs/logs/job_logs.hpp"
#include "prs/master/job_lock.hpp"
#include "prs/master/journal.hpp"
#include "prs/master/master.hpp"
#include "prs/master/resume.hpp"
#include "prs/master/signals.hpp"
#include "prs/master/status.hpp"
#include "prs/master/walltime.hpp"
#include "prs/mpi/job_end.hpp"
#include "prs/mpi/mpi_comm.hpp"
#include "prs/output/append_file.hpp"
#include "prs/worker/worker.hpp"

namespace fs = std::filesystem;

namespace prs {

namespace {

// What rank 0 prepares before any worker starts Python: every check and every file that can fail is done here, so
// that a failure is one line and exit 2 for every rank, never an error while workers wait.
struct MasterSetup : InputPlan {  // the input: files and partition, or a table's cuts (see input_plan.hpp)
  JobConfig config;
  JournalState journal;         // fresh, or what --resume continues from
  std::uint64_t output_size = 0;  // committed bytes already in the output
  bool finished = false;        // --resume of a job that already ended: nothing to do
  JobLock lock;                 // one job per output and logs folder: held until rank 0 ends
  std::optional<JobLogs> logs;  // the logs folder, open (unless finished)
  JournalWriter journal_writer;  // the journal, created (unless finished)
};

// Why an existing file at the output path is not known to be this job's earlier output, or "" when it is: the
// journal of that run lies in the logs folder and describes this very output.
std::string not_earlier_output(const std::string& journal, const PlanFingerprint& plan) {
  std::error_code ec;
  if (!fs::exists(journal, ec)) return "no journal of an earlier run is at " + journal;
  try {
    if (read_journal_header(journal).plan.output != plan.output) {
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

// A fresh run creates its output itself, exclusively: of two jobs that passed the check above, one is refused.
void create_fresh_output(const JobConfig& config) {
  const std::string& path = config.append_row_file;
  if (path.empty()) return;  // summary_only
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST)
    throw Error(config.job_name + ": " + path +
                " already exists (another job has just created it); use --resume to continue that run or "
                "--overwrite to replace it");
  if (fd < 0) throw Error(path + ": cannot create the output: " + std::strerror(errno));
  ::close(fd);
}

// "prs_mpi: the output lost the rows of 12 committed mini-batches (...); they run again"
void print_resume_repairs(const ResumePoint& point) {
  if (point.lost_batches > 0)
    std::cout << "prs_mpi: the output lost the rows of " << point.lost_batches << " committed mini-batch"
              << (point.lost_batches == 1 ? "" : "es") << " (missing or changed since they were written); "
              << (point.lost_batches == 1 ? "it runs" : "they run") << " again" << std::endl;
  if (point.removed_bytes > 0)
    std::cout << "prs_mpi: removed " << point.removed_bytes << " bytes of rows no mini-batch committed" << std::endl;
}

// For sys/master_role.txt: "resume: checked 1073741824 bytes of committed rows against their checksums in 0.210 s;
// 0 mini-batches lost".
std::string check_note(const ResumePoint& point) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", point.check_seconds);
  return "resume: checked " + std::to_string(point.checked_bytes) +
         " bytes of committed rows against their checksums in " + seconds + " s; " +
         std::to_string(point.lost_batches) + " mini-batches lost";
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

// Once the plan is final (after the index pass): the partition of a table and the plan's fingerprint.
PlanFingerprint finish_plan(MasterSetup& s) {
  if (s.table) {
    s.partition.emplace(s.table->batch_count(), 1);
    return fingerprint_plan(s.config, *s.mltable, *s.table);
  }
  return fingerprint_plan(s.config, s.files, *s.partition);
}

// Order matters: refuse an earlier run before writing anything, create the folders, take the lock, and only under
// it touch the output and the journal (resume, --overwrite, the exclusive create).
void prepare_master(const CliOptions& cli, MasterSetup& s) {
  PlanFingerprint plan = finish_plan(s);
  if (cli.resume) check_resumable(s.config, plan);  // these refusals write nothing
  else if (!cli.overwrite) check_previous_run(cli, s.config, plan);
  create_dirs(s.config);
  s.lock = JobLock::take(job_lock_path(s.config.log_dir), s.config.job_name);
  ResumePoint point;
  if (cli.resume) {
    point = prepare_resume(s.config, plan, s.partition->batch_count(), cli.retry_failed);
    s.journal = std::move(point.state);
    s.output_size = point.output_size;
    s.finished = all_ended(s.journal);
    print_resume_repairs(point);
  } else {
    check_previous_run(cli, s.config, plan);  // again, under the lock
    create_fresh_output(s.config);
    s.journal = fresh_journal(plan, s.partition->batch_count());
  }
  if (s.finished) return;
  s.logs.emplace(s.config.log_dir, cli.resume);
  if (cli.resume) s.logs->master_note(check_note(point));
  s.journal_writer = JournalWriter::create(journal_path(s.config), s.journal);
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
void order_if_asked(const MasterSetup& setup) {
  const JobConfig& config = setup.config;
  if (!config.ordered || config.append_row_file.empty()) return;
  const std::string journal = journal_path(config);
  order_output(config.append_row_file, journal, read_journal(journal, setup.partition->batch_count()));
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

// --trace: written before the end of the job; a trace that cannot be written costs a warning, not the job.
void write_trace(const TraceRecorder& trace) {
  if (!trace.on()) return;
  try {
    trace.write();
    std::cout << "prs_mpi: trace: " << trace.path() << std::endl;
  } catch (const Error& e) {
    std::cerr << "prs_mpi: warning: --trace: " << e.what() << std::endl;
  }
}

JobOutcome master_phase(MasterSetup& setup, const CliOptions& cli, int world_size, JobLogs& logs) {
  JournalWriter journal = std::move(setup.journal_writer);
  TraceRecorder trace(cli.trace ? fs::absolute(*cli.trace).string() : "");
  MasterPlan plan{setup.config, setup.files, *setup.partition, logs, journal, world_size,
                  cli.resume ? &setup.journal : nullptr, setup.output_size, cli.retry_failed,
                  stop_settings(cli, setup.config), resolve_progress_mode(parse_progress_mode(cli.progress)),
                  static_cast<double>(cli.progress_every), &trace};
  if (setup.table) {
    plan.table = &*setup.table;
    plan.mltable = &*setup.mltable;
  }
  JobOutcome outcome = run_master(plan);
  write_trace(trace);
  return outcome;
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
  JobOutcome outcome;
  try {
    logs.describe(setup.config);
    logs.write_running();
    print_ignored_keys(setup.config, logs);
    print_skipped_inputs(setup.files, logs);
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

// One step of rank 0's preparation, its outcome told to every rank: 0 go, 1 fatal, 2 bad input, 4 nothing to do.
// No worker has started, so even a fatal error ends every rank in order.
template <typename Step>
int rank0_step(const MpiSession& mpi, const MasterSetup& setup, Step step) {
  std::string error;
  int status = 0;
  if (mpi.rank() == 0) {
    try {
      status = step();
    } catch (const Error& e) {
      error = e.what();
      status = 2;
    } catch (const fs::filesystem_error& e) {  // a folder we may not look into: the user's to fix
      error = e.what();
      status = 2;
    } catch (const std::exception& e) {
      error = e.what();
      status = 1;
    }
  }
  status = broadcast_int(status);
  if (mpi.rank() != 0) return status;
  if (status == 1) std::cerr << "prs_mpi: fatal: " << error << std::endl;
  if (status == 2) std::cerr << "prs_mpi: error: " << error << std::endl;
  if (status == 4) {
    order_if_asked(setup);
    std::cout << "prs_mpi: nothing to resume: every mini-batch of this job already ended; the output is "
              << (setup.config.append_row_file.empty() ? "not written (summary_only)" : setup.config.append_row_file)
              << std::endl;
  }
  return status;
}

// Rank 0 prepares (and reports bad input) before any worker starts: it plans, every rank takes part in the index
// pass when the plan needs one, then rank 0 checks the output, resumes or starts the journal.
int prepare_on_rank0(const CliOptions& cli, const MpiSession& mpi, MasterSetup& setup) {
  int status = rank0_step(mpi, setup, [&] {
    setup.config = load_job_config(cli);
    static_cast<InputPlan&>(setup) = plan_input(setup.config);
    return 0;
  });
  if (status != 0) return status;
  const bool root = mpi.rank() == 0;
  const std::string error = run_index_pass(root ? setup.index : std::nullopt, root && setup.table ? &*setup.table : nullptr);
  return rank0_step(mpi, setup, [&] {
    if (!error.empty()) throw Error(error);
    prepare_master(cli, setup);
    return setup.finished ? 4 : 0;
  });
}

int run_mpi_job(const CliOptions& cli, const MpiSession& mpi) {
  MasterSetup setup;
  int status = prepare_on_rank0(cli, mpi, setup);
  if (status == 1) return static_cast<int>(ExitCode::job_failed);
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
  if (cli.status) {
    print_status(cli, std::cout);
    return 0;
  }
  if (cli.dry_run) {
    MasterSetup s;
    s.config = load_job_config(cli);
    static_cast<InputPlan&>(s) = plan_input(s.config);
    if (s.index) run_index_serial(*s.index, *s.table);
    finish_plan(s);
    if (s.table) print_table_plan(std::cout, s.config, *s.mltable, *s.table);
    else print_plan(std::cout, s.config, s.files, *s.partition, s.file_keys);
    return 0;
  }
  install_drain_handlers();  // as early as can be: a drain signal during start-up must not kill a rank
  MpiSession mpi(argc, argv);
  install_drain_handlers();  // again after MPI_Init, which may set handlers of its own; before Python
  if (mpi.rank() == 0) {
    std::string hint = slow_init_hint(mpi.init_seconds());
    if (!hint.empty()) std::cout << hint << std::endl;  // a note, not an error: stderr keeps the one error line
  }
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
