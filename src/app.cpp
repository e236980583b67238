#include "prs/app.hpp"

#include "app_setup.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <exception>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>

#include "prs/config/config.hpp"
#include "prs/error.hpp"
#include "prs/input/dry_run.hpp"
#include "prs/input/file_list.hpp"
#include "prs/input/index_pass.hpp"
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
#include "prs/output/h5_build.hpp"
#include "prs/worker/node_env.hpp"
#include "prs/worker/prestart.hpp"
#include "prs/worker/worker.hpp"

namespace fs = std::filesystem;

namespace prs {

namespace {

using namespace app_detail;

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

// "prs_mpi: Python environment: /v (python_env, job.yml:5), Python 3.11.2, without system site packages".
void print_python_env(const JobConfig& config, JobLogs& logs) {
  if (config.python_env.prefix.empty()) return;
  std::string line = "Python environment: " + describe_python_env(config.python_env) + "; interpreter " +
                     config.python_env.python;
  if (!config.virtual_env_unused.empty())
    line += " (VIRTUAL_ENV=" + config.virtual_env_unused + " is not used: python_env wins)";
  std::cout << "prs_mpi: " << line << std::endl;
  logs.master_note(line);
}

void print_ignored_keys(const JobConfig& config, JobLogs& logs) {
  std::string line = ignored_keys_line(config);
  if (line.empty()) return;
  std::cout << "prs_mpi: " << line << std::endl;
  logs.master_note(line);
}

// With a .h5 output, builds it from its staging file: collective; rank 0 decides (build) and reads the journal.
// Returns the build's error ("" when built or not asked).
std::string build_h5_if_asked(const JobConfig& config, bool build, std::uint64_t batch_count) {
  if (config.h5_file.empty() || broadcast_int(build ? 1 : 0) == 0) return "";
  std::vector<StagedRecord> records;
  std::string error;
  if (world_rank() == 0) {
    try {
      records = h5_staged_records(read_journal(journal_path(config), batch_count), config.ordered);
    } catch (const Error& e) {
      error = e.what();
    }
  }
  if (!broadcast_string(error).empty()) return error;
  H5BuildResult built = build_h5_output(config.h5_file, config.append_row_file, records);
  if (built.built && world_rank() == 0)
    std::cout << "prs_mpi: built " << config.h5_file << ": " << built.rows << " rows in /rows" << std::endl;
  return built.error;
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
  if (setup.feed) plan.listing = &*setup.feed;
  if (setup.clock != nullptr) {
    setup.clock->record(trace);
    trace.shift(setup.clock->now());  // the master's clock starts now
  }
  JobOutcome outcome = run_master(plan);
  setup.feed.reset();
  setup.stream.reset();  // a listing the job did not wait for (it stopped early) ends here
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

int run_rank0(MasterSetup& setup, const CliOptions& cli, int world_size) {
  JobLogs& logs = *setup.logs;
  JobOutcome outcome;
  try {
    logs.describe(setup.config);
    logs.write_running();
    print_ignored_keys(setup.config, logs);
    print_python_env(setup.config, logs);
    print_skipped_inputs(setup.files, logs);
    outcome = master_phase(setup, cli, world_size, logs);
  } catch (const std::exception& e) {
    abort_on_master_error(e.what(), setup.config, logs);
  }
  if (!outcome.lost_ranks.empty()) abort_without_lost_ranks(outcome, setup.config, logs);
  JobEnd end = end_job_collectively({}, static_cast<int>(outcome.code));  // every worker closed the output
  outcome.workers = end.totals;
  const std::string gone = output_gone(setup);
  if (!gone.empty()) {
    outcome.code = ExitCode::job_failed;
    outcome.reason = (outcome.reason.empty() ? "" : outcome.reason + "; ") + gone;
    std::cerr << "prs_mpi: error: " << gone << std::endl;
  }
  if (outcome.code == ExitCode::succeeded) order_if_asked(setup);
  const bool build = gone.empty() && (outcome.code == ExitCode::succeeded || outcome.code == ExitCode::job_failed);
  std::string h5_error = build_h5_if_asked(setup.config, build, setup.partition->batch_count());
  if (!h5_error.empty()) {
    outcome.code = ExitCode::job_failed;
    outcome.reason = (outcome.reason.empty() ? "" : outcome.reason + "; ") + "the .h5 output: " + h5_error;
    std::cerr << "prs_mpi: error: " << h5_error << std::endl;
  }
  logs.write_result(outcome, output_file(setup.config));
  print_outcome(outcome, output_file(setup.config), setup.config.log_dir);
  return h5_error.empty() && gone.empty() ? end.exit_code : static_cast<int>(ExitCode::job_failed);
}

// One step of rank 0's preparation: go (or nothing to do), else the one line on stderr, printed at once (the
// workers may still be ending their Python processes), and why the job ends.
StartVerdict try_step(const std::function<void()>& step, const MasterSetup& setup) {
  try {
    step();
    return setup.finished ? StartVerdict::nothing_to_do : StartVerdict::go;
  } catch (const Error& e) {
    std::cerr << "prs_mpi: error: " << e.what() << std::endl;
  } catch (const fs::filesystem_error& e) {  // a folder we may not look into: the user's to fix
    std::cerr << "prs_mpi: error: " << e.what() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "prs_mpi: fatal: " << e.what() << std::endl;
    return StartVerdict::fatal;
  }
  return StartVerdict::bad_input;
}

int exit_code_of(StartVerdict verdict) {
  switch (verdict) {
    case StartVerdict::fatal: return static_cast<int>(ExitCode::job_failed);
    case StartVerdict::bad_input: return static_cast<int>(ExitCode::usage);
    default: return static_cast<int>(ExitCode::succeeded);
  }
}

// Rank 0 while the workers start their Python processes: lists and plans the input, then runs the master, or ends
// the job before its first mini-batch on every rank in order (the final collectives come once every worker has
// ended its Python process; only then are the folders this job created removed).
int plan_and_run_rank0(const CliOptions& cli, int world_size, MasterSetup& setup) {
  StartVerdict verdict = try_step([&] { plan_while_workers_start(cli, setup); }, setup);
  const bool planned = verdict == StartVerdict::go;  // every rank takes part in the index pass, which may be empty
  const std::string index_error = run_index_pass(planned ? setup.index : std::nullopt,
                                                 planned && setup.table ? &*setup.table : nullptr);
  if (planned) verdict = try_step([&] {
      if (!index_error.empty()) throw Error(index_error);
      finish_start(cli, setup);
    }, setup);
  broadcast_verdict(verdict);
  if (verdict == StartVerdict::go) return run_rank0(setup, cli, world_size);  // the workers open the output
  const int code = exit_code_of(verdict);
  end_job_collectively({}, code);
  if (verdict != StartVerdict::nothing_to_do) {
    build_h5_if_asked(setup.config, false, 0);  // collective: the workers ask too
    remove_created_folders(setup);
    return code;
  }
  order_if_asked(setup);
  const std::string error = build_h5_if_asked(setup.config, true, setup.partition->batch_count());  // a .h5 again
  if (!error.empty()) {
    std::cerr << "prs_mpi: error: " << error << std::endl;
    return static_cast<int>(ExitCode::job_failed);
  }
  std::cout << "prs_mpi: nothing to resume: every mini-batch of this job already ended; the output is "
            << (setup.config.append_row_file.empty() ? "not written (summary_only)" : output_file(setup.config))
            << std::endl;
  return code;
}

// What a worker rank (by its launcher's variables) does before MPI_Init: it reads the job file, which it needs
// anyway, and starts its Python process (prestart.hpp), so that the interpreter starts while MPI does.
struct EarlyStart {
  std::optional<JobConfig> config;       // the job file, read
  std::exception_ptr config_error;       // or why it could not be
  std::optional<PrestartedPython> python;  // the prestarted process
};

EarlyStart start_early(const CliOptions& cli) {
  EarlyStart early;
  const std::optional<int> rank = launcher_rank(Environment::current());
  if (!rank || *rank == 0) return early;
  try {
    early.config = load_job_config(cli);
  } catch (...) {
    early.config_error = std::current_exception();  // as after MPI_Init: said only if rank 0 did not
    return early;
  }
  early.python = prestart_python(*early.config);
  return early;
}

// Rank 0 checks what can fail fast while the workers read the job file (or have read it before MPI_Init); then the
// workers start Python (or adopt the process they prestarted) while rank 0 lists the input (app_setup.hpp). A job
// file a worker cannot read although rank 0 could ends the job (fatal).
int run_mpi_job(const CliOptions& cli, const MpiSession& mpi, StartupClock& clock, EarlyStart& early) {
  const NodeInfo node = discover_node();  // collective
  MasterSetup setup;
  StartVerdict verdict = StartVerdict::go;
  std::exception_ptr config_error;
  if (mpi.rank() == 0) {
    setup.clock = &clock;
    clock.end("node discovery");
    verdict = try_step([&] { check_before_workers(cli, setup); }, setup);
  } else if (early.config) {
    setup.config = std::move(*early.config);
  } else if (early.config_error) {
    config_error = early.config_error;
  } else {
    try {
      setup.config = load_job_config(cli);
    } catch (...) {
      config_error = std::current_exception();  // rank 0 reports a bad job file; this one only if rank 0 did not
    }
  }
  verdict = broadcast_verdict(verdict);
  if (verdict != StartVerdict::go) {
    end_prestarted(early.python);  // it ran no user code and wrote nothing
    return exit_code_of(verdict);  // no worker started anything
  }
  if (config_error) std::rethrow_exception(config_error);
  // rank 0's: VIRTUAL_ENV is the environment prs_mpi was started in, which remote ranks need not have.
  setup.config.python_env = decode_python_env(broadcast_string(encode_python_env(setup.config.python_env)));
  if (mpi.rank() != 0) {
    const int code = run_worker(setup.config, node, mpi.rank(), std::move(early.python));
    // rank 0 decides whether a .h5 is built (broadcast); every rank takes part
    return build_h5_if_asked(setup.config, true, 0).empty() ? code : static_cast<int>(ExitCode::job_failed);
  }
  if (node.node_count != setup.config.instance_count)
    std::cerr << "prs_mpi: warning: resources.instance_count is " << setup.config.instance_count << " but the job runs on "
              << node.node_count << (node.node_count == 1 ? " node" : " nodes") << "; the MPI ranks decide\n";
  return plan_and_run_rank0(cli, mpi.size(), setup);
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
    use_virtual_env(s.config);
    plan_only(s);
    if (s.table) print_table_plan(std::cout, s.config, *s.mltable, *s.table);
    else print_plan(std::cout, s.config, s.files, *s.partition, s.file_keys);
    return 0;
  }
  install_drain_handlers();  // as early as can be: a drain signal during start-up must not kill a rank
  StartupClock clock;
  EarlyStart early = start_early(cli);  // a worker's Python starts while MPI does
  MpiSession mpi(argc, argv);
  clock.end("MPI_Init");
  if (mpi.rank() == 0 || mpi.size() < 2) end_prestarted(early.python);  // the launcher's variables misled it
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
    return run_mpi_job(cli, mpi, clock, early);
  } catch (const std::exception& e) {
    std::cerr << "prs_mpi: fatal: rank " << mpi.rank() << ": " << e.what() << std::endl;
    mpi.abort(1);
  }
}

}  // namespace prs
