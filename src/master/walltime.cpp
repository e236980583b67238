#include "prs/master/walltime.hpp"

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace prs {

std::optional<std::time_t> parse_slurm_time(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min,
                  &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  for (std::size_t i = static_cast<std::size_t>(consumed); i < text.size(); ++i)
    if (text[i] != '\n' && text[i] != ' ') return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  tm.tm_isdst = -1;
  std::time_t t = std::mktime(&tm);
  if (t == static_cast<std::time_t>(-1)) return std::nullopt;
  return t;
}

std::optional<std::time_t> slurm_job_end() {
  if (const char* end = std::getenv("SLURM_JOB_END_TIME")) {
    char* rest = nullptr;
    long long v = std::strtoll(end, &rest, 10);
    if (rest != end && *rest == '\0' && v > 0) return static_cast<std::time_t>(v);
  }
  const char* job = std::getenv("SLURM_JOB_ID");
  if (job == nullptr) return std::nullopt;
  std::string id = job;
  for (char c : id)
    if (c < '0' || c > '9') return std::nullopt;  // never pass anything else to the shell
  std::string command = "squeue -h -j " + id + " -o %e 2>/dev/null";
  std::FILE* pipe = ::popen(command.c_str(), "r");
  if (pipe == nullptr) return std::nullopt;
  char line[128] = {};
  bool got = std::fgets(line, sizeof line, pipe) != nullptr;
  ::pclose(pipe);
  return got ? parse_slurm_time(line) : std::nullopt;
}

}  // namespace prs
