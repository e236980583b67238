#include "prs/master/job_lock.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <thread>
#include <utility>

#include "prs/error.hpp"

namespace prs {

namespace {

#ifdef F_OFD_SETLK
constexpr int kSetLock = F_OFD_SETLK;  // owned by the open file description (Linux 3.15+)
#else
constexpr int kSetLock = F_SETLK;  // owned by the process
#endif

std::string folder_of(const std::string& path) { return std::filesystem::path(path).parent_path().string(); }
std::string name_of(const std::string& path) { return std::filesystem::path(path).filename().string(); }

// "pid 1234 on host node7 since 2026-12-01 10:02:03"
std::string holder_line() {
  char host[256] = "?";
  ::gethostname(host, sizeof host - 1);
  std::time_t now = std::time(nullptr);
  std::tm local{};
  ::localtime_r(&now, &local);
  char since[32];
  std::strftime(since, sizeof since, "%Y-%m-%d %H:%M:%S", &local);
  return "pid " + std::to_string(::getpid()) + " on host " + host + " since " + since;
}

// Reads a whole small file through fd from its start.
std::string read_fd(int fd) {
  std::string text;
  char buf[512];
  for (off_t at = 0;;) {
    ssize_t n = ::pread(fd, buf, sizeof buf, at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || text.size() > 4096) break;
    text.append(buf, static_cast<std::size_t>(n));
    at += n;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\0')) text.pop_back();
  return text;
}

// The holder, as the file says; a holder that has just taken the lock gets a moment to write it.
std::string holder_of(int fd) {
  for (int i = 0; i < 10; ++i) {
    std::string text = read_fd(fd);
    if (!text.empty()) return text;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return "a process that wrote no details";
}

[[noreturn]] void refuse(int fd, const std::string& path, const std::string& who) {
  std::string holder = holder_of(fd);
  ::close(fd);
  throw Error(who + ": another prs_mpi job is using this output: " + holder + " (lock " + path +
              "); wait for it or use another output");
}

void write_holder(int fd, const std::string& path) {
  std::string line = holder_line() + "\n";
  if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, line.data(), line.size(), 0) == static_cast<ssize_t>(line.size()))
    return;
  int e = errno;
  ::close(fd);  // releases the lock
  throw Error(folder_of(path) + ": cannot write the lock file " + name_of(path) + " in the logs folder: " +
              std::strerror(e));
}

}  // namespace

JobLock JobLock::take(const std::string& path, const std::string& who, double patience_seconds) {
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0)
    throw Error(folder_of(path) + ": cannot create the lock file " + name_of(path) + " in the logs folder: " +
                std::strerror(errno) + "; the logs folder must be writable (--log-dir chooses another)");
  struct flock lock {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file, however long
  auto give_up = std::chrono::steady_clock::now() + std::chrono::duration<double>(patience_seconds);
  while (::fcntl(fd, kSetLock, &lock) != 0) {
    if (errno == EINTR) continue;
    bool held = errno == EACCES || errno == EAGAIN;
    if (held && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));  // non-blocking tries: never F_SETLKW
      continue;
    }
    if (held) refuse(fd, path, who);
    int e = errno;
    ::close(fd);
    throw Error(path + ": cannot lock the job's lock file: " + std::strerror(e) +
                (e == ENOLCK ? " (the file system does not support locks; use --log-dir on one that does)" : ""));
  }
  write_holder(fd, path);
  JobLock held;
  held.fd_ = fd;
  held.path_ = path;
  return held;
}

JobLock::JobLock(JobLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

JobLock& JobLock::operator=(JobLock&& other) noexcept {
  std::swap(fd_, other.fd_);
  std::swap(path_, other.path_);
  return *this;
}

JobLock::~JobLock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock; the file stays
}

}  // namespace prs
