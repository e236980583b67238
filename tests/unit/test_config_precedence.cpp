// Tests of where a setting comes from: prs_mpi settings in program_arguments (both forms), and the precedence of
// --set over program_arguments and the job file, which must agree.
#include <catch2/catch.hpp>

#include "prs/config/config.hpp"
#include "config_support.hpp"

using Strings = std::vector<std::string>;
using namespace prs_test::basic;  // JobDir, example_job, write_job, load, load_job, error_of
using prs_test::minimal_job;
using prs_test::resolved;

TEST_CASE("config: every prs_mpi setting read from program_arguments, both forms", "[config_precedence]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, minimal_job(R"(  program_arguments: >-
    --error_threshold 7 --allowed_failed_percent=0 --task_overhead_timeout 1200
    --progress_update_timeout=900 --first_task_creation_timeout 30 --resource_monitor_interval 0
    --copy_logs_to_parent TRUE --append_row_file_name=rows.txt --logging_level debug
    --append_row_dataframe_header True --error_thresholds 1 --other 'x y' -- --error_threshold 9
  append_row_to: out/
)"));
  CHECK(c.error_threshold == 7);
  CHECK(c.allowed_failed_percent == 0);
  CHECK(c.task_overhead_timeout == 1200);
  CHECK(c.progress_update_timeout == 900);
  CHECK(c.first_task_creation_timeout == 30);
  CHECK(c.resource_monitor_interval == 0);
  CHECK(c.copy_logs_to_parent);
  CHECK(c.logging_level == "DEBUG");
  CHECK(c.append_row_dataframe_header);
  CHECK(c.append_row_file == dir / "out/rows.txt");
  CHECK(c.program_arguments.size() == 24);  // all of them, unchanged, for sys.argv
  CHECK(c.program_arguments[20] == "x y");
  CHECK(resolved(c, "copy_logs_to_parent") == "True (program_arguments (job.yml:7))");
  CHECK(load_job(dir, minimal_job("  program_arguments: --error_threshold -1 --timeout 5\n")).error_threshold == -1);
}

TEST_CASE("config: a program_arguments setting without a value", "[config_precedence]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("  program_arguments: --error_threshold\n")) ==
        "job.yml:7: task.program_arguments: --error_threshold: expects a value, e.g. --error_threshold=VALUE");
  CHECK(error_of(dir, minimal_job("  program_arguments: --logging_level --model m\n")) ==
        "job.yml:7: task.program_arguments: --logging_level: expects a value, e.g. --logging_level=VALUE");
  CHECK(error_of(dir, minimal_job("  program_arguments: --model \"m\n")) ==
        "job.yml:7: task.program_arguments: unterminated double quote (\") at character 9 of: --model \"m");
}

// Changed on purpose by the v1/pipeline issue: program_arguments no longer win quietly over the job file; the two
// must agree (see test_config_v1_names.cpp for the conflict messages), and --set still overrides both silently.
TEST_CASE("config: precedence is --set over program_arguments and the job file, which must agree", "[config_precedence]") {
  const JobDir dir;
  const std::string job = minimal_job("  program_arguments: --logging_level debug --error_threshold 5\n"
                                      "logging_level: WARNING\n"
                                      "retry_settings: {timeout: 90}\n");
  CHECK(error_of(dir, job) == "job.yml:8: logging_level: gives logging_level = WARNING, but job.yml:7 "
                              "(task.program_arguments: --logging_level) gives DEBUG; keep one of them");
  const prs::JobConfig agreeing = load_job(dir, minimal_job("  program_arguments: --logging_level debug\n"
                                                            "logging_level: Debug\n"));
  CHECK(agreeing.logging_level == "DEBUG");
  CHECK(resolved(agreeing, "logging_level") == "DEBUG (program_arguments (job.yml:7))");
  const prs::JobConfig from_set =
      load_job(dir, job, {"logging_level=info", "error_threshold=7", "retry_settings.timeout=30", "mini_batch_size=3"});
  CHECK(from_set.logging_level == "INFO");
  CHECK(resolved(from_set, "logging_level") == "INFO (--set)");
  CHECK(from_set.error_threshold == 7);
  CHECK(from_set.timeout == 30);
  CHECK(from_set.mini_batch_size == 3);
  const Strings last_wins{"logging_level=info", "error_threshold=1", "error_threshold=2"};
  CHECK(load_job(dir, job, last_wins).error_threshold == 2);  // the last --set wins
  const prs::JobConfig new_arguments = load_job(dir, job, {"task.program_arguments=--error_threshold 11"});
  CHECK(new_arguments.error_threshold == 11);
  CHECK(new_arguments.logging_level == "WARNING");
  CHECK(resolved(new_arguments, "error_threshold") == "11 (program_arguments (--set))");
}

TEST_CASE("config: --set reaches paths, inputs and environment variables", "[config_precedence]") {
  const JobDir dir;
  dir.write("other/run.py", "");
  dir.mkdir("data2");
  const prs::JobConfig c = load_job(dir, minimal_job(), {"task.code=other", "task.entry_script=run.py",
                                                         "inputs.input_data.path=data2", "environment_variables.A=1",
                                                         "task.append_row_to=results.txt"});
  CHECK(c.entry_script == dir / "other/run.py");
  CHECK(c.input_path == dir / "data2");
  CHECK(c.environment_variables == std::vector<std::pair<std::string, std::string>>{{"A", "1"}});
  CHECK(c.append_row_file == dir / "results.txt");
  CHECK(error_of(dir, minimal_job(), {"timeot=5"}) ==
        "--set timeot=5: timeot: unknown setting; give a job file key (mini_batch_size, retry_settings.timeout, ...) "
        "or a program_arguments setting (error_threshold, allowed_failed_percent, ...)");
  CHECK(error_of(dir, minimal_job(), {"retry_settings=5"}).rfind("--set retry_settings=5: retry_settings: unknown setting;", 0) == 0);
  CHECK(error_of(dir, minimal_job(), {"mini_batch_size"}) ==
        "--set mini_batch_size: expected key=value, e.g. --set mini_batch_size=100");
}
