#include "prs/logs/progress.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "prs/error.hpp"
#include "prs/logs/job_logs.hpp"
#include "prs/logs/json_text.hpp"

namespace prs {

namespace {

constexpr double kFilesEvery = 5;    // seconds between rewrites of the overview and the status snapshot
constexpr double kBarEvery = 0.25;   // seconds between redraws of the bar

// The parent process's name, from /proc ("mpirun", "orted", "slurmstepd", "bash").
std::string parent_name() {
  std::ifstream comm("/proc/" + std::to_string(getppid()) + "/comm");
  std::string name;
  std::getline(comm, name);
  return name;
}

// The parent's descriptor fd, opened anew (-1 when it cannot be): the terminal mpirun writes to, if any.
int open_parent_fd(int fd) {
  std::string path = "/proc/" + std::to_string(getppid()) + "/fd/" + std::to_string(fd);
  return ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
}

// Whether the parent's stdout and stderr are terminals: Open MPI's mpirun gives its local ranks a pty of its own,
// so the rank's isatty(1) is true even when mpirun writes to a file; mpirun's own descriptors tell.
bool parent_console_is_tty() {
  for (int n : {1, 2}) {
    int fd = open_parent_fd(n);
    bool tty = fd >= 0 && isatty(fd) != 0;
    if (fd >= 0) ::close(fd);
    if (!tty) return false;
  }
  return true;
}

bool under_mpi_launcher() {
  return std::getenv("OMPI_COMM_WORLD_RANK") != nullptr || std::getenv("PMIX_RANK") != nullptr ||
         std::getenv("PMI_RANK") != nullptr;
}

// The columns of the terminal: the rank's own, else mpirun's (the pty Open MPI gives a rank has no size).
int terminal_width() {
  winsize w{};
  if (ioctl(2, TIOCGWINSZ, &w) == 0 && w.ws_col >= 20) return w.ws_col;
  int fd = open_parent_fd(2);
  bool sized = fd >= 0 && ioctl(fd, TIOCGWINSZ, &w) == 0 && w.ws_col >= 20;
  if (fd >= 0) ::close(fd);
  if (sized) return w.ws_col;
  if (const char* columns = std::getenv("COLUMNS")) {
    int c = std::atoi(columns);
    if (c >= 20) return c;
  }
  return 80;
}

std::string rate_text(double rate) {
  char buf[32];
  std::snprintf(buf, sizeof buf, rate >= 10 ? "%.0f/s" : "%.2f/s", rate);
  return buf;
}

std::string eta_text(const ProgressSnapshot& s) { return s.eta ? format_duration(*s.eta) : std::string("?"); }

// "20000", or "20000+ (still listing)" while the total is not known.
std::string total_text(const ProgressSnapshot& s, bool words) {
  if (!s.listing) return std::to_string(s.total);
  return std::to_string(s.total) + (words ? "+ (still listing)" : "+");
}

}  // namespace

// Clears the bar's line before anything else reaches the console, so a warning or a failed attempt gets a line of
// its own and the bar is redrawn below it. The bar and the clearing go to stderr: one stream keeps their order
// through mpirun, which forwards stdout and stderr separately.
class BarConsole::Guard : public std::streambuf {
 public:
  Guard(std::ostream& stream, BarConsole& console) : stream_(stream), inner_(stream.rdbuf()), console_(console) {
    stream_.rdbuf(this);
  }
  ~Guard() override { stream_.rdbuf(inner_); }
  Guard(const Guard&) = delete;
  Guard& operator=(const Guard&) = delete;
  std::streambuf* inner() const { return inner_; }

 protected:
  int overflow(int c) override {
    if (c == traits_type::eof()) return traits_type::not_eof(c);
    console_.clear();
    return inner_->sputc(static_cast<char>(c));
  }
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    console_.clear();
    return inner_->sputn(s, n);
  }
  int sync() override { return inner_->pubsync(); }

 private:
  std::ostream& stream_;
  std::streambuf* inner_;
  BarConsole& console_;
};

BarConsole::BarConsole() : out_(std::make_unique<Guard>(std::cout, *this)), err_(std::make_unique<Guard>(std::cerr, *this)) {}

BarConsole::~BarConsole() {
  clear();
  err_.reset();
  out_.reset();
}

void BarConsole::draw(const std::string& bar) {
  std::string text = "\r" + bar + "\033[K";
  err_->inner()->sputn(text.data(), static_cast<std::streamsize>(text.size()));
  err_->inner()->pubsync();
  drawn_ = true;
}

void BarConsole::end() {
  if (!drawn_) return;
  err_->inner()->sputc('\n');
  err_->inner()->pubsync();
  drawn_ = false;
}

void BarConsole::clear() {
  if (!drawn_) return;
  drawn_ = false;
  out_->inner()->pubsync();
  err_->inner()->sputn("\r\033[K", 4);
  err_->inner()->pubsync();
}

ProgressMode parse_progress_mode(const std::string& text) {
  if (text == "auto") return ProgressMode::auto_detect;
  if (text == "bar") return ProgressMode::bar;
  if (text == "lines") return ProgressMode::lines;
  if (text == "none") return ProgressMode::none;
  throw Error("--progress: expected auto, bar, lines or none, got " + (text.empty() ? std::string("nothing") : text));
}

