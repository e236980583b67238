// Tests of the job YAML's values: the example job, the resolved settings and their origins, defaults, the range of
// every integer setting, mini_batch_size, wrong types, flags, levels and file names.
#include <catch2/catch.hpp>
#include <climits>

#include "prs/config/config.hpp"
#include "config_support.hpp"

using Strings = std::vector<std::string>;
using namespace prs_test::basic;  // JobDir, example_job, write_job, load, load_job, error_of
using prs_test::minimal_job;
using prs_test::resolved;

TEST_CASE("config: the example job, every key parsed", "[config_values]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, example_job);
  CHECK(c.job_file == dir / "job.yml");
  CHECK(c.job_name == "job.yml");
  CHECK(c.input_kind == prs::InputKind::file_list);
  CHECK(c.input_path == dir / "data");
  CHECK(c.mini_batch_size == 10);
  CHECK(c.instance_count == 2);
  CHECK(c.max_concurrency_per_instance == 4);
  CHECK(c.mini_batch_error_threshold == 5);
  CHECK(c.max_retries == 2);
  CHECK(c.timeout == 60);
  CHECK(c.logging_level == "INFO");
  CHECK(c.environment_variables == std::vector<std::pair<std::string, std::string>>{{"OMP_NUM_THREADS", "1"}});
  CHECK(c.code_dir == dir / "src");
  CHECK(c.entry_script == dir / "src/score.py");
  CHECK(c.program_arguments == Strings{"--model", dir / "model", "--allowed_failed_percent", "30"});
  CHECK(c.allowed_failed_percent == 30);
  CHECK(c.output_action == prs::OutputAction::append_row);
  CHECK(c.append_row_file == dir / "out/predictions.txt");
  CHECK(c.output_dirs == Strings{dir / "out"});
  CHECK(c.log_dir == dir / "out/logs");
  CHECK(prs::journal_path(c) == dir / "out/logs/journal.bin");
}

TEST_CASE("config: the resolved settings list every setting with its origin, in a stable order", "[config_values]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, example_job, {"retry_settings.timeout=30"});
  Strings keys;
  for (const prs::ResolvedSetting& setting : c.resolved) keys.push_back(setting.key);
  CHECK(keys == Strings{"mini_batch_size", "resources.instance_count", "max_concurrency_per_instance",
                        "mini_batch_error_threshold", "retry_settings.max_retries", "retry_settings.timeout",
                        "logging_level", "error_threshold", "allowed_failed_percent", "task_overhead_timeout",
                        "progress_update_timeout", "first_task_creation_timeout", "resource_monitor_interval",
                        "copy_logs_to_parent", "append_row_file_name", "append_row_dataframe_header", "ordered",
                        "max_tasks_per_child", "max_memory_per_child", "quarantine_after_failures", "input_data",
                        "inputs.input_data.path", "inputs.score_model.path", "outputs.job_output_file.path",
                        "task.code", "task.entry_script", "task.program_arguments", "output_action",
                        "task.append_row_to", "environment_variables.OMP_NUM_THREADS"});
  CHECK(resolved(c, "mini_batch_size") == "10 (job.yml:8)");
  CHECK(resolved(c, "retry_settings.timeout") == "30 (--set)");
  CHECK(resolved(c, "allowed_failed_percent") == "30 (program_arguments (job.yml:19))");
  CHECK(resolved(c, "error_threshold") == "-1 (default)");
  CHECK(resolved(c, "input_data") == dir / "data (job.yml:7)");
  CHECK(resolved(c, "task.program_arguments") ==
        "--model " + dir / "model --allowed_failed_percent 30 (job.yml:19)");
  CHECK(resolved(c, "task.append_row_to") == dir / "out/predictions.txt (job.yml:20)");
  CHECK(resolved(c, "environment_variables.OMP_NUM_THREADS") == "1 (job.yml:14)");
}

