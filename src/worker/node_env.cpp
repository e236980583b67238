#include "prs/worker/node_env.hpp"

#include <cstdlib>
#include <filesystem>
#include <thread>

namespace prs {

int active_workers_on_node(const JobConfig& config, const NodeInfo& node) {
  int cap = config.max_concurrency_per_instance;
  return cap > 0 && cap < node.workers_on_node ? cap : node.workers_on_node;
}

void set_worker_environment(const JobConfig& config, const NodeInfo& node, int rank) {
  for (const auto& [name, value] : config.environment_variables) setenv(name.c_str(), value.c_str(), 1);
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  int workers = std::max(1, active_workers_on_node(config, node));
  std::string threads = std::to_string(std::max(1u, cores / static_cast<unsigned>(workers)));
  for (const char* name : {"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS"})
    setenv(name, threads.c_str(), 0);  // 0: what the user set (YAML or environment) stays
  setenv("PRS_RANK", std::to_string(rank).c_str(), 1);
  setenv("PRS_NODE", node.host.c_str(), 1);
  if (!config.append_row_file.empty()) {
    auto dir = std::filesystem::path(config.append_row_file).parent_path();
    setenv("AZUREML_BI_OUTPUT_PATH", dir.c_str(), 1);
  }
}

}  // namespace prs
