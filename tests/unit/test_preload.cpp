// Imports ahead (preload.hpp, prestart.hpp): which imports a worker guesses before MPI_Init, where they are
// installed, the node it predicts, and which environment differences make an adopted process start afresh.
#include <catch2/catch.hpp>

#include "prs/worker/preload.hpp"
#include "prs/worker/prestart.hpp"
#include "temp_tree.hpp"

using namespace prs;
using prs_test::fresh_dir;
using prs_test::touch;

using Names = std::vector<std::string>;

TEST_CASE("top_level_imports: the modules of column-0 import lines, top-level names, each once", "[preload]") {
  CHECK(top_level_imports("import pandas as pd\nimport numpy, sklearn.ensemble  # trees\n"
                          "from sklearn.tree import DecisionTreeClassifier\nfrom . import sibling\n"
                          "from .local import x\n    import indented\nif True:\n  import nested\n"
                          "# import commented\nimported = 1\nfromage = 2\nimport pandas\n\"\"\"\nimport docstring\n") ==
        Names{"pandas", "numpy", "sklearn", "docstring"});  // a guess: a docstring's column-0 line counts too
  CHECK(top_level_imports("from\tos import path\nimport\tjson,os\n") == Names{"os", "json"});
  CHECK(top_level_imports("").empty());
}

TEST_CASE("installed_under: a package folder, a module file or an extension of that name", "[preload]") {
  const auto dir = fresh_dir("preload", "site");
  std::filesystem::create_directories(dir / "pkg");
  touch(dir / "single.py");
  touch(dir / "fast.cpython-311-x86_64-linux-gnu.so");
  touch(dir / "plain.so");
  touch(dir / "pkg_other.py");
  touch(dir / "fastest.cpython-311-x86_64-linux-gnu.so");
  const Names folders{"/nonexistent", dir.string()};
  for (const char* name : {"pkg", "single", "fast", "plain"}) CHECK(installed_under(name, folders));
  for (const char* name : {"pk", "sing", "other", "fas", "missing"}) CHECK_FALSE(installed_under(name, folders));
  CHECK_FALSE(installed_under("pkg", {}));
}

TEST_CASE("likely_node: rank 0 on the node when rank == local rank; unknown without both counts", "[preload]") {
  auto node = likely_node(Environment({"OMPI_COMM_WORLD_LOCAL_RANK=2", "OMPI_COMM_WORLD_LOCAL_SIZE=4"}), 2);
  REQUIRE(node);
  CHECK(node->workers_on_node == 3);  // ranks 1, 2, 3 beside rank 0
  CHECK(node->worker_slot == 1);
  node = likely_node(Environment({"SLURM_LOCALID=0", "SLURM_NTASKS_PER_NODE=4"}), 5);  // the second node
  REQUIRE(node);
  CHECK(node->workers_on_node == 4);
  CHECK(node->worker_slot == 0);
  CHECK_FALSE(likely_node(Environment({"OMPI_COMM_WORLD_LOCAL_RANK=1"}), 1));
  CHECK_FALSE(likely_node(Environment({"OMPI_COMM_WORLD_LOCAL_SIZE=2"}), 1));
  CHECK_FALSE(likely_node(Environment({"MPI_LOCALRANKID=2", "MPI_LOCALNRANKS=2"}), 2));  // a local rank past the count
  CHECK_FALSE(likely_node(Environment({"MPI_LOCALRANKID=x", "MPI_LOCALNRANKS=2"}), 1));
  CHECK_FALSE(likely_node(Environment({"MPI_LOCALRANKID=0", "MPI_LOCALNRANKS=2"}), 0));  // rank 0 runs no Python
}