TEST_CASE("config: defaults of a minimal job", "[config_values]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, minimal_job());
  CHECK(c.mini_batch_size == 10);
  CHECK(c.instance_count == 1);
  CHECK(c.max_concurrency_per_instance == 0);
  CHECK(c.mini_batch_error_threshold == -1);
  CHECK(c.error_threshold == -1);
  CHECK(c.allowed_failed_percent == 100);
  CHECK(c.max_retries == 2);
  CHECK(c.timeout == 60);
  CHECK(c.task_overhead_timeout == 600);
  CHECK(c.progress_update_timeout == 0);
  CHECK(c.first_task_creation_timeout == 600);
  CHECK(c.resource_monitor_interval == 600);
  CHECK_FALSE(c.copy_logs_to_parent);
  CHECK(c.logging_level == "INFO");
  CHECK_FALSE(c.append_row_dataframe_header);
  CHECK(c.environment_variables.empty());
  CHECK(c.code_dir == dir.root());
  CHECK(c.entry_script == dir / "score.py");
  CHECK(c.program_arguments.empty());
  CHECK(c.output_action == prs::OutputAction::summary_only);  // no append_row_to
  CHECK(c.append_row_file.empty());
  CHECK(c.output_dirs.empty());
  CHECK(c.log_dir == dir / "logs");
  CHECK(resolved(c, "retry_settings.timeout") == "60 (default)");
  CHECK(resolved(c, "append_row_file_name") == "parallel_run_step.txt (default)");
  CHECK(resolved(c, "output_action") == "summary_only (default)");
  CHECK(resolved(c, "task.code") == dir.root() + " (default)");
  CHECK(resolved(c, "name") == "missing");
  CHECK(resolved(load_job(dir, minimal_job("name: scoring\n")), "name") == "scoring (job.yml:7)");
}

TEST_CASE("config: the boundaries of every integer setting", "[config_values]") {
  const JobDir dir;
  write_job(dir, minimal_job());
  struct Case {
    std::string key;
    std::string good;
    std::string bad;
    std::string range;
  };
  const std::string int_max = std::to_string(INT_MAX);
  const std::string too_big = std::to_string(static_cast<long long>(INT_MAX) + 1);
  const Case cases[] = {
      {"resources.instance_count", "1", "0", "[1, " + int_max + "]"},
      {"max_concurrency_per_instance", "1", "0", "[1, " + int_max + "]"},
      {"mini_batch_error_threshold", "-1", "-2", "[-1, " + int_max + "]"},
      {"mini_batch_error_threshold", int_max, too_big, "[-1, " + int_max + "]"},
      {"retry_settings.max_retries", "0", "-1", "[0, " + int_max + "]"},
      {"retry_settings.timeout", "259200", "259201", "(0, 259200]"},
      {"retry_settings.timeout", "1", "0", "(0, 259200]"},
      {"error_threshold", "-1", "-2", "[-1, " + int_max + "]"},
      {"allowed_failed_percent", "100", "101", "[0, 100]"},
      {"allowed_failed_percent", "0", "-1", "[0, 100]"},
      {"task_overhead_timeout", "259200", "0", "(0, 259200]"},
      {"progress_update_timeout", "1", "0", "(0, 259200]"},
      {"first_task_creation_timeout", "259200", "259201", "(0, 259200]"},
      {"resource_monitor_interval", "0", "-1", "[0, " + int_max + "]"},
      {"resource_monitor_interval", int_max, "99999999999999999999", "[0, " + int_max + "]"},
  };
  for (const Case& c : cases) {
    INFO(c.key);
    const std::string good = c.key + "=" + c.good;
    CHECK(resolved(load({good}), c.key) == c.good + " (--set)");
    const std::string bad = c.key + "=" + c.bad;
    CHECK(error_of(dir, minimal_job(), {bad}) == "--set " + bad + ": " + c.key + ": must be in " + c.range + ", got " + c.bad);
  }
}

TEST_CASE("config: range errors name the job file line or the program_arguments line", "[config_values]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("retry_settings:\n  max_retries: 3\n  timeout: -5\n")) ==
        "job.yml:9: retry_settings.timeout: must be in (0, 259200], got -5");
  CHECK(error_of(dir, minimal_job("  program_arguments: --error_threshold abc\n")) ==
        "job.yml:7: task.program_arguments: --error_threshold: must be a whole number in [-1, 2147483647], got abc");
  CHECK(error_of(dir, minimal_job("  program_arguments: >-\n    --model m\n    --allowed_failed_percent=150\n")) ==
        "job.yml:7: task.program_arguments: --allowed_failed_percent: must be in [0, 100], got 150");
}

