#include "prs/logs/process_logs.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "prs/error.hpp"

namespace fs = std::filesystem;

namespace prs {

namespace {

std::string seconds_text(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", s);
  return buf;
}

void create_parent(const std::string& file) {
  std::error_code ec;
  fs::path dir = fs::path(file).parent_path();
  fs::create_directories(dir, ec);
  if (ec) throw Error(dir.string() + ": cannot create the logs folder: " + ec.message());
}

std::ofstream open_append(const std::string& path) {
  std::ofstream out(path, std::ios::app);
  if (!out) throw Error(path + ": cannot write the log file");
  return out;
}

}  // namespace

std::string process_name(int rank) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "process%03d", rank);
  return buf;
}

ProcessLogPaths process_log_paths(const std::string& log_dir, const std::string& host, int rank) {
  const std::string name = process_name(rank);
  ProcessLogPaths p;
  p.stdout_file = log_dir + "/user/stdout/" + host + "/" + name + ".stdout.txt";
  p.stderr_file = log_dir + "/user/stderr/" + host + "/" + name + ".stderr.txt";
  p.error_file = log_dir + "/user/error/" + host + "/" + name + ".txt";
  p.entry_script_log = log_dir + "/user/entry_script_log/" + host + "/" + name + ".log.txt";
  p.sys_file = log_dir + "/sys/node/" + host + "/" + name + ".txt";
  return p;
}

int log_level_number(const std::string& level) {
  if (level == "DEBUG") return 10;
  if (level == "WARNING") return 30;
  if (level == "ERROR") return 40;
  return 20;
}

// The last second formatted is kept: a worker writes a line per mini-batch, many in the same second, and
// localtime() looks at /etc/localtime each call.
std::string log_time(std::time_t t) {
  thread_local std::time_t last = -1;
  thread_local std::string text;
  if (t == last) return text;
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  last = t;
  text = when;
  return text;
}

std::string attempt_line(const AttemptRecord& r) {
  return log_time(r.start) + " rank " + std::to_string(r.rank) + " mini-batch " + std::to_string(r.batch_id) +
         " attempt " + std::to_string(r.attempt) + ": " + r.status + ", items " + std::to_string(r.items) +
         " succeeded " + std::to_string(r.succeeded) + " failed " + std::to_string(r.items - r.succeeded) + ", " +
         seconds_text(r.seconds) + " s (run() " + seconds_text(r.run_seconds) + " s)";
}

std::string error_record(const AttemptRecord& r, const std::string& host, const std::vector<std::string>& first_items,
                         const std::string& traceback) {
  std::string text = "=== " + log_time(r.start) + " rank " + std::to_string(r.rank) + " (" + host + "): mini-batch " +
                     std::to_string(r.batch_id) + ", attempt " + std::to_string(r.attempt) + " " + r.status + "\n";
  text += "items (" + std::to_string(r.items) + "):";
  for (std::size_t i = 0; i < first_items.size() && i < kItemsShown; ++i) text += " " + first_items[i];
  if (r.items > std::min<std::uint64_t>(first_items.size(), kItemsShown)) text += " ...";
  text += "\n" + traceback;
  if (!traceback.empty() && traceback.back() != '\n') text += '\n';
  return text;
}

ProcessLogs::ProcessLogs(ProcessLogPaths paths) : paths_(std::move(paths)) {
  for (const std::string* f : {&paths_.stdout_file, &paths_.stderr_file, &paths_.error_file,
                               &paths_.entry_script_log, &paths_.sys_file})
    create_parent(*f);
  sys_ = open_append(paths_.sys_file);
}

void ProcessLogs::sys_line(const std::string& line) { sys_ << line << '\n' << std::flush; }

void ProcessLogs::error(const std::string& record) {
  if (!errors_.is_open()) errors_ = open_append(paths_.error_file);
  errors_ << record << std::flush;
}

}  // namespace prs
