// Tests of the logs a job's end writes: job_summary.json (built with nlohmann/json, parsed back here) and
// job_result.txt, with a reason and an output path holding every kind of byte that JSON must escape or replace.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "prs/logs/job_logs.hpp"
#include "config_support.hpp"

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;
using prs_test::TempJobDir;  // a fresh temporary folder, removed when the test ends

namespace {

// A quote, a backslash, a newline, a tab, a control byte, UTF-8 (é, 日本) and an invalid UTF-8 byte (\xff).
const std::string awkward = "say \"hi\" C:\\tmp\nnext\ttab \x01 café 日本 \xff end";
// The same as JSON gives it back: the invalid byte replaced by U+FFFD, everything else unchanged.
const std::string awkward_parsed = "say \"hi\" C:\\tmp\nnext\ttab \x01 café 日本 \xef\xbf\xbd end";
// The same as it stands in the file: escaped, UTF-8 as is.
const std::string awkward_escaped = R"(say \"hi\" C:\\tmp\nnext\ttab \u0001 café 日本 )"
                                    "\xef\xbf\xbd"
                                    " end";

// A failed job with a distinct number in every count.
prs::JobOutcome failed_outcome() {
  prs::JobOutcome o;
  o.code = prs::ExitCode::job_failed;
  o.reason = "mini-batch 3: " + awkward;
  o.counts = {7, 4, 2, 30, 20, 6, 11, 3, 1, 1234, 1};
  o.workers = {10, 5, 2, 1234, 2500000};
  o.workers_started = 3;
  o.workers_retired = 1;
  o.workers_lost = 1;
  o.workers_quarantined = 2;
  o.python_restarts = 4;
  o.seconds = 3725.5;
  o.dispatch_seconds = 0.25;
  o.master_cpu_seconds = 0.125;
  o.journal_seconds = 0.0625;
  o.journal_bytes = 432;
  return o;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Writes the result of `outcome` into <dir>/logs and returns the folder.
std::string write_result(const TempJobDir& dir, const prs::JobOutcome& outcome, const std::string& output_file) {
  prs::JobLogs logs(dir / "logs", false);
  logs.write_result(outcome, output_file);
  return logs.dir();
}

}  // namespace

TEST_CASE("job_logs: job_summary.json keeps a reason and an output path with quotes, control bytes, UTF-8 and "
          "invalid UTF-8",
          "[job_logs]") {
  std::string root;
  {
    const TempJobDir dir;
    root = dir.root();
    const std::string output = dir / ("out/" + awkward + ".txt");
    const std::string logs = write_result(dir, failed_outcome(), output);
    CHECK(logs == dir / "logs");

    const std::string text = read_file(logs + "/job_summary.json");
    CHECK(text.find("\n  \"reason\": \"mini-batch 3: " + awkward_escaped + "\",\n") != std::string::npos);
    const nlohmann::ordered_json ordered = nlohmann::ordered_json::parse(text);
    Strings keys;
    for (const auto& item : ordered.items()) keys.push_back(item.key());
    CHECK(keys == Strings{"status", "exit_code", "reason", "output", "mini_batches", "items", "attempts", "workers",
                          "output_bytes", "seconds", "dispatch_seconds", "run_seconds", "master_cpu_seconds",
                          "journal_seconds", "journal_bytes", "throughput", "timings", "per_worker", "per_node"});

    const nlohmann::json j = nlohmann::json::parse(text);
    CHECK(j["status"] == "failed");
    CHECK(j["exit_code"] == 1);
    CHECK(j["reason"].get<std::string>() == "mini-batch 3: " + awkward_parsed);
    CHECK(j["output"].get<std::string>() == dir / ("out/" + awkward_parsed + ".txt"));
    CHECK(j["mini_batches"] == nlohmann::json{{"total", 7}, {"succeeded", 4}, {"failed", 2}, {"unconfirmed", 1}});
    CHECK(j["items"] == nlohmann::json{{"total", 30}, {"succeeded", 20}, {"failed", 6}});
    CHECK(j["attempts"] == nlohmann::json{{"total", 11}, {"retried", 3}, {"cancelled", 1},
                                          {"run_calls", 10}, {"failed", 5}, {"timed_out", 2}});
    CHECK(j["workers"] ==
          nlohmann::json{{"started", 3}, {"retired", 1}, {"lost", 1}, {"quarantined", 2}, {"python_restarts", 4}});
    CHECK(j["output_bytes"] == 1234);
    CHECK(j["seconds"] == 3725.5);
    CHECK(j["dispatch_seconds"] == 0.25);
    CHECK(j["run_seconds"] == 2.5);
    CHECK(j["master_cpu_seconds"] == 0.125);
    CHECK(j["journal_seconds"] == 0.0625);
    CHECK(j["journal_bytes"] == 432);

    // job_result.txt keeps the exact bytes, invalid UTF-8 included.
    CHECK(read_file(logs + "/job_result.txt") ==
          "failed: mini-batch 3: " + awkward + "\n"
          "mini-batches: 7 in all, 4 succeeded, 2 failed, 1 never confirmed written, 0 not processed\n"
          "items: 30 in all, 20 succeeded, 6 failed\n"
          "attempts: 11 (3 retried, 2 timed out)\n"
          "workers: 3 started, 1 retired after init() failed, 1 lost, 2 quarantined; 4 Python processes restarted\n"
          "time: 1:02:06\n"
          "output: " + output + "\n"
          "entry-script errors: " + logs + "/user/error.txt\n");
    CHECK_FALSE(fs::exists(logs + "/job_summary.json.tmp"));
  }
  CHECK_FALSE(fs::exists(root));  // the test's folder is gone
}

TEST_CASE("job_logs: a successful summary_only job: reason empty, output null, no output line", "[job_logs]") {
  const TempJobDir dir;
  prs::JobOutcome o;
  o.counts = {2, 2, 0, 5, 5, 0, 2, 0, 0, 0};
  o.workers_started = 1;
  const std::string logs = write_result(dir, o, "");
  const nlohmann::json j = nlohmann::json::parse(read_file(logs + "/job_summary.json"));
  CHECK(j["status"] == "succeeded");
  CHECK(j["exit_code"] == 0);
  CHECK(j["reason"] == "");
  CHECK(j["output"].is_null());
  CHECK(j["mini_batches"] == nlohmann::json{{"total", 2}, {"succeeded", 2}, {"failed", 0}, {"unconfirmed", 0}});
  CHECK(j["output_bytes"] == 0);
  CHECK(read_file(logs + "/job_result.txt") ==
        "succeeded\n"
        "mini-batches: 2 in all, 2 succeeded, 0 failed, 0 not processed\n"
        "items: 5 in all, 5 succeeded, 0 failed\n"
        "attempts: 2 (0 retried, 0 timed out)\n"
        "workers: 1 started, 0 retired after init() failed, 0 lost, 0 quarantined; 0 Python processes restarted\n"
        "time: 0:00:00\n");
}

TEST_CASE("job_logs: an interrupted job says so in both files", "[job_logs]") {
  const TempJobDir dir;
  prs::JobOutcome o;
  o.code = prs::ExitCode::interrupted;
  o.reason = "SIGTERM";
  const std::string logs = write_result(dir, o, dir / "out/rows.txt");
  const nlohmann::json j = nlohmann::json::parse(read_file(logs + "/job_summary.json"));
  CHECK(j["status"] == "interrupted");
  CHECK(j["exit_code"] == 3);
  CHECK(j["reason"] == "SIGTERM");
  CHECK(j["output"] == dir / "out/rows.txt");
  const std::string result = read_file(logs + "/job_result.txt");
  CHECK(result.substr(0, result.find('\n')) == "interrupted: SIGTERM; resumable with --resume");
}

TEST_CASE("job_logs: per-worker, per-node and timing stats, throughput and the resolved settings", "[job_logs]") {
  prs::JobOutcome o;
  o.dispatch_seconds = 2;
  o.per_worker = {{1, "a", "active", 0.5, 3, 1, 6, 1.5}, {2, "b", "lost", -1, 0, 0, 0, 0}, {3, "a", "active", 1, 1, 0, 2, 0.5}};
  for (double v : {1.0, 0.5}) o.init_times.add(v);
  for (double v : {0.4, 0.1, 0.3, 0.2, 1.0, 0.5, 0.6, 0.7, 0.8, 0.9}) o.run_times.add(v);
  prs::JobConfig config;
  config.resolved = {{"mini_batch_size", "3", "job.yml:7"}, {"retry_settings.timeout", "30", "--set"}};
  config.ignored_keys = {"compute (job.yml:9)"};
  const nlohmann::json j = nlohmann::json::parse(prs::summary_json(o, "", &config));
  CHECK(j["throughput"] == nlohmann::json{{"attempts_per_second", 5.0}, {"items_per_second", 4.0}});
  CHECK(j["timings"]["init"] == nlohmann::json{{"count", 2}, {"p50", 0.5}, {"p95", 1.0}, {"max", 1.0}});
  CHECK(j["timings"]["run"] == nlohmann::json{{"count", 10}, {"p50", 0.5}, {"p95", 1.0}, {"max", 1.0}});
  CHECK(j["per_worker"].size() == 3);
  CHECK(j["per_worker"][0] == nlohmann::json{{"rank", 1}, {"host", "a"}, {"state", "active"}, {"init_seconds", 0.5},
                                             {"attempts", 3}, {"failed", 1}, {"items_succeeded", 6},
                                             {"run_seconds", 1.5}});
  CHECK(j["per_worker"][1]["init_seconds"].is_null());  // never ready
  CHECK(j["per_node"] == nlohmann::json::array({{{"host", "a"}, {"workers", 2}, {"attempts", 4}, {"failed", 1},
                                                 {"items_succeeded", 8}, {"run_seconds", 2.0}},
                                                {{"host", "b"}, {"workers", 1}, {"attempts", 0}, {"failed", 0},
                                                 {"items_succeeded", 0}, {"run_seconds", 0.0}}}));
  CHECK(j["settings"][1] == nlohmann::json{{"key", "retry_settings.timeout"}, {"value", "30"}, {"origin", "--set"}});
  CHECK(j["ignored_keys"] == nlohmann::json::array({"compute (job.yml:9)"}));
  CHECK_FALSE(nlohmann::json::parse(prs::summary_json(o, "")).contains("settings"));  // no config, no settings
}

TEST_CASE("job_logs: a time sample stays bounded, keeps the exact count and max, and stays uniform", "[job_logs]") {
  prs::TimeSample sample;
  const std::uint64_t n = 3 * prs::TimeSample::kept;
  for (std::uint64_t i = 0; i < n; ++i) sample.add(static_cast<double>(i % 1000));  // uniform on [0, 1000)
  sample.add(5000);
  CHECK(sample.values.size() == prs::TimeSample::kept);
  CHECK(sample.seen == n + 1);
  const nlohmann::json j = nlohmann::json::parse(prs::summary_json([&] {
    prs::JobOutcome o;
    o.run_times = sample;
    return o;
  }(), ""));
  CHECK(j["timings"]["run"]["count"] == n + 1);
  CHECK(j["timings"]["run"]["max"] == 5000.0);
  CHECK(j["timings"]["run"]["p50"].get<double>() == Approx(500).margin(15));  // a uniform sample's median
  CHECK(j["timings"]["run"]["p95"].get<double>() == Approx(950).margin(15));
}
