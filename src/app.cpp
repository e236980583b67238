#include "prs/app.hpp"

#include <filesystem>
#include <iostream>
#include <optional>

#include "prs/append_file.hpp"
#include "prs/config.hpp"
#include "prs/dry_run.hpp"
#include "prs/error.hpp"
#include "prs/file_list.hpp"
#include "prs/job_end.hpp"
#include "prs/job_logs.hpp"
#include "prs/master.hpp"
#include "prs/mpi_comm.hpp"
#include "prs/partition.hpp"
#include "prs/worker.hpp"

namespace fs = std::filesystem;

namespace prs {

namespace {

// What rank 0 prepares before any worker starts Python.
struct MasterSetup {
  JobConfig config;
  FileList files;
  std::optional<Partition> partition;
};

// Refuses to clobber an earlier job's output or journal unless --overwrite, which removes them.
void check_previous_run(const CliOptions& cli, const JobConfig& config) {
  for (const std::string& path : {config.append_row_file, journal_path(config)}) {
    if (path.empty() || !fs::exists(path)) continue;
    if (!cli.overwrite)
      throw Error(config.job_name + ": " + path + " already exists (from an earlier run); use --overwrite to replace it");
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) throw Error(path + ": cannot remove it for --overwrite: " + ec.message());
  }
}

void create_output_dirs(const JobConfig& config) {
  for (const std::string& dir : config.output_dirs) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw Error(dir + ": cannot create the output folder: " + ec.message());
  }
}

MasterSetup prepare_master(const CliOptions& cli) {
  MasterSetup s{load_job_config(cli), {}, std::nullopt};
  s.files = list_input_files(s.config.input_path);
  s.partition.emplace(s.files.size(), s.config.mini_batch_size);
  check_previous_run(cli, s.config);
  create_output_dirs(s.config);
  return s;
}

int run_rank0(MasterSetup& setup, int world_size, AppendFile& output) {
  JobLogs logs(setup.config.log_dir);
  JobOutcome outcome = run_master(setup.config, setup.files, *setup.partition, logs, world_size);
  JobEnd end = end_job_collectively({}, static_cast<int>(outcome.code), output);
  outcome.workers = end.totals;
  if (end.totals.bytes_written != outcome.counts.output_bytes)
    throw Fatal("output check: workers wrote " + std::to_string(end.totals.bytes_written) + " bytes, " +
                std::to_string(outcome.counts.output_bytes) + " were committed");
  logs.write_result(outcome, setup.config.append_row_file);
  const JobCounts& c = outcome.counts;
  if (outcome.code == ExitCode::succeeded) std::cout << "prs_mpi: succeeded: ";
  else std::cout << "prs_mpi: failed: " << outcome.reason << "\nprs_mpi: ";
  std::cout << c.items_succeeded << " of " << c.items << " items succeeded in " << c.batches
            << " mini-batches; results: "
            << (setup.config.append_row_file.empty() ? "not written (summary_only)" : setup.config.append_row_file)
            << "; logs: " << setup.config.log_dir << std::endl;
  return end.exit_code;
}

int run_mpi_job(const CliOptions& cli, const MpiSession& mpi) {
  MasterSetup setup;
  std::string error;
  if (mpi.rank() == 0) {
    try {
      setup = prepare_master(cli);
    } catch (const Error& e) {
      error = e.what();
    }
  }
  error = broadcast_string(error);  // workers start nothing when rank 0 found a problem
  if (!error.empty()) {
    if (mpi.rank() == 0) std::cerr << "prs_mpi: error: " << error << std::endl;
    return static_cast<int>(ExitCode::usage);
  }
  if (mpi.rank() != 0) setup.config = load_job_config(cli);
  NodeInfo node = discover_node();
  if (mpi.rank() == 0 && node.node_count != setup.config.instance_count)
    std::cerr << "prs_mpi: warning: resources.instance_count is " << setup.config.instance_count << " but the job runs on "
              << node.node_count << (node.node_count == 1 ? " node" : " nodes") << "; the MPI ranks decide\n";
  AppendFile output;
  if (setup.config.output_action == OutputAction::append_row) output = AppendFile::open(setup.config.append_row_file);
  if (mpi.rank() == 0) return run_rank0(setup, mpi.size(), output);
  return run_worker(setup.config, node, mpi.rank(), output);
}

}  // namespace

int run_app(const CliOptions& cli, int& argc, char**& argv) {
  if (cli.dry_run) {
    JobConfig config = load_job_config(cli);
    FileList files = list_input_files(config.input_path);
    print_plan(std::cout, config, files, Partition(files.size(), config.mini_batch_size));
    return 0;
  }
  MpiSession mpi(argc, argv);
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
