#include "prs/logs/job_logs.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "prs/logs/json_text.hpp"

namespace fs = std::filesystem;

namespace prs {

namespace {

std::ofstream open_log(const std::string& path, bool append) {
  std::ofstream out(path, append ? std::ios::app : std::ios::trunc);
  if (!out) throw Error(path + ": cannot write the log file");
  return out;
}

}  // namespace

void write_file_atomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  std::ofstream out(tmp, std::ios::trunc);
  out << text;
  out.close();  // the data reaches the file here: a full disk shows now, before the rename
  std::error_code ec;
  if (!out) {
    fs::remove(tmp, ec);
    throw Error(path + ": cannot write the log file (is the disk full?)");
  }
  fs::rename(tmp, path, ec);
  if (ec) throw Error(path + ": cannot replace the log file: " + ec.message());
}

namespace {

void write_file(const std::string& path, const std::string& text) { write_file_atomically(path, text); }

// "2026-12-01 10:02:03", local time.
std::string now_text() {
  std::time_t t = std::time(nullptr);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", std::localtime(&t));
  return when;
}

// "succeeded", "failed: REASON" or "interrupted: REASON; resumable with --resume".
std::string verdict(const JobOutcome& o) {
  if (o.code == ExitCode::succeeded) return "succeeded";
  if (o.code == ExitCode::interrupted) return "interrupted: " + o.reason + "; resumable with --resume";
  return "failed: " + o.reason;
}

// "succeeded", "failed" or "interrupted": job_summary.json's status.
const char* status_word(ExitCode code) {
  if (code == ExitCode::succeeded) return "succeeded";
  return code == ExitCode::interrupted ? "interrupted" : "failed";
}

std::string counts_text(const JobOutcome& o) {
  const JobCounts& c = o.counts;
  std::ostringstream s;
  s << "mini-batches: " << c.batches << " in all, " << c.batches_succeeded << " succeeded, " << c.batches_failed
    << " failed, ";
  if (c.batches_unconfirmed > 0)  // a lost or broken worker's: --resume runs them again
    s << c.batches_unconfirmed << " never confirmed written, ";
  s << (c.batches - c.batches_succeeded - c.batches_failed - c.batches_unconfirmed) << " not processed\n"
    << "items: " << c.items << " in all, " << c.items_succeeded << " succeeded, " << c.items_failed << " failed\n"
    << "attempts: " << c.attempts << " (" << c.retries << " retried, " << o.workers.timeouts << " timed out)\n"
    << "workers: " << o.workers_started << " started, " << o.workers_retired << " retired after init() failed, "
    << o.workers_lost << " lost, " << o.workers_quarantined << " quarantined; " << o.python_restarts
    << " Python processes restarted\n"
    << "time: " << format_duration(o.seconds) << "\n";
  return s.str();
}

// {"count", "p50", "p95", "max"} of a sample of seconds (nearest rank; zeros when empty; max exact).
Json distribution(const TimeSample& sample) {
  std::vector<double> values = sample.values;
  std::sort(values.begin(), values.end());
  auto at = [&](double q) {
    if (values.empty()) return 0.0;
    auto i = static_cast<std::size_t>(q * static_cast<double>(values.size()) + 0.999999);
    return values[std::min(values.size(), std::max<std::size_t>(i, 1)) - 1];
  };
  return {{"count", sample.seen}, {"p50", at(0.5)}, {"p95", at(0.95)}, {"max", sample.max}};
}

Json worker_json(const WorkerStat& w) {
  return {{"rank", w.rank},         {"host", w.host},         {"state", w.state},
          {"init_seconds", w.init_seconds < 0 ? Json(nullptr) : Json(w.init_seconds)},
          {"attempts", w.attempts}, {"failed", w.failed},     {"items_succeeded", w.items_ok},
          {"run_seconds", w.run_seconds}};
}

// Per host, in the order hosts first appear among the ranks.
Json nodes_json(const std::vector<WorkerStat>& workers) {
  Json nodes = Json::array();
  for (const WorkerStat& w : workers) {
    auto it = std::find_if(nodes.begin(), nodes.end(), [&](const Json& n) { return n["host"] == w.host; });
    if (it == nodes.end()) {
      nodes.push_back({{"host", w.host}, {"workers", 0}, {"attempts", 0}, {"failed", 0}, {"items_succeeded", 0},
                       {"run_seconds", 0.0}});
      it = nodes.end() - 1;
    }
    Json& n = *it;
    n["workers"] = n["workers"].get<int>() + 1;
    n["attempts"] = n["attempts"].get<std::uint64_t>() + w.attempts;
    n["failed"] = n["failed"].get<std::uint64_t>() + w.failed;
    n["items_succeeded"] = n["items_succeeded"].get<std::uint64_t>() + w.items_ok;
    n["run_seconds"] = n["run_seconds"].get<double>() + w.run_seconds;
  }
  return nodes;
}

void add_settings(Json& j, const JobConfig& config) {
  Json settings = Json::array();
  for (const ResolvedSetting& r : config.resolved)
    settings.push_back({{"key", r.key}, {"value", r.value}, {"origin", r.origin}});
  j["settings"] = settings;
  j["ignored_keys"] = config.ignored_keys;
}


}  // namespace

void TimeSample::add(double v) {
  max = seen == 0 ? v : std::max(max, v);
  ++seen;
  if (values.size() < kept) {
    values.push_back(v);
    return;
  }
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ull);  // splitmix64
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  std::uint64_t slot = z % seen;
  if (slot < kept) values[slot] = v;
}

