// The progress reports' texts: the overview in the service's wording, the plain line, the bar; the trace's events.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "config_support.hpp"
#include "prs/error.hpp"
#include "prs/logs/job_logs.hpp"
#include "prs/logs/progress.hpp"
#include "prs/logs/trace.hpp"
#include "prs/master/job_lock.hpp"
#include "prs/master/status.hpp"

namespace {

using prs_test::TempJobDir;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

prs::ProgressSnapshot sample() {
  prs::ProgressSnapshot s;
  s.done = 4117;
  s.total = 20000;
  s.failed = 3;
  s.retried = 5;
  s.in_flight = 8;
  s.elapsed = 5 * 3600 + 2 * 60 + 14;
  s.rate = 0.25;
  s.eta = 19 * 3600 + 25 * 60 + 59;
  return s;
}

}  // namespace

TEST_CASE("progress: the overview file in the service's wording", "[progress]") {
  CHECK(prs::overview_text(sample()) ==
        "Processed 4117 of 20000 mini batches in 5:02:14. Estimated remaining time 19:25:59.\n"
        "Failed mini batches: 3. Retried attempts: 5. Running attempts: 8.\n");
  prs::ProgressSnapshot none;  // nothing ended yet: no estimate
  none.total = 7;
  CHECK(prs::overview_text(none) ==
        "Processed 0 of 7 mini batches in 0:00:00.\nFailed mini batches: 0. Retried attempts: 0. Running attempts: 0.\n");
}

TEST_CASE("progress: the plain line keeps its wording and adds rate and time left", "[progress]") {
  CHECK(prs::progress_line(sample()) ==
        "prs_mpi: processed 4117 of 20000 mini-batches (3 failed, 5 retried) in 5:02:14; 0.25/s, 19:25:59 left");
  prs::ProgressSnapshot none;
  none.total = 7;
  CHECK(prs::progress_line(none) == "prs_mpi: processed 0 of 7 mini-batches (0 failed, 0 retried) in 0:00:00");
}

TEST_CASE("progress: the bar fits its width and fills with the share done", "[progress]") {
  prs::ProgressSnapshot s;
  s.done = 5;
  s.total = 10;
  s.rate = 12;
  s.eta = 1;
  CHECK(prs::progress_bar(s, 80) ==
        "[####################....................]  5/10  50%  12/s  ETA 0:00:01");
  const std::string numbers = "4117/20000  20%  0.25/s  ETA 19:25:59  3 failed  5 retried";
  CHECK(prs::progress_bar(sample(), 80) == "[###..............]  " + numbers);  // 79 columns: 17 cells
  CHECK(prs::progress_bar(sample(), 60) == numbers);                       // too narrow for cells: the numbers
  CHECK(prs::progress_bar(sample(), 30) == numbers.substr(0, 29));         // cut to the width
}

TEST_CASE("progress: --progress names", "[progress]") {
  CHECK(prs::parse_progress_mode("bar") == prs::ProgressMode::bar);
  CHECK(prs::parse_progress_mode("lines") == prs::ProgressMode::lines);
  CHECK(prs::parse_progress_mode("none") == prs::ProgressMode::none);
  CHECK(prs::parse_progress_mode("auto") == prs::ProgressMode::auto_detect);
  CHECK_THROWS_WITH(prs::parse_progress_mode("fancy"), "--progress: expected auto, bar, lines or none, got fancy");
  CHECK(prs::resolve_progress_mode(prs::ProgressMode::none) == prs::ProgressMode::none);
}

TEST_CASE("progress: the status snapshot is JSON with the slowest running attempts", "[progress]") {
  prs::ProgressSnapshot s = sample();
  s.slowest = {{12, 2, 3, "node\"7", 41.5}};
  const nlohmann::json j = nlohmann::json::parse(prs::progress_json(s));
  CHECK(j["mini_batches"] ==
        nlohmann::json{{"total", 20000}, {"done", 4117}, {"failed", 3}, {"in_flight", 8},
                       {"still_listing", false}});
  CHECK(j["eta_seconds"] == 69959.0);
  CHECK(j["slowest_running"] == nlohmann::json::array({{{"mini_batch", 12}, {"attempt", 2}, {"rank", 3},
                                                        {"host", "node\"7"}, {"seconds", 41.5}}}));
}

