#pragma once
// The environment a worker's Python runs in.
#include "prs/config/config.hpp"
#include "prs/mpi/mpi_comm.hpp"

namespace prs {

// Number of workers that take work on this node: all of them, or max_concurrency_per_instance when set.
int active_workers_on_node(const JobConfig& config, const NodeInfo& node);

// Sets environment_variables, then OMP/OPENBLAS/MKL/NUMEXPR thread counts = cores of the node / its active workers
// (unless the user set them, in the YAML or the environment), and PRS_RANK, PRS_NODE, AZUREML_BI_OUTPUT_PATH.
void set_worker_environment(const JobConfig& config, const NodeInfo& node, int rank);

}  // namespace prs
