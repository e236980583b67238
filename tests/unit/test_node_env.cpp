// Tests of a worker's GPU choice (node_env.hpp): nvidia-smi -L's list, CUDA_VISIBLE_DEVICES, the round-robin.
#include <catch2/catch.hpp>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
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

namespace {

// The environment variable `name` set to `value` (unset for nullptr) for one scope, then restored.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    if (old != nullptr) old_ = old;
    had_ = old != nullptr;
    if (value != nullptr) setenv(name, value, 1);
    else unsetenv(name);
  }
  ~ScopedEnv() {
    if (had_) setenv(name_.c_str(), old_.c_str(), 1);
    else unsetenv(name_.c_str());
  }

 private:
  std::string name_, old_;
  bool had_ = false;
};

// A folder holding an `nvidia-smi` that lists two GPUs (executable or not), removed at the end of the scope.
struct FakeNvidiaSmi {
  explicit FakeNvidiaSmi(bool executable) {
    char tmpl[] = "/tmp/prs_nvsmi_XXXXXX";
    dir = mkdtemp(tmpl);
    const std::string file = dir + "/nvidia-smi";
    std::ofstream(file) << "#!/bin/sh\necho 'GPU 0: Fake (UUID: GPU-a)'\necho 'GPU 1: Fake (UUID: GPU-b)'\n";
    chmod(file.c_str(), executable ? 0755 : 0644);
  }
  ~FakeNvidiaSmi() { std::filesystem::remove_all(dir); }
  std::string dir;
};

}  // namespace

TEST_CASE("node env: nvidia-smi is run where the shell would find it on PATH, and only there", "[node_env]") {
  ScopedEnv no_cuda("CUDA_VISIBLE_DEVICES", nullptr);
  const Strings from_proc = [] {
    ScopedEnv none("PATH", "/nonexistent");
    return prs::looked_up_gpus();  // /proc/driver/nvidia/gpus, empty on a node without them
  }();
  FakeNvidiaSmi fake(true);
  {
    ScopedEnv path("PATH", ("/nonexistent:" + fake.dir + ":/bin").c_str());
    CHECK(prs::looked_up_gpus() == Strings{"0", "1"});
  }
  {
    ScopedEnv path("PATH", ":/nonexistent");  // an empty entry: the current folder
    const auto here = std::filesystem::current_path();
    std::filesystem::current_path(fake.dir);
    const Strings gpus = prs::looked_up_gpus();
    std::filesystem::current_path(here);
    CHECK(gpus == Strings{"0", "1"});
  }
  FakeNvidiaSmi not_executable(false);
  {
    ScopedEnv path("PATH", (not_executable.dir + ":/nonexistent").c_str());
    CHECK(prs::looked_up_gpus() == from_proc);
  }
}