std::string summary_json(const JobOutcome& o, const std::string& output_file, const JobConfig* config) {
  const JobCounts& c = o.counts;
  const WorkerTotals& w = o.workers;
  Json j;
  j["status"] = status_word(o.code);
  j["exit_code"] = static_cast<int>(o.code);
  j["reason"] = o.reason;
  j["output"] = output_file.empty() ? Json(nullptr) : Json(output_file);  // null: summary_only wrote no file
  j["mini_batches"] = {{"total", c.batches},
                       {"succeeded", c.batches_succeeded},
                       {"failed", c.batches_failed},
                       {"unconfirmed", c.batches_unconfirmed}};
  j["items"] = {{"total", c.items}, {"succeeded", c.items_succeeded}, {"failed", c.items_failed}};
  j["attempts"] = {{"total", c.attempts}, {"retried", c.retries}, {"cancelled", c.cancelled},
                   {"run_calls", w.attempts_run}, {"failed", w.attempts_failed}, {"timed_out", w.timeouts}};
  j["workers"] = {{"started", o.workers_started},
                  {"retired", o.workers_retired},
                  {"lost", o.workers_lost},
                  {"quarantined", o.workers_quarantined},
                  {"python_restarts", o.python_restarts}};
  j["output_bytes"] = c.output_bytes;
  j["seconds"] = o.seconds;
  j["dispatch_seconds"] = o.dispatch_seconds;
  j["run_seconds"] = w.run_micros / 1e6;
  j["master_cpu_seconds"] = o.master_cpu_seconds;
  j["journal_seconds"] = o.journal_seconds;
  j["journal_bytes"] = o.journal_bytes;
  double busy = o.dispatch_seconds;
  std::uint64_t items_ok = 0;  // in this run (a resume's earlier runs not counted)
  for (const WorkerStat& w : o.per_worker) items_ok += w.items_ok;
  double attempts = static_cast<double>(o.run_times.seen);
  j["throughput"] = {{"attempts_per_second", busy > 0 ? attempts / busy : 0.0},
                     {"items_per_second", busy > 0 ? static_cast<double>(items_ok) / busy : 0.0}};
  j["timings"] = {{"init", distribution(o.init_times)}, {"run", distribution(o.run_times)}};
  Json workers = Json::array();
  for (const WorkerStat& w : o.per_worker) workers.push_back(worker_json(w));
  j["per_worker"] = workers;
  j["per_node"] = nodes_json(o.per_worker);
  if (config != nullptr) add_settings(j, *config);
  return json_text(j);
}

std::string format_duration(double seconds) {
  auto total = static_cast<long long>(seconds + 0.5);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
  return buf;
}

JobLogs::JobLogs(std::string dir, bool append) : dir_(std::move(dir)) {
  std::error_code ec;
  for (const char* sub : {"user", "sys"}) {
    fs::create_directories(fs::path(dir_) / sub, ec);
    if (ec) throw Error(dir_ + ": cannot create the logs folder: " + ec.message());
  }
  errors_ = open_log(dir_ + "/user/error.txt", append);
  master_ = open_log(dir_ + "/sys/master_role.txt", append);
  write_file(dir_ + "/readme.txt", logs_readme());
  if (append) {  // a resumed run: its lines follow the earlier run's, after this one
    std::string line = "=== " + now_text() + " resumed run (--resume), pid " + std::to_string(getpid());
    errors_ << line << '\n' << std::flush;
    master_ << line << '\n' << std::flush;
  }
}

void JobLogs::entry_script_error(const std::string& heading, const std::string& traceback) {
  errors_ << "=== " << heading << "\n" << traceback;
  if (!traceback.empty() && traceback.back() != '\n') errors_ << '\n';
  errors_.flush();
}

void JobLogs::master_note(const std::string& line) { master_ << line << '\n' << std::flush; }

void JobLogs::write_running() {
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  std::string when = now_text();
  std::ostringstream r;
  r << "running: started " << when << " by pid " << getpid() << " on " << host << "\n"
    << "if no prs_mpi job runs any more, it ended without a verdict (killed); continue it with --resume\n";
  write_file(dir_ + "/job_result.txt", r.str());
  Json j;
  j["status"] = "running";
  j["pid"] = static_cast<long long>(getpid());
  j["host"] = host;
  j["started"] = when;
  write_file(dir_ + "/job_summary.json", json_text(j));
}

void JobLogs::write_result(const JobOutcome& o, const std::string& output_file) {
  std::ostringstream r;
  r << verdict(o) << "\n";
  r << counts_text(o);
  if (!output_file.empty()) r << "output: " << output_file << "\n";
  if (o.counts.batches_failed > 0 || o.workers_retired > 0 || o.code != ExitCode::succeeded)
    r << "entry-script errors: " << dir_ << "/user/error.txt\n";
  write_file(dir_ + "/job_result.txt", r.str());

  write_file(dir_ + "/job_summary.json", summary_json(o, output_file, config_));
}

void print_outcome(const JobOutcome& o, const std::string& output_file, const std::string& log_dir) {
  const JobCounts& c = o.counts;
  std::cout << "prs_mpi: " << verdict(o) << "\nprs_mpi: " << c.items_succeeded << " of " << c.items
            << " items succeeded in " << c.batches << " mini-batches; results: "
            << (output_file.empty() ? "not written (summary_only)" : output_file) << "; logs: " << log_dir << std::endl;
}

}  // namespace prs