TEST_CASE("config: mini_batch_size is a count of files", "[config_values]") {
  const JobDir dir;
  CHECK(load_job(dir, minimal_job("mini_batch_size: 1\n")).mini_batch_size == 1);
  CHECK(load_job(dir, minimal_job("mini_batch_size: \"250\"\n")).mini_batch_size == 250);
  CHECK(error_of(dir, minimal_job("mini_batch_size: 0\n")) ==
        "job.yml:7: mini_batch_size: must be a positive whole number, got 0");
  CHECK(error_of(dir, minimal_job("mini_batch_size: 10kb\n")) ==
        "job.yml:7: mini_batch_size: must be a count of files for a file list input (sizes such as 10kb are for "
        "tabular input), got 10kb");
  CHECK(error_of(dir, minimal_job("mini_batch_size: 1.5\n")) ==
        "job.yml:7: mini_batch_size: must be a positive whole number, got 1.5");
}

TEST_CASE("config: values of the wrong type name the expected type", "[config_values]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("retry_settings: {timeout: 1.5}\n")) ==
        "job.yml:7: retry_settings.timeout: must be a whole number in (0, 259200], got 1.5");
  CHECK(error_of(dir, minimal_job("resources: {instance_count: two}\n")) ==
        "job.yml:7: resources.instance_count: must be a whole number in [1, 2147483647], got two");
  CHECK(error_of(dir, minimal_job("retry_settings: {timeout: {seconds: 5}}\n")) ==
        "job.yml:7: retry_settings.timeout: must be a whole number, got a map");
  CHECK(error_of(dir, minimal_job("mini_batch_size: [1, 2]\n")) ==
        "job.yml:7: mini_batch_size: must be a count of files, got a list");
  CHECK(error_of(dir, minimal_job("retry_settings: 5\n")) == "job.yml:7: retry_settings: must be a map of keys, got 5");
  CHECK(error_of(dir, minimal_job("environment_variables: [A, B]\n")) ==
        "job.yml:7: environment_variables: must be a map of keys, got a list");
  CHECK(error_of(dir, minimal_job("environment_variables: {A: {B: 1}}\n")) ==
        "job.yml:7: environment_variables.A: must be a string, got a map");
  CHECK(error_of(dir, minimal_job("max_concurrency_per_instance:\n")) ==
        "job.yml:7: max_concurrency_per_instance: must be a whole number, got nothing");
  CHECK(error_of(dir, minimal_job(), {"error_threshold="}) ==
        "--set error_threshold=: error_threshold: must be a whole number in [-1, 2147483647], got nothing");
}

TEST_CASE("config: flags, levels and file names", "[config_values]") {
  const JobDir dir;
  CHECK(load_job(dir, minimal_job(), {"copy_logs_to_parent=false"}).copy_logs_to_parent == false);
  CHECK(load_job(dir, minimal_job(), {"append_row_dataframe_header=tRuE"}).append_row_dataframe_header);
  CHECK(load_job(dir, minimal_job("logging_level: warning\n")).logging_level == "WARNING");
  CHECK(load_job(dir, minimal_job("logging_level: error\n")).logging_level == "ERROR");
  CHECK(error_of(dir, minimal_job(), {"copy_logs_to_parent=yes"}) ==
        "--set copy_logs_to_parent=yes: copy_logs_to_parent: must be True or False, got yes");
  CHECK(error_of(dir, minimal_job("  program_arguments: --append_row_dataframe_header 1\n")) ==
        "job.yml:7: task.program_arguments: --append_row_dataframe_header: must be True or False, got 1");
  CHECK(error_of(dir, minimal_job("logging_level: TRACE\n")) ==
        "job.yml:7: logging_level: must be DEBUG, INFO, WARNING or ERROR, got TRACE");
  CHECK(error_of(dir, minimal_job(), {"append_row_file_name=a/b.txt"}) ==
        "--set append_row_file_name=a/b.txt: append_row_file_name: must be a plain file name without '/', got a/b.txt");
  CHECK(error_of(dir, minimal_job(), {"append_row_file_name=.."}) ==
        "--set append_row_file_name=..: append_row_file_name: must be a plain file name without '/', got ..");
}