TEST_CASE("prestart_wanted: imports ahead turn it on where cores are short, unless PRS_PRESTART says off",
          "[preload]") {
  const Environment four({"OMPI_COMM_WORLD_LOCAL_SIZE=4"});
  CHECK_FALSE(prestart_wanted(four, 2, false));
  CHECK(prestart_wanted(four, 2, true));
  CHECK(prestart_wanted(Environment({"PMIX_RANK=1"}), 2, true));  // unknown counts do not matter then
  CHECK_FALSE(prestart_wanted(Environment({"PRS_PRESTART=off", "OMPI_COMM_WORLD_LOCAL_SIZE=2"}), 64, true));
  CHECK(prestart_wanted(Environment({"PRS_PRESTART=auto", "OMPI_COMM_WORLD_LOCAL_SIZE=4"}), 2, true));
}

TEST_CASE("has_imports_ahead: an import installed in the python_env's site-packages, not shadowed", "[preload]") {
  const auto dir = fresh_dir("preload", "job");
  const auto site = dir / "venv" / "lib" / ("python" PRS_PYTHON_VERSION) / "site-packages";
  std::filesystem::create_directories(site / "installedpkg");
  touch(site / "shadowedpkg.py");
  touch(dir / "src" / "shadowedpkg" / "__init__.py");
  JobConfig config;
  config.code_dir = (dir / "src").string();
  config.python_env.prefix = (dir / "venv").string();
  config.entry_script = (dir / "src" / "score.py").string();
  auto script = [&](const char* text) {
    std::ofstream(config.entry_script) << text;
    return has_imports_ahead(config);
  };
  CHECK(script("import os\nimport installedpkg.sub\n"));
  CHECK_FALSE(script("import os\nimport shadowedpkg\n"));  // the code folder's goes first on sys.path
  CHECK_FALSE(script("import os, notinstalledpkg\n"));
  CHECK_FALSE(script("def run(mini_batch):\n    import installedpkg\n"));  // not at the top level
  config.python_env.prefix.clear();
  CHECK_FALSE(script("import installedpkg\n"));  // not where the embedded Python looks
  config.entry_script = (dir / "src" / "missing.py").string();
  CHECK_FALSE(has_imports_ahead(config));
}

TEST_CASE("import_differences: what changes or goes of the variables imported with, prs_mpi's own aside",
          "[preload]") {
  const Names started{"HOME=/root", "OMP_NUM_THREADS=1", "CUDA_VISIBLE_DEVICES=1", "PRS_WORKER_PID=7", "PMIX_RANK=1",
                      "PRS_PRESTART=on"};
  CHECK(import_differences(started, {"PRS_RANK=1", "AZUREML_BI_OUTPUT_PATH=/o", "OMP_NUM_THREADS=1", "HOME=/root",
                                     "PRS_WORKER_PID=8", "CUDA_VISIBLE_DEVICES=1", "OMPI_COMM_WORLD_SIZE=3",
                                     "PSM2_DEVICES=self,shm"}) == "");  // MPI_Init's own: added, not seen
  CHECK(import_differences(started, {"HOME=/root", "OMP_NUM_THREADS=2", "CUDA_VISIBLE_DEVICES=0"}) ==
        "CUDA_VISIBLE_DEVICES, OMP_NUM_THREADS");
  CHECK(import_differences(started, {"OMP_NUM_THREADS=1", "CUDA_VISIBLE_DEVICES=1", "HOME="}) == "HOME");
  CHECK(import_differences(started, {"OMP_NUM_THREADS=1", "CUDA_VISIBLE_DEVICES=1"}) == "HOME");
}

TEST_CASE("environment_changes and with_changes: what the imports set, changed or removed, made again",
          "[preload]") {
  const Names before{"A=1", "B=2", "C=3"};
  const Names after{"A=1", "B=20", "D=4", "E="};
  const Names changes = environment_changes(before, after);
  CHECK(changes == Names{"B=20", "D=4", "E=", "C"});
  CHECK(environment_changes(before, before).empty());
  CHECK(with_changes({"C=3", "A=10", "PRS_RANK=1"}, changes) == Names{"A=10", "PRS_RANK=1", "B=20", "D=4", "E="});
  CHECK(with_changes({"A=1"}, {}) == Names{"A=1"});
}
