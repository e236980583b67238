#pragma once
// The environment a worker's Python runs in.
#include <string>
#include <vector>

#include "prs/config/config.hpp"
#include "prs/mpi/mpi_comm.hpp"

namespace prs {

// Number of workers that take work on this node: all of them, or max_concurrency_per_instance when set.
int active_workers_on_node(const JobConfig& config, const NodeInfo& node);

// Sets environment_variables, then OMP/OPENBLAS/MKL/NUMEXPR thread counts = cores of the node / its active workers
// (unless the user set them, in the YAML or the environment), PRS_RANK, PRS_NODE, PRS_LOCAL_RANK, PRS_LOG_DIR,
// PRS_PROCESS_NAME, PRS_LOGGING_LEVEL, AZUREML_BI_OUTPUT_PATH and, on a node with GPUs, CUDA_VISIBLE_DEVICES.
void set_worker_environment(const JobConfig& config, const NodeInfo& node, int rank);

// The GPU indices of `nvidia-smi -L` output ("GPU 0: ... (UUID: ...)" lines).
std::vector<std::string> parse_nvidia_smi(const std::string& text);

// The node's GPUs as CUDA_VISIBLE_DEVICES names them: its current value split at commas when set (it already
// restricts them), else the indices of `nvidia-smi -L`, else those of /proc/driver/nvidia/gpus; empty without.
std::vector<std::string> node_gpus();

// The GPU of the worker in slot `slot` of its node: round-robin over gpus; "" when there are none.
std::string gpu_for_slot(const std::vector<std::string>& gpus, int slot);

}  // namespace prs
