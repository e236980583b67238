#pragma once
// Test support: run a piece of a test as a normal user. Root reads every folder, so a permission test run as root
// would pass for the wrong reason: as root, the piece runs in a forked child that became nobody.
#include <grp.h>
#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <functional>
#include <string>

namespace prs_test {

// What `piece` returns, computed as a normal user (nobody when the test runs as root). The piece must not use
// Catch2's assertions: it returns what the test then checks.
inline std::string as_normal_user(const std::function<std::string()>& piece) {
  if (::geteuid() != 0) return piece();
  const struct passwd* nobody = ::getpwnam("nobody");
  REQUIRE(nobody != nullptr);
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {  // the child: the text goes back through the pipe, then _exit (no Catch2 reporting here)
    ::close(fds[0]);
    const bool dropped = ::setgroups(0, nullptr) == 0 && ::setgid(nobody->pw_gid) == 0 && ::setuid(nobody->pw_uid) == 0;
    std::string text = "could not become nobody";
    if (dropped && ::geteuid() != 0) {
      try {
        text = piece();
      } catch (const std::exception& e) {
        text = std::string("exception: ") + e.what();
      }
    }
    for (std::size_t done = 0; done < text.size();) {
      const ssize_t n = ::write(fds[1], text.data() + done, text.size() - done);
      if (n <= 0) break;
      done += static_cast<std::size_t>(n);
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = ::read(fds[0], buffer, sizeof buffer)) > 0;) text.append(buffer, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  return text;
}

}  // namespace prs_test
