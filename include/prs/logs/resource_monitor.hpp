#pragma once
// logs/sys/perf/<node>/processNNN.csv: every resource_monitor_interval seconds a worker rank appends one line about
// itself, its Python process and its node (CPU % of the Python process and its children since the last sample,
// its RSS, the node's 1-minute load, available memory, free disk under the logs folder). Plain reads of /proc and
// one statvfs per sample: with the service's default of 600 s its cost does not show.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

namespace prs {

// One sample's values.
struct ResourceSample {
  double cpu_percent = 0;              // the Python process's CPU since the previous sample, % of one core
  std::uint64_t rss_bytes = 0;         // its resident memory
  double load1 = 0;                    // the node's 1-minute load average
  std::uint64_t mem_available = 0;     // MemAvailable of /proc/meminfo
  std::uint64_t disk_free = 0;         // free bytes for unprivileged users where the logs are
};

// The CSV file's first line.
constexpr const char* kResourceHeader =
    "time,rank,python_pid,cpu_percent,rss_bytes,load1,mem_available_bytes,disk_free_bytes";

// "2026-12-01T10:02:03,3,4711,97.5,123456789,1.52,20000000000,50000000000" (time, rank, pid, then the values).
std::string sample_line(std::time_t when, int rank, pid_t pid, const ResourceSample& s);

// Samples a worker's resources at an interval and appends them to its CSV file.
class ResourceMonitor {
 public:
  // interval_seconds 0 = off (nothing is written).
  ResourceMonitor(std::string csv_path, std::string disk_path, int rank, int interval_seconds);
  // Appends a sample when one is due; pid is the Python process (0 when there is none: only the node's values).
  void sample_if_due(pid_t pid);

 private:
  ResourceSample take(pid_t pid);
  std::string csv_path_, disk_path_;
  int rank_;
  std::chrono::seconds interval_;
  std::chrono::steady_clock::time_point next_;
  pid_t last_pid_ = 0;
  double last_cpu_seconds_ = 0;
  std::chrono::steady_clock::time_point last_time_;
};

}  // namespace prs
