#include "prs/logs/resource_monitor.hpp"

#include <sys/statvfs.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace prs {

namespace {

// utime + stime + cutime + cstime of /proc/PID/stat, in seconds (children the script waited for included).
double cpu_seconds_of(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string skip;
  for (int i = 0; i < 11; ++i) fields >> skip;  // state .. cmajflt: fields 3 to 13
  double ticks = 0, v = 0;
  for (int i = 0; i < 4 && fields >> v; ++i) ticks += v;
  return ticks / static_cast<double>(sysconf(_SC_CLK_TCK));
}

std::uint64_t rss_of(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

std::uint64_t mem_available() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  std::uint64_t kib = 0;
  std::string unit;
  while (meminfo >> key >> kib >> unit)
    if (key == "MemAvailable:") return kib * 1024;
  return 0;
}

}  // namespace

std::string sample_line(std::time_t when, int rank, pid_t pid, const ResourceSample& s) {
  char time_text[32];
  std::strftime(time_text, sizeof time_text, "%Y-%m-%dT%H:%M:%S", std::localtime(&when));
  char line[256];
  std::snprintf(line, sizeof line, "%s,%d,%ld,%.1f,%llu,%.2f,%llu,%llu", time_text, rank, static_cast<long>(pid),
                s.cpu_percent, static_cast<unsigned long long>(s.rss_bytes), s.load1,
                static_cast<unsigned long long>(s.mem_available), static_cast<unsigned long long>(s.disk_free));
  return line;
}

ResourceMonitor::ResourceMonitor(std::string csv_path, std::string disk_path, int rank, int interval_seconds)
    : csv_path_(std::move(csv_path)),
      disk_path_(std::move(disk_path)),
      rank_(rank),
      interval_(interval_seconds),
      next_(std::chrono::steady_clock::now() + interval_),
      last_time_(std::chrono::steady_clock::now()) {}

// The first sample comes one interval after the start (a job shorter than that writes no file); a new file gets
// its header first. Best effort: a sample that cannot be written is dropped, the job goes on.
void ResourceMonitor::sample_if_due(pid_t pid) {
  if (interval_.count() <= 0 || std::chrono::steady_clock::now() < next_) return;
  next_ = std::chrono::steady_clock::now() + interval_;
  ResourceSample s = take(pid);
  std::error_code ec;
  const bool fresh = !std::filesystem::exists(csv_path_, ec);
  if (fresh) std::filesystem::create_directories(std::filesystem::path(csv_path_).parent_path(), ec);
  std::ofstream out(csv_path_, std::ios::app);
  if (fresh) out << kResourceHeader << '\n';
  out << sample_line(std::time(nullptr), rank_, pid, s) << '\n';
}

ResourceSample ResourceMonitor::take(pid_t pid) {
  ResourceSample s;
  auto now = std::chrono::steady_clock::now();
  if (pid > 0) {
    double cpu = cpu_seconds_of(pid);
    double elapsed = std::chrono::duration<double>(now - last_time_).count();
    if (pid == last_pid_ && elapsed > 0) s.cpu_percent = 100.0 * (cpu - last_cpu_seconds_) / elapsed;
    last_pid_ = pid;
    last_cpu_seconds_ = cpu;
    s.rss_bytes = rss_of(pid);
  }
  last_time_ = now;
  double load[1] = {0};
  if (getloadavg(load, 1) == 1) s.load1 = load[0];
  s.mem_available = mem_available();
  struct statvfs fs{};
  if (statvfs(disk_path_.c_str(), &fs) == 0) s.disk_free = static_cast<std::uint64_t>(fs.f_bavail) * fs.f_frsize;
  return s;
}

}  // namespace prs
