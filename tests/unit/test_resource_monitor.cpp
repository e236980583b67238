// logs/sys/perf/<node>/processNNN.csv: the line format, the interval, the header of a new file.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "config_support.hpp"
#include "prs/logs/resource_monitor.hpp"

namespace {

std::vector<std::string> lines_of(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace

TEST_CASE("resource_monitor: a sample is one CSV line", "[resource_monitor]") {
  prs::ResourceSample s{97.54, 123456789, 1.5, 20000000000ull, 50000000000ull};
  std::tm tm{};
  tm.tm_year = 126;
  tm.tm_mon = 11;
  tm.tm_mday = 1;
  tm.tm_hour = 10;
  tm.tm_min = 2;
  tm.tm_sec = 3;
  tm.tm_isdst = -1;
  CHECK(prs::sample_line(std::mktime(&tm), 3, 4711, s) ==
        "2026-12-01T10:02:03,3,4711,97.5,123456789,1.50,20000000000,50000000000");
}

TEST_CASE("resource_monitor: off writes nothing; on, the first sample comes after one interval", "[resource_monitor]") {
  const prs_test::TempJobDir dir;
  const std::string off = dir / "perf/off.csv", on = dir / "perf/node/process001.csv";
  prs::ResourceMonitor none(off, dir.root(), 1, 0);
  none.sample_if_due(getpid());
  CHECK_FALSE(std::filesystem::exists(off));
  prs::ResourceMonitor monitor(on, dir.root(), 1, 1);
  monitor.sample_if_due(getpid());
  CHECK_FALSE(std::filesystem::exists(on));  // not due yet
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  monitor.sample_if_due(getpid());
  monitor.sample_if_due(getpid());  // not due again yet
  std::vector<std::string> lines = lines_of(on);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == prs::kResourceHeader);
  std::vector<std::string> fields;
  std::stringstream row(lines[1]);
  for (std::string f; std::getline(row, f, ',');) fields.push_back(f);
  REQUIRE(fields.size() == 8);
  CHECK(fields[1] == "1");
  CHECK(fields[2] == std::to_string(getpid()));
  CHECK(std::stoull(fields[4]) > 0);  // this process's RSS
  CHECK(std::stoull(fields[6]) > 0);  // the node's available memory
  CHECK(std::stoull(fields[7]) > 0);  // free disk under the folder
}
