// Tests of a worker's GPU choice (node_env.hpp): nvidia-smi -L's list, CUDA_VISIBLE_DEVICES, the round-robin.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <string>
#include <vector>

#include "prs/worker/node_env.hpp"

using Strings = std::vector<std::string>;

TEST_CASE("node env: nvidia-smi -L's GPUs and the round-robin", "[node_env]") {
  CHECK(prs::parse_nvidia_smi("GPU 0: Tesla V100-SXM2-16GB (UUID: GPU-aa)\nGPU 1: Tesla V100 (UUID: GPU-bb)\n"
                              "  MIG 1g.5gb Device 0: (UUID: MIG-cc)\nGPU 10: A100 (UUID: GPU-dd)\n") ==
        Strings{"0", "1", "10"});
  CHECK(prs::parse_nvidia_smi("").empty());
  CHECK(prs::parse_nvidia_smi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n")
            .empty());
  CHECK(prs::parse_nvidia_smi("GPU x: odd\nGPU : none\n").empty());
  Strings two = {"0", "1"};
  CHECK(prs::gpu_for_slot(two, 0) == "0");
  CHECK(prs::gpu_for_slot(two, 1) == "1");
  CHECK(prs::gpu_for_slot(two, 2) == "0");
  CHECK(prs::gpu_for_slot({"5", "7", "9"}, 4) == "7");
  CHECK(prs::gpu_for_slot({}, 3).empty());
}

TEST_CASE("node env: CUDA_VISIBLE_DEVICES already set restricts the GPUs", "[node_env]") {
  const char* old = std::getenv("CUDA_VISIBLE_DEVICES");
  std::string saved = old ? old : "";
  setenv("CUDA_VISIBLE_DEVICES", "3,5,,6", 1);
  CHECK(prs::node_gpus() == Strings{"3", "5", "6"});
  setenv("CUDA_VISIBLE_DEVICES", "", 1);
  CHECK(prs::node_gpus().empty());
  if (old) setenv("CUDA_VISIBLE_DEVICES", saved.c_str(), 1);
  else unsetenv("CUDA_VISIBLE_DEVICES");
}
