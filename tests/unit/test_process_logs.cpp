// Tests of one worker's log files (process_logs.hpp): the paths, the exact attempt and error lines, the folders
// created and the appending, the logging levels.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "prs/error.hpp"
#include "prs/logs/process_logs.hpp"
#include "config_support.hpp"

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;
using prs_test::TempJobDir;

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

prs::AttemptRecord record() {
  prs::AttemptRecord r;
  r.rank = 12;
  r.batch_id = 17;
  r.attempt = 2;
  r.items = 5;
  r.succeeded = 3;
  r.status = "short";
  r.start = 0;
  r.seconds = 1.23456;
  r.run_seconds = 1.2;
  return r;
}

}  // namespace

TEST_CASE("process logs: paths named by host and rank", "[process_logs]") {
  CHECK(prs::process_name(3) == "process003");
  CHECK(prs::process_name(1234) == "process1234");
  prs::ProcessLogPaths p = prs::process_log_paths("/j/logs", "node7", 5);
  CHECK(p.stdout_file == "/j/logs/user/stdout/node7/process005.stdout.txt");
  CHECK(p.stderr_file == "/j/logs/user/stderr/node7/process005.stderr.txt");
  CHECK(p.error_file == "/j/logs/user/error/node7/process005.txt");
  CHECK(p.entry_script_log == "/j/logs/user/entry_script_log/node7/process005.log.txt");
  CHECK(p.sys_file == "/j/logs/sys/node/node7/process005.txt");
}

TEST_CASE("process logs: the attempt line and the error record", "[process_logs]") {
  prs::AttemptRecord r = record();
  const std::string when = prs::log_time(0);
  CHECK(prs::attempt_line(r) == when + " rank 12 mini-batch 17 attempt 2: short, items 5 succeeded 3 failed 2, "
                                       "1.235 s (run() 1.200 s)");
  Strings items = {"/d/a", "/d/b", "/d/c", "/d/d", "/d/e"};  // more than it shows
  CHECK(prs::error_record(r, "node7", items, "Traceback\nValueError: x") ==
        "=== " + when + " rank 12 (node7): mini-batch 17, attempt 2 short\nitems (5): /d/a /d/b /d/c ...\n"
        "Traceback\nValueError: x\n");
  CHECK(prs::error_record(r, "node7", {"/d/a", "/d/b", "/d/c"}, "Traceback\nValueError: x") ==
        "=== " + when + " rank 12 (node7): mini-batch 17, attempt 2 short\nitems (5): /d/a /d/b /d/c ...\n"
        "Traceback\nValueError: x\n");
  r.items = 1;
  CHECK(prs::error_record(r, "n", {"/only"}, "E\n") ==
        "=== " + when + " rank 12 (n): mini-batch 17, attempt 2 short\nitems (1): /only\nE\n");
}

TEST_CASE("process logs: folders created, lines appended, the error file only on an error", "[process_logs]") {
  TempJobDir dir;
  prs::ProcessLogPaths p = prs::process_log_paths(dir.root() + "/logs", "host", 1);
  {
    prs::ProcessLogs logs(p);
    logs.sys_line("one");
    for (const std::string& f : {p.stdout_file, p.stderr_file, p.error_file, p.entry_script_log, p.sys_file})
      CHECK(fs::is_directory(fs::path(f).parent_path()));
    CHECK_FALSE(fs::exists(p.error_file));
  }
  prs::ProcessLogs again(p);  // a restart or a resumed run
  again.sys_line("two");
  again.error("E1\n");
  again.error("E2\n");
  CHECK(read(p.sys_file) == "one\ntwo\n");
  CHECK(read(p.error_file) == "E1\nE2\n");
}

TEST_CASE("process logs: a folder that cannot be created is an error naming it", "[process_logs]") {
  TempJobDir dir;
  std::ofstream(dir.root() + "/logs") << "a file, not a folder";
  try {
    prs::ProcessLogs logs(prs::process_log_paths(dir.root() + "/logs", "host", 1));
    FAIL("no error");
  } catch (const prs::Error& e) {
    CHECK(std::string(e.what()).rfind(dir.root() + "/logs/user/stdout/host: cannot create the logs folder: ", 0) == 0);
  }
}

TEST_CASE("process logs: logging levels as Python numbers them", "[process_logs]") {
  CHECK(prs::log_level_number("DEBUG") == 10);
  CHECK(prs::log_level_number("INFO") == 20);
  CHECK(prs::log_level_number("WARNING") == 30);
  CHECK(prs::log_level_number("ERROR") == 40);
}
