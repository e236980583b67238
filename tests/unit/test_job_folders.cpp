#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "prs/error.hpp"
#include "temp_tree.hpp"
#include "prs/output/job_folders.hpp"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) { return prs_test::fresh_dir("job_folders", name); }

}  // namespace

TEST_CASE("a job records only the folders its own mkdir created", "[job_folders]") {
  const fs::path d = fresh_dir("create");
  CHECK(prs::create_job_folder((d / "out/logs").string()) == (d / "out").string());
  CHECK(fs::is_directory(d / "out/logs"));
  CHECK(prs::create_job_folder((d / "out/logs").string()).empty());     // all there: nothing of this call's
  CHECK(prs::create_job_folder((d / "out/more/").string()) == (d / "out/more").string());
  std::ofstream(d / "file") << "x";
  CHECK_THROWS_WITH(prs::create_job_folder((d / "file/sub").string()),
                    (d / "file/sub").string() + ": cannot create the folder: Not a directory");
  fs::remove_all(d);
}

TEST_CASE("a refused job removes its own files and the folders left empty, never another job's", "[job_folders]") {
  const fs::path d = fresh_dir("remove");
  fs::create_directories(d / "out/logs/sys");
  std::ofstream(d / "out/logs/job.lock") << "pid 1";
  SECTION("nothing but its lock: the whole tree goes") {
    CHECK(prs::remove_job_folder((d / "out").string(), {(d / "out/logs/job.lock").string()}).empty());
    CHECK_FALSE(fs::exists(d / "out"));
  }
  SECTION("another job's output in the folder it created: that output and its folder stay") {
    std::ofstream(d / "out/rows.txt") << "row\n";
    const auto kept = prs::remove_job_folder((d / "out").string(), {(d / "out/logs/job.lock").string()});
    CHECK(kept == std::vector<std::string>{(d / "out").string()});
    CHECK(fs::exists(d / "out/rows.txt"));
    CHECK_FALSE(fs::exists(d / "out/logs"));  // empty once the lock file went
  }
  SECTION("another job's logs stay with their folders") {
    std::ofstream(d / "out/logs/sys/master.txt") << "log\n";
    const auto kept = prs::remove_job_folder((d / "out").string(), {(d / "out/logs/job.lock").string()});
    CHECK(kept.size() == 3);  // sys, logs, out
    CHECK(fs::exists(d / "out/logs/sys/master.txt"));
    CHECK_FALSE(fs::exists(d / "out/logs/job.lock"));
  }
  SECTION("a folder gone already is nothing to do") {
    fs::remove_all(d / "out");
    CHECK(prs::remove_job_folder((d / "out").string(), {}).empty());
  }
  fs::remove_all(d);
}