ProgressMode resolve_progress_mode(ProgressMode asked) {
  if (asked != ProgressMode::auto_detect) return asked;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::string(term) == "dumb") return ProgressMode::lines;
  if (isatty(1) == 0) return ProgressMode::lines;  // a file or a pipe (srun, a remote orted, `| tee`)
  if (!under_mpi_launcher()) return isatty(2) != 0 ? ProgressMode::bar : ProgressMode::lines;
  std::string parent = parent_name();  // the rank's stdout is mpirun's pty (and its stderr a pipe) in any case
  bool launcher = parent == "mpirun" || parent == "mpiexec" || parent == "orterun" || parent == "prterun";
  return launcher && parent_console_is_tty() ? ProgressMode::bar : ProgressMode::lines;
}

std::string overview_text(const ProgressSnapshot& s) {
  std::ostringstream o;
  o << "Processed " << s.done << " of " << total_text(s, true) << " mini batches in " << format_duration(s.elapsed)
    << ".";
  if (s.eta) o << " Estimated remaining time " << format_duration(*s.eta) << ".";
  o << "\nFailed mini batches: " << s.failed << ". Retried attempts: " << s.retried
    << ". Running attempts: " << s.in_flight << ".\n";
  return o.str();
}

std::string progress_line(const ProgressSnapshot& s) {
  std::ostringstream o;
  o << "prs_mpi: processed " << s.done << " of " << total_text(s, true) << " mini-batches (" << s.failed
    << " failed, " << s.retried << " retried) in " << format_duration(s.elapsed);
  if (s.rate > 0) o << "; " << rate_text(s.rate) << ", " << eta_text(s) << " left";
  return o.str();
}

std::string progress_bar(const ProgressSnapshot& s, int width) {
  std::ostringstream tail;
  int percent = s.total == 0 ? 100 : static_cast<int>(100.0 * s.done / s.total);
  tail << "  " << s.done << "/" << total_text(s, false) << "  " << (s.listing ? "?" : std::to_string(percent))
       << "%  " << rate_text(s.rate) << "  ETA " << eta_text(s);
  if (s.failed > 0) tail << "  " << s.failed << " failed";
  if (s.retried > 0) tail << "  " << s.retried << " retried";
  std::string rest = tail.str();
  int cells = std::min(40, width - 1 - 2 - static_cast<int>(rest.size()));
  if (cells < 5) return rest.substr(2, static_cast<std::size_t>(std::max(0, width - 1)));
  int filled = s.total == 0 ? cells : static_cast<int>(static_cast<double>(cells) * s.done / s.total);
  return "[" + std::string(filled, '#') + std::string(cells - filled, '.') + "]" + rest;
}

std::string progress_json(const ProgressSnapshot& s) {
  char host[256] = "?";
  gethostname(host, sizeof host - 1);
  Json j;
  j["updated"] = static_cast<long long>(std::time(nullptr));
  j["pid"] = static_cast<long long>(getpid());
  j["host"] = host;
  j["elapsed_seconds"] = s.elapsed;
  j["mini_batches"] = {{"total", s.total}, {"done", s.done}, {"failed", s.failed}, {"in_flight", s.in_flight},
                       {"still_listing", s.listing}};
  j["retried"] = s.retried;
  j["rate_per_second"] = s.rate;
  j["eta_seconds"] = s.eta ? Json(*s.eta) : Json(nullptr);
  Json running = Json::array();
  for (const RunningAttempt& a : s.slowest)
    running.push_back({{"mini_batch", a.batch}, {"attempt", a.attempt}, {"rank", a.rank}, {"host", a.host},
                       {"seconds", a.seconds}});
  j["slowest_running"] = running;
  return json_text(j);
}

ProgressReporter::ProgressReporter(ProgressMode mode, double every, const std::string& log_dir)
    : mode_(mode), every_(every), log_dir_(log_dir) {
  if (mode_ == ProgressMode::bar) {
    width_ = terminal_width();
    bar_ = std::make_unique<BarConsole>();
  }
  if (log_dir_.empty()) return;
  std::time_t t = std::time(nullptr);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d%H%M%S", std::localtime(&t));
  overview_path_ = log_dir_ + "/job_progress_overview." + stamp + ".txt";
}

bool ProgressReporter::due(double elapsed) const {
  if (elapsed - last_files_ >= kFilesEvery) return true;
  if (mode_ == ProgressMode::bar) return elapsed - last_console_ >= kBarEvery;
  return mode_ == ProgressMode::lines && elapsed - last_console_ >= every_;
}

void ProgressReporter::report(const ProgressSnapshot& s) {
  if (mode_ == ProgressMode::bar && s.elapsed - last_console_ >= kBarEvery) {
    std::cout << std::flush;
    bar_->draw(progress_bar(s, width_));
    last_console_ = s.elapsed;
  } else if (mode_ == ProgressMode::lines && s.elapsed - last_console_ >= every_) {
    std::cout << progress_line(s) << std::endl;
    last_console_ = s.elapsed;
  }
  if (s.elapsed - last_files_ >= kFilesEvery) write_files(s);
}

void ProgressReporter::finish(const ProgressSnapshot& s) {
  if (mode_ == ProgressMode::bar) {
    bar_->draw(progress_bar(s, width_));
    bar_->end();
    bar_.reset();
  } else if (mode_ == ProgressMode::lines) {
    std::cout << progress_line(s) << std::endl;
  }
  write_files(s);
}

void ProgressReporter::write_files(const ProgressSnapshot& s) {
  last_files_ = s.elapsed;
  if (log_dir_.empty()) return;
  write_file_atomically(overview_path_, overview_text(s));
  write_file_atomically(log_dir_ + "/sys/job_progress.json", progress_json(s));
}

}  // namespace prs
