// How a worker rank words the end of its Python process: describe_exit on the statuses of real children.
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "prs/worker/python_process.hpp"

using namespace prs;

namespace {

// Forks a child that runs `body` and ends with _exit(code) if it is still there; returns its waitpid status.
template <typename Body>
int status_of_child(Body body, int code) {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    body();
    _exit(code);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, 0) == pid);
  return status;
}

// A child that dies of a signal: the default action (Catch2's own handlers are inherited), no core file.
int status_of_signal(int sig) {
  return status_of_child([sig] {
    rlimit none{0, 0};
    setrlimit(RLIMIT_CORE, &none);
    signal(sig, SIG_DFL);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, sig);
    sigprocmask(SIG_UNBLOCK, &set, nullptr);
    raise(sig);
  }, 100);
}

}  // namespace

TEST_CASE("describe_exit names the exit code", "[python_process]") {
  CHECK(describe_exit(status_of_child([] {}, 3)) == "exited with code 3");
  CHECK(describe_exit(status_of_child([] {}, 0)) == "exited with code 0");
  CHECK(describe_exit(status_of_child([] {}, 255)) == "exited with code 255");
}

TEST_CASE("describe_exit names the signal", "[python_process]") {
  CHECK(describe_exit(status_of_signal(SIGSEGV)) == "killed by signal 11 (SIGSEGV)");
  CHECK(describe_exit(status_of_signal(SIGABRT)) == "killed by signal 6 (SIGABRT)");
  CHECK(describe_exit(status_of_signal(SIGTERM)) == "killed by signal 15 (SIGTERM)");
}

TEST_CASE("describe_exit of SIGKILL mentions the out-of-memory killer", "[python_process]") {
  CHECK(describe_exit(status_of_signal(SIGKILL)) ==
        "killed by signal 9 (SIGKILL, from the kernel's out-of-memory killer or another process)");
}

TEST_CASE("describe_exit of a status that is neither an exit nor a kill gives the number", "[python_process]") {
  pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    raise(SIGSTOP);
    _exit(0);
  }
  int status = 0;
  REQUIRE(waitpid(pid, &status, WUNTRACED) == pid);
  CHECK(describe_exit(status) == "ended with wait status 4991");  // (SIGSTOP 19 << 8) | 0x7f: stopped
  kill(pid, SIGKILL);
  REQUIRE(waitpid(pid, &status, 0) == pid);
  CHECK(describe_exit(status) == "killed by signal 9 (SIGKILL, from the kernel's out-of-memory killer or another process)");
}
