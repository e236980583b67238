#include <catch2/catch.hpp>

#include <grp.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>

#include "prs/error.hpp"
#include "prs/master/job_lock.hpp"

namespace fs = std::filesystem;
using namespace prs;

namespace {

constexpr uid_t kNobody = 65534;  // Debian's nobody and nogroup

struct LockDir {
  fs::path dir = fs::temp_directory_path() / ("prs_test_job_lock_" + std::to_string(::getpid()));
  LockDir() {
    fs::remove_all(dir);
    fs::create_directories(dir);
    fs::permissions(dir, fs::perms::all);  // a normal user may work in it too
  }
  ~LockDir() { fs::remove_all(dir); }
  std::string lock() const { return job_lock_path(dir.string()); }
};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// Runs fn in a forked child; returns its exit code (fn's return value; 100 if it threw, with the message in `error`).
int in_child(const std::function<int()>& fn, std::string* error = nullptr) {
  int pipe_fds[2];
  REQUIRE(::pipe(pipe_fds) == 0);
  pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(pipe_fds[0]);
    int code = 0;
    try {
      code = fn();
    } catch (const std::exception& e) {
      std::string what = e.what();
      (void)!::write(pipe_fds[1], what.data(), what.size());
      code = 100;
    }
    ::_exit(code);
  }
  ::close(pipe_fds[1]);
  std::string text;
  char buf[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buf, sizeof buf)) > 0;) text.append(buf, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (error) *error = text;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Becomes nobody when running as root (in a forked child only).
void become_normal_user() {
  if (::getuid() != 0) return;
  if (::setgroups(0, nullptr) != 0 || ::setgid(kNobody) != 0 || ::setuid(kNobody) != 0) ::_exit(101);
}

}  // namespace

TEST_CASE("a second job is refused and told who holds the lock", "[job_lock]") {
  LockDir d;
  JobLock held = JobLock::take(d.lock(), "job.yml");
  CHECK(held.held());
  char host[256] = "";
  ::gethostname(host, sizeof host - 1);
  std::string holder = "pid " + std::to_string(::getpid()) + " on host " + host + " since ";
  CHECK(read_text(d.lock()).rfind(holder, 0) == 0);
  std::regex line("pid \\d+ on host .+ since \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\n");
  CHECK(std::regex_match(read_text(d.lock()), line));
  std::string error;
  CHECK(in_child([&] { JobLock::take(d.lock(), "job.yml", 0); return 0; }, &error) == 100);
  CHECK_THAT(error, Catch::StartsWith("job.yml: another prs_mpi job is using this output: " + holder));
  CHECK_THAT(error, Catch::EndsWith(" (lock " + d.lock() + "); wait for it or use another output"));
}

TEST_CASE("the lock is free again once its holder lets go or dies, and the file stays", "[job_lock]") {
  LockDir d;
  { JobLock held = JobLock::take(d.lock(), "job.yml"); }
  CHECK(fs::exists(d.lock()));
  CHECK(in_child([&] { return JobLock::take(d.lock(), "job.yml").held() ? 0 : 1; }) == 0);

  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t holder = ::fork();
  if (holder == 0) {
    JobLock lock = JobLock::take(d.lock(), "job.yml");
    (void)!::write(ready[1], "x", 1);
    ::pause();  // until killed
    ::_exit(0);
  }
  char c;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  CHECK_THROWS_WITH(JobLock::take(d.lock(), "job.yml", 0),
                    Catch::Contains("using this output: pid " + std::to_string(holder) + " on host "));
  ::kill(holder, SIGKILL);  // as kill -9 of rank 0
  ::waitpid(holder, nullptr, 0);
  CHECK(JobLock::take(d.lock(), "job.yml").held());
  ::close(ready[0]);
  ::close(ready[1]);
}

TEST_CASE("a second take in the same process is refused too, and moving keeps the lock", "[job_lock]") {
  LockDir d;
  JobLock first = JobLock::take(d.lock(), "job.yml");
  CHECK_THROWS_WITH(JobLock::take(d.lock(), "job.yml", 0), Catch::Contains("another prs_mpi job is using this output"));
  JobLock moved = std::move(first);
  CHECK_FALSE(first.held());  // NOLINT: the moved-from lock is empty
  CHECK(moved.held());
  CHECK(moved.path() == d.lock());
  CHECK(in_child([&] { JobLock::take(d.lock(), "job.yml", 0); return 0; }) == 100);  // still held after the move
  moved = JobLock();
  CHECK(in_child([&] { JobLock::take(d.lock(), "job.yml", 0); return 0; }) == 0);
}

TEST_CASE("a normal user takes the lock, and an unwritable folder is named", "[job_lock]") {
  LockDir d;
  std::string error;
  int ready[2], release[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(release) == 0);
  pid_t user = ::fork();
  if (user == 0) {
    become_normal_user();
    JobLock lock = JobLock::take(d.lock(), "job.yml");
    (void)!::write(ready[1], "x", 1);
    char c;
    (void)!::read(release[0], &c, 1);
    ::_exit(0);
  }
  char c;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  CHECK_THROWS_WITH(JobLock::take(d.lock(), "job.yml", 0),
                    Catch::Contains("using this output: pid " + std::to_string(user) + " on host "));
  (void)!::write(release[1], "x", 1);
  int status = 0;
  ::waitpid(user, &status, 0);
  CHECK(WEXITSTATUS(status) == 0);
  for (int fd : {ready[0], ready[1], release[0], release[1]}) ::close(fd);

  fs::path read_only = d.dir / "read_only";
  fs::create_directories(read_only);
  fs::permissions(read_only, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read |
                                 fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
  auto take_as_user = [&] {
    become_normal_user();
    JobLock::take(job_lock_path(read_only.string()), "job.yml", 0);
    return 0;
  };
  CHECK(in_child(take_as_user, &error) == 100);
  CHECK(error == read_only.string() + ": cannot create the lock file job.lock in the logs folder: Permission denied; "
                                      "the logs folder must be writable (--log-dir chooses another)");
  CHECK_THROWS_WITH(JobLock::take((d.dir / "missing" / "job.lock").string(), "job.yml"),
                    (d.dir / "missing").string() + ": cannot create the lock file job.lock in the logs folder: No "
                                                   "such file or directory; the logs folder must be writable "
                                                   "(--log-dir chooses another)");
}

TEST_CASE("a lock released within the patience is taken, not refused", "[job_lock]") {
  LockDir d;
  int ready[2];
  REQUIRE(::pipe(ready) == 0);
  pid_t holder = ::fork();
  if (holder == 0) {  // a job that was just killed: it lets go a moment later
    JobLock lock = JobLock::take(d.lock(), "job.yml", 0);
    (void)!::write(ready[1], "x", 1);
    ::usleep(400 * 1000);
    ::_exit(0);
  }
  char c;
  REQUIRE(::read(ready[0], &c, 1) == 1);
  JobLock mine = JobLock::take(d.lock(), "job.yml", 30);
  CHECK(mine.held());
  CHECK(read_text(d.lock()).rfind("pid " + std::to_string(::getpid()) + " on host ", 0) == 0);
  ::waitpid(holder, nullptr, 0);
  ::close(ready[0]);
  ::close(ready[1]);
}
