#include "prs/master/status.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "prs/config/config.hpp"
#include "prs/error.hpp"
#include "prs/logs/job_logs.hpp"
#include "prs/logs/json_text.hpp"
#include "prs/master/job_lock.hpp"
#include "prs/master/journal.hpp"

namespace fs = std::filesystem;

namespace prs {

namespace {

#ifdef F_OFD_GETLK
constexpr int kGetLock = F_OFD_GETLK;
#else
constexpr int kGetLock = F_GETLK;
#endif

std::string first_line(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// The logs folder: the target itself when it is a folder, else the job file's (after --set and --log-dir).
std::string logs_folder(const CliOptions& cli) {
  std::error_code ec;
  if (fs::is_directory(cli.job_file, ec)) return fs::absolute(cli.job_file).lexically_normal().string();
  return load_job_config(cli).log_dir;
}

// What the journal says, counted.
struct JournalCounts {
  std::uint64_t total = 0, succeeded = 0, failed = 0;
  bool listing_open = false;  // the input was still being listed: total is the mini-batches listed so far
};

JournalCounts count_journal(const std::string& path) {
  const JournalHeader header = read_journal_header(path);
  JournalState state = read_journal(path, header.batch_count);
  JournalCounts c;
  c.total = state.batch_count;
  c.listing_open = header.listing_open;
  for (const auto& end : state.ended) {
    if (!end) continue;
    ++(end->succeeded ? c.succeeded : c.failed);
  }
  return c;
}

// sys/job_progress.json, or an empty document when the master wrote none (yet) or it cannot be read.
Json read_progress(const std::string& dir) {
  std::ifstream in(dir + "/sys/job_progress.json");
  if (!in) return Json::object();
  try {
    return Json::parse(in);
  } catch (const std::exception&) {
    return Json::object();
  }
}

std::string seconds_text(double seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f s", seconds);
  return buf;
}

// "running", "succeeded", "failed" or "interrupted", and the verdict's line.
std::string state_of(bool held, const std::string& verdict) {
  if (held) return "running";
  if (verdict.rfind("running", 0) == 0) return "interrupted";  // started and never wrote a verdict: killed
  for (const char* word : {"succeeded", "failed", "interrupted"})
    if (verdict.rfind(word, 0) == 0) return word;
  return "unknown";
}

void print_running(const Json& progress, std::ostream& out) {
  if (!progress.contains("rate_per_second")) return;
  double rate = progress.value("rate_per_second", 0.0);
  long long age = static_cast<long long>(std::time(nullptr)) - progress.value("updated", 0LL);
  out << "rate: ";
  if (rate > 0) {
    char r[32];
    std::snprintf(r, sizeof r, "%.2f", rate);
    out << r << " mini-batches/s; estimated remaining time "
        << (progress["eta_seconds"].is_number() ? format_duration(progress["eta_seconds"].get<double>()) : "?");
  } else {
    out << "no mini-batch ended yet";
  }
  out << " (as of " << age << " s ago)\n";
  age = std::max(age, 0LL);
  const Json& slowest = progress["slowest_running"];
  if (!slowest.is_array() || slowest.empty()) return;
  out << "slowest running mini-batches:\n";
  for (const Json& a : slowest)
    out << "  mini-batch " << a.value("mini_batch", 0ULL) << ", attempt " << a.value("attempt", 0U) << ", on rank "
        << a.value("rank", 0) << " (" << a.value("host", std::string("?")) << "): running for "
        << seconds_text(a.value("seconds", 0.0) + static_cast<double>(age)) << "\n";  // as of now
}

void print_resume(const std::string& state, const JournalCounts& c, const std::string& lock, std::ostream& out) {
  std::uint64_t ended = c.succeeded + c.failed;
  out << "--resume: ";
  if (state == "running") {
    out << "refused while this job runs (it holds " << lock << ")\n";
  } else if (c.listing_open) {
    out << "would skip the " << ended << " mini-batches that ended (" << c.failed << " failed; --retry-failed "
        << "runs those again), run the other " << c.total - ended << " and list the rest of the input\n";
  } else if (ended == c.total) {
    out << "nothing to do: every mini-batch already ended";
    if (c.failed > 0)
      out << " (--resume --retry-failed runs the " << c.failed << " failed mini-batch" << (c.failed == 1 ? "" : "es")
          << " again)";
    out << "\n";
  } else {
    out << "would skip the " << ended << " mini-batches that ended (" << c.failed << " failed; --retry-failed "
        << "runs those again) and run the other " << c.total - ended << "\n";
  }
}

}  // namespace

bool lock_is_held(const std::string& lock_path) {
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;
  bool held = ::fcntl(fd, kGetLock, &lock) == 0 && lock.l_type != F_UNLCK;
  ::close(fd);
  return held;
}

void print_status(const CliOptions& cli, std::ostream& out) {
  const std::string dir = logs_folder(cli);
  const std::string journal = dir + "/journal.bin";
  const std::string lock = job_lock_path(dir);
  const bool held = lock_is_held(lock);
  std::error_code ec;
  if (!fs::exists(journal, ec) && held) {  // a job checks its input and output before it writes a journal
    out << "logs: " << dir << "\nstate: running (starting: no mini-batch sent yet)\n";
    return;
  }
  if (!fs::exists(journal, ec))
    throw Error(cli.job_file + ": no job has run here yet (no journal at " + journal + ")");
  const std::string verdict = first_line(dir + "/job_result.txt");
  const std::string state = state_of(held, verdict);
  const JournalCounts c = count_journal(journal);
  const Json progress = held ? read_progress(dir) : Json::object();
  std::uint64_t in_flight = 0;
  if (progress.contains("mini_batches")) in_flight = progress["mini_batches"].value("in_flight", 0ULL);
  std::uint64_t ended = c.succeeded + c.failed;
  in_flight = std::min(in_flight, c.total - ended);

  out << "logs: " << dir << "\n";
  out << "state: " << state;
  if (state == "interrupted" && verdict.rfind("running", 0) == 0) out << " (killed: it ended without a verdict)";
  out << "\n";
  if (!verdict.empty() && verdict != state) out << "job_result.txt: " << verdict << "\n";
  out << "mini-batches: " << c.total << (c.listing_open ? " listed so far (the input's listing had not ended)" : " in all")
      << ", " << ended << " done (" << c.succeeded << " succeeded, " << c.failed << " failed), " << in_flight
      << " in flight, " << c.total - ended - in_flight << " left" << (c.listing_open ? " of those" : "") << "\n";
  if (held) print_running(progress, out);
  print_resume(state, c, lock, out);
}

}  // namespace prs
