#include "prs/worker/worker.hpp"

#include <signal.h>

#include <iostream>
#include <optional>
#include <string>

#include "prs/error.hpp"
#include "prs/input/index_pass.hpp"
#include "prs/input/mltable.hpp"
#include "prs/mpi/job_end.hpp"
#include "prs/worker/node_env.hpp"
#include "prs/worker/prestart.hpp"
#include "worker_loop.hpp"

namespace prs {

using worker_detail::Worker;

namespace {

RunnerSettings runner_settings(const JobConfig& config) {
  RunnerSettings s;
  s.entry_script = config.entry_script;
  s.code_dir = config.code_dir;
  s.argv.push_back(config.entry_script);
  s.argv.insert(s.argv.end(), config.program_arguments.begin(), config.program_arguments.end());
  s.timeout_seconds = config.timeout;
  s.format_rows = config.output_action == OutputAction::append_row;
  s.dataframe_header = config.append_row_dataframe_header && config.h5_file.empty();
  s.row_records = !config.h5_file.empty();
  s.module_dir = PRS_PYTHON_MODULES;
  s.logging_level = config.logging_level;
  s.python = config.python_env.python;
  if (config.input_kind == InputKind::mltable) s.table = read_mltable(config.input_path, false).reader;
  return s;
}

// The worker's log files; without them (a logs folder it cannot write) the script's output stays on the console.
std::optional<ProcessLogs> open_process_logs(const JobConfig& config, const NodeInfo& node, int rank) {
  try {
    return ProcessLogs(process_log_paths(config.log_dir, node.host, rank));
  } catch (const Error& e) {
    std::cerr << "prs_mpi: warning: rank " << rank << " (" << node.host << "): " << e.what()
              << "; the entry script's output goes to the console\n";
    return std::nullopt;
  }
}

// Keeps the prestarted process if it fits the job as this worker set it up (and returns what the sys log says of
// it), else ends it: the worker then starts a fresh one, as without it.
std::string keep_if_fits(std::optional<PrestartedPython>& prestarted, const SupervisorSettings& s, bool idle) {
  if (!prestarted) return "";
  const std::string why = idle ? "an idle worker runs no Python" :
      prestart_mismatch(*prestarted, s.runner.python, Environment::current().entries(), !s.stdout_file.empty());
  if (why.empty()) return "adopted the Python process started before MPI_Init (pid " +
                          std::to_string(prestarted->process.pid()) + ")";
  end_prestarted(prestarted);
  return "the Python process started before MPI_Init was ended (" + why + ")" +
         (idle ? "" : "; a fresh one starts");
}

}  // namespace

int run_worker(const JobConfig& config, const NodeInfo& node, int rank, std::optional<PrestartedPython> prestarted) {
  signal(SIGPIPE, SIG_IGN);  // a Python process that died is seen by waitpid, not by a signal to this rank
  keep_freed_buffers();      // the rows of each mini-batch pass through here in buffers of MB
  bool idle = node.worker_slot >= active_workers_on_node(config, node);
  SupervisorSettings s;
  s.where = "rank " + std::to_string(rank) + " (" + node.host + ")";
  std::optional<ProcessLogs> logs;
  if (!idle) {
    logs = open_process_logs(config, node, rank);
    if (logs) {
      s.stdout_file = logs->paths().stdout_file;
      s.stderr_file = logs->paths().stderr_file;
      s.error_file = logs->paths().error_file;
    }
    set_worker_environment(config, node, rank);
    s.exe = this_executable();
    s.runner = runner_settings(config);
    s.hard_timeout = hard_timeout(config);
    s.shutdown_patience = hard_timeout(config);
    s.max_tasks = config.max_tasks_per_child;
    s.max_memory = config.max_memory_per_child;
  }
  const std::string perf = config.log_dir + "/sys/perf/" + node.host + "/" + process_name(rank) + ".csv";
  ResourceMonitor monitor(perf, config.log_dir, rank, idle ? 0 : config.resource_monitor_interval);
  // Opened by this rank alone at its first commit (append_file.hpp).
  AppendFile output(config.output_action == OutputAction::append_row ? config.append_row_file : "");
  const std::string note = keep_if_fits(prestarted, s, idle);
  {
    Worker worker(std::move(s), output, node.host, rank, idle, std::move(logs),
                  log_level_number(config.logging_level), std::move(monitor));
    worker.start(std::move(prestarted), note);
    run_index_pass(std::nullopt, nullptr);  // rank 0's plan may need this rank to scan a share of the table
    if (broadcast_verdict(StartVerdict::go) == StartVerdict::go) return worker.run();
    worker.end_before_start();
  }  // its log files are closed: rank 0 may remove the folders it created for this job
  return end_job_collectively({}, 0).exit_code;
}

}  // namespace prs
