#include "prs/worker/python_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <climits>
#include <cstring>
#include <fstream>
#include <thread>
#include <utility>

#include "prs/error.hpp"
#include "prs/worker/row_region.hpp"

extern char** environ;

namespace prs {

namespace {

std::string os_error(const std::string& what, int err) { return what + ": " + std::strerror(err); }

// A descriptor that is neither of the link's fixed numbers, so dup2 onto them always clears close-on-exec.
int away_from_link_fds(int fd) {
  if (fd != kLinkInFd && fd != kLinkOutFd) return fd;
  int moved = fcntl(fd, F_DUPFD_CLOEXEC, 10);
  if (moved < 0) throw Fatal(os_error("python process: fcntl(F_DUPFD_CLOEXEC)", errno));
  ::close(fd);
  return moved;
}

struct Pipe {
  int read = -1, write = -1;
};

Pipe make_pipe() {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) throw Fatal(os_error("python process: pipe2", errno));
  return {away_from_link_fds(fds[0]), away_from_link_fds(fds[1])};
}

// A pipe of kPipeBytes if the kernel allows it (an unprivileged user is capped by /proc/sys/fs/pipe-max-size), else
// as it is: a bigger pipe lets the Python process write a mini-batch's rows with fewer waits for the rank.
constexpr int kPipeBytes = 1 << 20;

void enlarge(const Pipe& p) {
  if (fcntl(p.write, F_SETPIPE_SZ, kPipeBytes) >= 0) return;
  std::ifstream max_file("/proc/sys/fs/pipe-max-size");
  int max = 0;
  if (max_file >> max && max > 0 && max < kPipeBytes) fcntl(p.write, F_SETPIPE_SZ, max);  // quietly, if at all
}

// Spawn attributes: a process group of its own, every signal at its default, nothing blocked.
class SpawnAttributes {
 public:
  SpawnAttributes() {
    posix_spawnattr_init(&attr_);
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr_, &all);
    posix_spawnattr_setsigmask(&attr_, &none);
    posix_spawnattr_setpgroup(&attr_, 0);
    posix_spawnattr_setflags(&attr_, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
  }
  ~SpawnAttributes() { posix_spawnattr_destroy(&attr_); }
  SpawnAttributes(const SpawnAttributes&) = delete;
  SpawnAttributes& operator=(const SpawnAttributes&) = delete;
  const posix_spawnattr_t* get() const { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

// A log file the child appends to; -1 for "" (the child keeps the rank's descriptor).
class LogFile {
 public:
  explicit LogFile(const std::string& path) {
    if (path.empty()) return;
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) throw Fatal(os_error("python process: cannot open its log file " + path, errno));
    if (fd_ <= kLinkOutFd) {  // 0-2 if the rank's own were closed: dup2 onto itself would keep close-on-exec
      int moved = fcntl(fd_, F_DUPFD_CLOEXEC, 10);
      int err = errno;
      ::close(fd_);
      fd_ = moved;
      if (fd_ < 0) throw Fatal(os_error("python process: fcntl(F_DUPFD_CLOEXEC)", err));
    }
  }
  ~LogFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// The child's end of each pipe on the link's fixed descriptors, the rows region on its own (row_region.hpp), and its log files on 1 and 2 (or /dev/null on 1
// and 2: a prestarted process, which must write nothing until it is adopted; fd 0 is the rank's either way).
class SpawnFiles {
 public:
  SpawnFiles(int in_fd, int out_fd, int region_fd, int stdout_fd, int stderr_fd, bool quiet) {
    posix_spawn_file_actions_init(&actions_);
    posix_spawn_file_actions_adddup2(&actions_, in_fd, kLinkInFd);
    posix_spawn_file_actions_adddup2(&actions_, out_fd, kLinkOutFd);
    if (region_fd >= 0) posix_spawn_file_actions_adddup2(&actions_, region_fd, kRowRegionFd);
    if (stdout_fd >= 0) posix_spawn_file_actions_adddup2(&actions_, stdout_fd, STDOUT_FILENO);
    if (stderr_fd >= 0) posix_spawn_file_actions_adddup2(&actions_, stderr_fd, STDERR_FILENO);
    if (quiet)
      for (int fd : {STDOUT_FILENO, STDERR_FILENO}) posix_spawn_file_actions_addopen(&actions_, fd, "/dev/null", O_WRONLY, 0);
  }
  ~SpawnFiles() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnFiles(const SpawnFiles&) = delete;
  SpawnFiles& operator=(const SpawnFiles&) = delete;
  const posix_spawn_file_actions_t* get() const { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

}  // namespace

std::string describe_exit(int status) {
  if (WIFSIGNALED(status)) {
    int sig = WTERMSIG(status);
    const char* abbrev = sigabbrev_np(sig);
    std::string name = std::string("SIG") + (abbrev ? abbrev : "?");
    if (sig == SIGKILL) name += ", from the kernel's out-of-memory killer or another process";
    return "killed by signal " + std::to_string(sig) + " (" + name + ")";
  }
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  return "ended with wait status " + std::to_string(status);
}

std::string this_executable() {
  char path[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", path, sizeof path - 1);
  if (n <= 0) throw Fatal("worker: cannot find its own executable (/proc/self/exe)");
  return std::string(path, static_cast<std::size_t>(n));
}

PythonProcess PythonProcess::spawn(const std::string& exe, const std::vector<std::string>& args, char* const envp[],
                                   int region_fd, int stdout_fd, int stderr_fd, bool quiet) {
  Pipe to = make_pipe(), from = make_pipe();
  enlarge(to);
  enlarge(from);
  SpawnAttributes attr;
  SpawnFiles files(to.read, from.write, region_fd, stdout_fd, stderr_fd, quiet);
  std::vector<char*> argv{const_cast<char*>(exe.c_str())};
  for (const std::string& arg : args) argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  PythonProcess p;
  int rc = posix_spawn(&p.pid_, exe.c_str(), files.get(), attr.get(), argv.data(), envp);
  ::close(to.read);
  ::close(from.write);
  p.to_fd_ = to.write;
  p.from_fd_ = from.read;
  if (rc != 0) {
    p.pid_ = -1;
    throw Fatal(os_error("cannot start the Python process (" + exe + ")", rc));
  }
  fcntl(p.from_fd_, F_SETFL, fcntl(p.from_fd_, F_GETFL) | O_NONBLOCK);
  return p;
}

PythonProcess PythonProcess::start(const std::string& exe, const RunnerSettings& settings, int region_fd,
                                   const std::string& stdout_file, const std::string& stderr_file) {
  LogFile out(stdout_file), err(stderr_file);
  setenv("PRS_WORKER_PID", std::to_string(getpid()).c_str(), 1);  // the child checks it still has its rank
  PythonProcess p = spawn(exe, {"--python-process"}, environ, region_fd, out.fd(), err.fd(), false);
  p.send(LinkKind::init, encode_settings(settings));  // a process that died at once shows up in try_reap()
  return p;
}

PythonProcess PythonProcess::prestart(const std::string& exe, const std::string& python, int region_fd,
                                      const std::vector<std::string>& env, const std::vector<std::string>& preload) {
  std::vector<char*> envp;
  for (const std::string& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  std::vector<std::string> args{"--python-process", "--prestart", python};
  if (!preload.empty()) {
    args.emplace_back("--preload");
    args.insert(args.end(), preload.begin(), preload.end());
  }
  return spawn(exe, args, envp.data(), region_fd, -1, -1, true);
}

void PythonProcess::adopt(const RunnerSettings& settings, const std::string& stdout_file,
                          const std::string& stderr_file, const std::vector<std::string>& env) {
  { LogFile out(stdout_file), err(stderr_file); }  // created (or refused) here, as start() would
  send(LinkKind::adopt, encode_adoption(stdout_file, stderr_file, env));  // a process that died shows in try_reap()
  send(LinkKind::init, encode_settings(settings));
}

PythonProcess::PythonProcess(PythonProcess&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      to_fd_(std::exchange(o.to_fd_, -1)),
      from_fd_(std::exchange(o.from_fd_, -1)),
      frames_(std::move(o.frames_)) {}

PythonProcess& PythonProcess::operator=(PythonProcess&& o) noexcept {
  if (this != &o) {
    PythonProcess old(std::move(*this));  // ends the process this one held
    pid_ = std::exchange(o.pid_, -1);
    to_fd_ = std::exchange(o.to_fd_, -1);
    from_fd_ = std::exchange(o.from_fd_, -1);
    frames_ = std::move(o.frames_);
  }
  return *this;
}

PythonProcess::~PythonProcess() {
  if (pid_ > 0) {
    ::kill(-pid_, SIGKILL);
    int status = 0;
    waitpid(pid_, &status, WNOHANG);  // otherwise a zombie until this rank ends
  }
  close_pipes();
}

void PythonProcess::close_pipes() {
  if (to_fd_ >= 0) ::close(to_fd_);
  if (from_fd_ >= 0) ::close(from_fd_);
  to_fd_ = from_fd_ = -1;
}

bool PythonProcess::send(LinkKind kind, const std::string& body) {
  return to_fd_ >= 0 && write_frame(to_fd_, kind, body);
}

bool PythonProcess::lend(LinkKind kind, std::string_view body) {
  return to_fd_ >= 0 && lend_frame(to_fd_, kind, body);
}

bool PythonProcess::send_frames(const std::string& frames) {
  return to_fd_ >= 0 && write_frames(to_fd_, frames);
}

std::vector<LinkFrame> PythonProcess::receive(std::chrono::microseconds wait, bool& closed) {
  std::vector<LinkFrame> out;
  if (from_fd_ < 0) {
    closed = true;
    return out;
  }
  pollfd p{from_fd_, POLLIN, 0};
  timespec ts{static_cast<time_t>(wait.count() / 1000000), static_cast<long>(wait.count() % 1000000) * 1000};
  int n = ppoll(&p, 1, &ts, nullptr);
  if (n > 0 && !frames_.fill(from_fd_)) closed = true;
  while (auto f = frames_.next()) out.push_back(std::move(*f));
  // A big frame (a mini-batch's rows) under way: its writer is blocked on the full pipe, so it is read on as it
  // comes, not a pipe's worth per pass of the worker's loop; a writer quiet for 1 ms gets the loop back.
  const timespec quiet{0, 1000000};
  while (!closed && frames_.in_big_body() && ppoll(&p, 1, &quiet, nullptr) > 0) {
    if (!frames_.fill(from_fd_)) closed = true;
    while (auto f = frames_.next()) out.push_back(std::move(*f));
  }
  return out;
}

std::optional<int> PythonProcess::try_reap() {
  if (pid_ <= 0) return std::nullopt;
  int status = 0;
  pid_t r = waitpid(pid_, &status, WNOHANG);
  if (r != pid_) return std::nullopt;
  ::kill(-pid_, SIGKILL);  // whatever the script forked goes with it
  pid_ = -1;
  return status;
}

std::optional<int> PythonProcess::kill_and_reap(std::chrono::milliseconds patience) {
  if (pid_ <= 0) return std::nullopt;
  ::kill(-pid_, SIGKILL);
  auto deadline = std::chrono::steady_clock::now() + patience;
  do {
    if (auto status = try_reap()) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  } while (std::chrono::steady_clock::now() < deadline);
  pid_ = -1;  // stuck in the kernel (a dead mount): left behind, reparented when this rank ends
  return std::nullopt;
}

std::uint64_t PythonProcess::rss_bytes() const {
  if (pid_ <= 0) return 0;
  std::ifstream statm("/proc/" + std::to_string(pid_) + "/statm");
  std::uint64_t size = 0, resident = 0;
  if (!(statm >> size >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(sysconf(_SC_PAGESIZE));
}

}  // namespace prs
