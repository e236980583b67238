#pragma once
// The environment a worker's Python runs in.
#include <string>
#include <vector>

#include "prs/config/config.hpp"
#include "prs/mpi/mpi_comm.hpp"

namespace prs {

// An environment as NAME=VALUE entries in their order. set() and unset() change it as setenv and unsetenv change
// the process's: a new name goes last, a name already there keeps its place.
class Environment {
 public:
  // The process's environment now.
  static Environment current();
  // These entries, in order.
  explicit Environment(std::vector<std::string> entries) : entries_(std::move(entries)) {}
  // The value of name; nullptr when it is not set.
  const char* get(const std::string& name) const;
  // setenv(name, value, overwrite).
  void set(const std::string& name, const std::string& value, bool overwrite = true);
  // unsetenv(name).
  void unset(const std::string& name);
  // Makes the process's environment these entries, in this order.
  void make_current() const;
  // The entries, in order.
  const std::vector<std::string>& entries() const { return entries_; }

 private:
  std::vector<std::string> entries_;
};

// What the job alone gives the worker's environment, applied to env: the python_env's activation (VIRTUAL_ENV,
// its bin/ first on PATH, no PYTHONHOME), environment_variables, then PYTHONDONTWRITEBYTECODE=1 when the code
// folder lies inside the input folder (see node_env.cpp).
void apply_job_environment(const JobConfig& config, Environment& env);

// Number of workers that take work on this node: all of them, or max_concurrency_per_instance when set.
int active_workers_on_node(const JobConfig& config, const NodeInfo& node);

// The variables a worker gets from its node, applied to env: OMP/OPENBLAS/MKL/NUMEXPR thread counts = cores of the
// node / its active workers (unless env sets them: the user did, in the YAML or the environment) and, on a node
// with GPUs, CUDA_VISIBLE_DEVICES (gpu_for_slot of its value, else of node_gpus()).
void apply_worker_resources(const JobConfig& config, const NodeInfo& node, Environment& env);

// Applies apply_job_environment and apply_worker_resources to the process's environment, then sets PRS_RANK,
// PRS_NODE, PRS_LOCAL_RANK, PRS_LOG_DIR, PRS_PROCESS_NAME, PRS_LOGGING_LEVEL and AZUREML_BI_OUTPUT_PATH.
void set_worker_environment(const JobConfig& config, const NodeInfo& node, int rank);

// The GPU indices of `nvidia-smi -L` output ("GPU 0: ... (UUID: ...)" lines).
std::vector<std::string> parse_nvidia_smi(const std::string& text);

// The node's GPUs as CUDA_VISIBLE_DEVICES names them: its current value split at commas when set (it already
// restricts them), else the indices of `nvidia-smi -L`, else those of /proc/driver/nvidia/gpus (looked up once per
// process); empty without.
std::vector<std::string> node_gpus();

// The indices of `nvidia-smi -L` (run only where the shell would find it on PATH), else those of
// /proc/driver/nvidia/gpus; looked up anew at each call (node_gpus keeps the first answer).
std::vector<std::string> looked_up_gpus();

// The GPU of the worker in slot `slot` of its node: round-robin over gpus; "" when there are none.
std::string gpu_for_slot(const std::vector<std::string>& gpus, int slot);

}  // namespace prs