TEST_CASE("trace: spans and track names in the Chrome trace event format", "[progress]") {
  prs::TraceRecorder off;
  CHECK_FALSE(off.on());
  off.span(1, "x", "run", 0, 1);  // nothing recorded, nothing written
  off.write();
  const TempJobDir dir;
  prs::TraceRecorder t(dir / "trace.json");
  t.track(2, "rank 2 (node\"7)");
  t.span(2, "mini-batch 4", "run", 1.5, 0.25, "\"mini_batch\":4");
  t.span(0, "dispatch", "master", 0, -1);  // a negative duration (clock skew) is written as 0
  t.write();
  const nlohmann::json j = nlohmann::json::parse(read_file(dir / "trace.json"));
  const nlohmann::json& e = j["traceEvents"];
  REQUIRE(e.size() == 4);
  CHECK(e[0] == nlohmann::json{{"name", "thread_name"}, {"ph", "M"}, {"pid", 1}, {"tid", 3},
                               {"args", {{"name", "rank 2 (node\"7)"}}}});
  CHECK(e[1] == nlohmann::json{{"name", "thread_sort_index"}, {"ph", "M"}, {"pid", 1}, {"tid", 3},
                               {"args", {{"sort_index", 2}}}});
  CHECK(e[2] == nlohmann::json{{"name", "mini-batch 4"}, {"cat", "run"}, {"ph", "X"}, {"pid", 1}, {"tid", 3},
                               {"ts", 1500000}, {"dur", 250000}, {"args", {{"mini_batch", 4}}}});
  CHECK(e[3]["dur"] == 0);
  CHECK(j["otherData"]["origin_unix_seconds"] == 0);
  CHECK(prs::json_quoted("a\"b\n") == "\"a\\\"b\\n\"");
}

TEST_CASE("trace: spans after shift() move by its seconds; the origin is written", "[progress]") {
  const TempJobDir dir;
  prs::TraceRecorder t(dir / "trace.json");
  t.origin(1764583200.25);
  t.span(0, "MPI_Init", "startup", 0, 0.3);
  t.shift(0.5);
  t.span(0, "dispatch", "master", 0.25, 1);
  t.write();
  const nlohmann::json j = nlohmann::json::parse(read_file(dir / "trace.json"));
  CHECK(j["otherData"]["origin_unix_seconds"] == 1764583200.25);
  CHECK(j["traceEvents"][0]["ts"] == 0);
  CHECK(j["traceEvents"][0]["dur"] == 300000);
  CHECK(j["traceEvents"][1]["ts"] == 750000);
}

TEST_CASE("progress: readme.txt names every file the logs folder gets", "[progress]") {
  const TempJobDir dir;
  prs::JobLogs logs(dir / "logs", false);
  logs.write_running();
  prs::ProgressReporter progress(prs::ProgressMode::none, 5, logs.dir());
  progress.finish(sample());
  logs.write_result(prs::JobOutcome{}, "");
  CHECK(read_file(progress.overview_path()) == prs::overview_text(sample()));
  const std::string readme = read_file(dir / "logs/readme.txt");
  int files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir / "logs")) {
    if (!entry.is_regular_file()) continue;
    std::string name = std::filesystem::relative(entry.path(), dir / "logs").string();
    if (name.rfind("job_progress_overview.", 0) == 0) name = "job_progress_overview.<timestamp>.txt";
    INFO(name);
    const bool listed = readme.find("\n" + name + " ") != std::string::npos ||
                        readme.find("\n" + name + "\n") != std::string::npos;  // a long name has a line of its own
    CHECK(listed);
    ++files;
  }
  CHECK(files == 7);  // readme, result, summary, overview, error, master_role, job_progress.json
}

TEST_CASE("status: the job lock is seen held while a job holds it, and free after, without taking it", "[progress]") {
  const TempJobDir dir;
  const std::string path = prs::job_lock_path(dir.root());
  CHECK_FALSE(prs::lock_is_held(path));  // no file
  {
    prs::JobLock lock = prs::JobLock::take(path, "job.yml", 0);
    CHECK(prs::lock_is_held(path));
    CHECK(prs::lock_is_held(path));  // looking twice does not take or drop it
    CHECK_THROWS_WITH(prs::JobLock::take(path, "job.yml", 0),
                      Catch::Matchers::Contains("another prs_mpi job is using this output"));
  }
  CHECK_FALSE(prs::lock_is_held(path));
}

TEST_CASE("progress: while the input is still listed the total is a lower bound and there is no estimate",
          "[progress]") {
  prs::ProgressSnapshot s = sample();
  s.listing = true;
  s.eta.reset();
  CHECK(prs::overview_text(s) ==
        "Processed 4117 of 20000+ (still listing) mini batches in 5:02:14.\n"
        "Failed mini batches: 3. Retried attempts: 5. Running attempts: 8.\n");
  CHECK(prs::progress_line(s) == "prs_mpi: processed 4117 of 20000+ (still listing) mini-batches (3 failed, 5 "
                                 "retried) in 5:02:14; 0.25/s, ? left");
  const std::string bar = prs::progress_bar(s, 120);
  CHECK(bar.find("  4117/20000+  ?%  ") != std::string::npos);
  CHECK(nlohmann::json::parse(prs::progress_json(s))["mini_batches"]["still_listing"] == true);
}
