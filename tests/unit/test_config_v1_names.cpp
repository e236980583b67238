// Tests of the v1 ParallelRunConfig names users bring from the cloud service and their semantics, the same setting
// given twice (under two names, or in the job file and program_arguments), and program-argument prefixes.
// Every message is asserted whole.
#include <catch2/catch.hpp>

#include "prs/config/config.hpp"
#include "prs/config/config_keys.hpp"
#include "config_support.hpp"

using Strings = std::vector<std::string>;
using namespace prs_test::cloud;  // JobDir, options, load_job, error_of
using prs_test::minimal_job;
using prs_test::resolved;

// ---- v1 names ----

TEST_CASE("config_v1: every v1 ParallelRunConfig name gives its v2 setting", "[config_v1_names]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, R"(type: parallel
inputs: {input_data: {path: data}}
input_data: ${{inputs.input_data}}
node_count: 3
process_count_per_node: 2
run_invocation_timeout: 30
run_max_try: 3
allowed_failed_count: 4
error_threshold: 5
allowed_failed_percent: 25
append_row_file_name: rows.txt
output_action: append_row
source_directory: src
entry_script: score.py
environment_variables: {A: "1"}
mini_batch_size: 7
logging_level: WARNING
task: {append_row_to: out/}
)");
  CHECK(c.instance_count == 3);
  CHECK(c.max_concurrency_per_instance == 2);
  CHECK(c.timeout == 30);
  CHECK(c.max_retries == 2);  // 3 tries = 2 retries
  CHECK(c.mini_batch_error_threshold == 4);
  CHECK(c.error_threshold == 5);  // the item threshold
  CHECK(c.allowed_failed_percent == 25);
  CHECK(c.append_row_file == dir / "out/rows.txt");
  CHECK(c.output_action == prs::OutputAction::append_row);
  CHECK(c.code_dir == dir / "src");
  CHECK(c.entry_script == dir / "src/score.py");
  CHECK(c.environment_variables == std::vector<std::pair<std::string, std::string>>{{"A", "1"}});
  CHECK(c.mini_batch_size == 7);
  CHECK(c.logging_level == "WARNING");
  CHECK(c.ignored_keys.empty());
  CHECK(resolved(c, "resources.instance_count") == "3 (job.yml:4)");
  CHECK(resolved(c, "max_concurrency_per_instance") == "2 (job.yml:5)");
  CHECK(resolved(c, "retry_settings.timeout") == "30 (job.yml:6)");
  CHECK(resolved(c, "retry_settings.max_retries") == "2 (job.yml:7)");
  CHECK(resolved(c, "mini_batch_error_threshold") == "4 (job.yml:8)");
  CHECK(resolved(c, "error_threshold") == "5 (job.yml:9)");
  CHECK(resolved(c, "allowed_failed_percent") == "25 (job.yml:10)");
  CHECK(resolved(c, "append_row_file_name") == "rows.txt (job.yml:11)");
  CHECK(resolved(c, "task.code") == dir / "src (job.yml:13)");
  CHECK(resolved(c, "task.entry_script") == dir / "src/score.py (job.yml:14)");
}

TEST_CASE("config_v1: run_max_try counts tries: N tries are N - 1 retries, N in [1, int max]", "[config_v1_names]") {
  const JobDir dir;
  CHECK(load_job(dir, minimal_job("run_max_try: 1\n")).max_retries == 0);
  CHECK(load_job(dir, minimal_job("run_max_try: 2147483647\n")).max_retries == 2147483646);
  CHECK(error_of(dir, minimal_job("run_max_try: 0\n")) == "job.yml:7: run_max_try: must be in [1, 2147483647], got 0");
  CHECK(error_of(dir, minimal_job("run_max_try: many\n")) ==
        "job.yml:7: run_max_try: must be a whole number in [1, 2147483647], got many");
  const prs::JobConfig set = load_job(dir, minimal_job("retry_settings: {max_retries: 1}\n"), options({"run_max_try=5"}));
  CHECK(set.max_retries == 4);
  CHECK(resolved(set, "retry_settings.max_retries") == "4 (--set)");
  CHECK(error_of(dir, minimal_job(), options({"run_max_try=0"})) ==
        "--set run_max_try=0: run_max_try: must be in [1, 2147483647], got 0");
}

TEST_CASE("config_v1: other v1 ranges and values are checked under their own names", "[config_v1_names]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("node_count: 0\n")) == "job.yml:7: node_count: must be in [1, 2147483647], got 0");
  CHECK(error_of(dir, minimal_job("process_count_per_node: 0\n")) ==
        "job.yml:7: process_count_per_node: must be in [1, 2147483647], got 0");
  CHECK(error_of(dir, minimal_job("run_invocation_timeout: 259201\n")) ==
        "job.yml:7: run_invocation_timeout: must be in (0, 259200], got 259201");
  CHECK(error_of(dir, minimal_job("allowed_failed_count: -2\n")) ==
        "job.yml:7: allowed_failed_count: must be in [-1, 2147483647], got -2");
  CHECK(error_of(dir, minimal_job("error_threshold: -2\n")) ==
        "job.yml:7: error_threshold: must be in [-1, 2147483647], got -2");
  CHECK(error_of(dir, minimal_job("allowed_failed_percent: 101\n")) ==
        "job.yml:7: allowed_failed_percent: must be in [0, 100], got 101");
  CHECK(error_of(dir, minimal_job("append_row_file_name: a/b.txt\n")) ==
        "job.yml:7: append_row_file_name: must be a plain file name without '/', got a/b.txt");
  CHECK(error_of(dir, minimal_job("output_action: summary\n")) ==
        "job.yml:7: output_action: must be append_row or summary_only, got summary");
  CHECK(error_of(dir, minimal_job("source_directory: nowhere\n")) ==
        "job.yml:7: source_directory: " + dir / "nowhere does not exist");
}

TEST_CASE("config_v1: output_action summary_only and append_row", "[config_v1_names]") {
  const JobDir dir;
  const prs::JobConfig summary = load_job(dir, minimal_job("  append_row_to: out/\noutput_action: summary_only\n"));
  CHECK(summary.output_action == prs::OutputAction::summary_only);
  CHECK(summary.append_row_file.empty());
  CHECK(error_of(dir, minimal_job("output_action: append_row\n")) ==
        "job.yml:7: output_action: append_row needs task.append_row_to: the file or folder the rows go to, e.g. "
        "append_row_to: ${{outputs.NAME}}");
}

TEST_CASE("config_v1: empty v1 values are not given, as save_to_yaml writes None", "[config_v1_names]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, minimal_job("process_count_per_node:\nappend_row_file_name:\n"
                                                     "run_max_try:\nerror_threshold:\n"));
  CHECK(c.max_concurrency_per_instance == 0);
  CHECK(c.max_retries == 2);
  CHECK(resolved(c, "append_row_file_name") == "parallel_run_step.txt (default)");
  CHECK(error_of(dir, minimal_job("max_concurrency_per_instance:\n")) ==
        "job.yml:7: max_concurrency_per_instance: must be a whole number, got nothing");  // v2 keys stay strict
}

TEST_CASE("config_v1: a ParallelRunConfig.save_to_yaml file, keys under parallel_run_config", "[config_v1_names]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, R"(inputs: {input_data: {path: data}}
input_data: ${{inputs.input_data}}
type: parallel
task: {append_row_to: out/}
parallel_run_config:
  mini_batch_size: '5'
  error_threshold: 10
  output_action: append_row
  logging_level: INFO
  compute_target_name: cpu-cluster
  node_count: 2
  process_count_per_node: 4
  entry_script: score.py
  source_directory: src
  description:
  run_invocation_timeout: 60
  run_max_try: 3
  append_row_file_name:
  environment:
    name: batch-env
    python: {conda_dependencies: {dependencies: [python=3.8]}}
)");
  CHECK(c.mini_batch_size == 5);
  CHECK(c.error_threshold == 10);
  CHECK(c.instance_count == 2);
  CHECK(c.max_concurrency_per_instance == 4);
  CHECK(c.entry_script == dir / "src/score.py");
  CHECK(c.max_retries == 2);
  CHECK(c.append_row_file == dir / "out/parallel_run_step.txt");
  CHECK(c.ignored_keys == Strings{"parallel_run_config.compute_target_name (job.yml:10)",
                                  "parallel_run_config.description (job.yml:15)",
                                  "parallel_run_config.environment (job.yml:19)"});
  CHECK(error_of(dir, minimal_job("parallel_run_config:\n  run_max_tries: 3\n")) ==
        "job.yml:8: parallel_run_config.run_max_tries: unknown key; did you mean run_max_try?");
  CHECK(error_of(dir, minimal_job("parallel_run_config: 3\n")) ==
        "job.yml:7: parallel_run_config: must be a map of keys, got 3");
}

TEST_CASE("config_v1: partition_keys is a list of key names, also as v1's JSON dump", "[config_v1_names]") {
  const JobDir dir;
  const prs::JobConfig listed = load_job(dir, minimal_job("partition_keys: [Store, Brand]\n"));
  CHECK(listed.partition_keys == std::vector<std::string>{"Store", "Brand"});
  CHECK(listed.partition_keys_location == "job.yml:7: partition_keys");
  CHECK(resolved(listed, "partition_keys") == "[Store, Brand] (job.yml:7)");
  const prs::JobConfig dumped = load_job(dir, minimal_job("partition_keys: '[\"Store\"]'\n"));
  CHECK(dumped.partition_keys == std::vector<std::string>{"Store"});
  CHECK(error_of(dir, minimal_job("partition_keys: store\n")) ==
        "job.yml:7: partition_keys: must be a list of strings such as [Store, Brand], got store");
  CHECK(error_of(dir, minimal_job("partition_keys: [a, a]\n")) == "job.yml:7: partition_keys: names a twice");
  CHECK(error_of(dir, minimal_job("partition_keys: [[a]]\n")) ==
        "job.yml:7: partition_keys: must be a list of strings such as [Store, Brand], got an element that is a list");
}

TEST_CASE("config_v1: partition_keys, mini_batch_size and mini_batch_row_size exclude each other",
          "[config_v1_names]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("mini_batch_size: 5\npartition_keys: [store]\n")) ==
        "job.yml:8: partition_keys: cannot be given with mini_batch_size (job.yml:7): a mini-batch is either one "
        "combination of the keys' values or a size; remove one of them");
  CHECK(error_of(dir, minimal_job("partition_keys: [store]\nmini_batch_row_size: 5\n")) ==
        "job.yml:7: partition_keys: cannot be given with mini_batch_row_size (job.yml:8): a mini-batch is either one "
        "combination of the keys' values or a number of rows; remove one of them");
  CHECK(error_of(dir, minimal_job("mini_batch_size: 2\nmini_batch_row_size: 5\n")) ==
        "job.yml:8: mini_batch_row_size: cannot be given with mini_batch_size (job.yml:7): a "
        "mini-batch is either a number of rows or a size; remove one of them");
  CHECK(error_of(dir, minimal_job("mini_batch_row_size: 5\n")) ==
        "job.yml:7: mini_batch_row_size: is for tabular input (type: mltable with read_delimited or "
        "read_json_lines); a file list is cut by mini_batch_size, a count of files");
  CHECK(error_of(dir, minimal_job("mini_batch_row_size: 0\n")) ==
        "job.yml:7: mini_batch_row_size: must be in [1, 2147483647], got 0");
}

// ---- the same setting given twice ----

TEST_CASE("config_v1: a setting given under two names with different values names both places", "[config_v1_names]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("run_max_try: 4\nretry_settings: {max_retries: 2}\n")) ==
        "job.yml:8: retry_settings.max_retries: gives retry_settings.max_retries = 2, but job.yml:7 (run_max_try) "
        "gives 3; keep one of them");
  CHECK(error_of(dir, minimal_job("retry_settings:\n  max_retries: 2\nrun_max_try: 4\n")) ==
        "job.yml:9: run_max_try: gives retry_settings.max_retries = 3, but job.yml:8 (retry_settings.max_retries) "
        "gives 2; keep one of them");
  CHECK(error_of(dir, minimal_job("node_count: 2\nresources: {instance_count: 3}\n")) ==
        "job.yml:8: resources.instance_count: gives resources.instance_count = 3, but job.yml:7 (node_count) gives 2; "
        "keep one of them");
  CHECK(error_of(dir, minimal_job("process_count_per_node: 2\nmax_concurrency_per_instance: 4\n")) ==
        "job.yml:8: max_concurrency_per_instance: gives max_concurrency_per_instance = 4, but job.yml:7 "
        "(process_count_per_node) gives 2; keep one of them");
  CHECK(error_of(dir, minimal_job("run_invocation_timeout: 30\nretry_settings: {timeout: 60}\n")) ==
        "job.yml:8: retry_settings.timeout: gives retry_settings.timeout = 60, but job.yml:7 (run_invocation_timeout) "
        "gives 30; keep one of them");
  CHECK(error_of(dir, minimal_job("allowed_failed_count: 1\nmini_batch_error_threshold: 2\n")) ==
        "job.yml:8: mini_batch_error_threshold: gives mini_batch_error_threshold = 2, but job.yml:7 "
        "(allowed_failed_count) gives 1; keep one of them");
  CHECK(error_of(dir, minimal_job("  code: src\nsource_directory: .\n")) ==
        "job.yml:8: source_directory: gives task.code = ., but job.yml:7 (task.code) gives src; keep one of them");
  CHECK(error_of(dir, minimal_job("entry_script: other.py\n")) ==
        "job.yml:7: entry_script: gives task.entry_script = other.py, but job.yml:6 (task.entry_script) gives "
        "score.py; keep one of them");
  CHECK(error_of(dir, minimal_job("mini_batch_size: 5\nparallel_run_config: {mini_batch_size: 6}\n")) ==
        "job.yml:8: parallel_run_config.mini_batch_size: gives mini_batch_size = 6, but job.yml:7 (mini_batch_size) "
        "gives 5; keep one of them");
}

TEST_CASE("config_v1: the job file and program_arguments must agree", "[config_v1_names]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("  program_arguments: --error_threshold 5\nerror_threshold: 3\n")) ==
        "job.yml:8: error_threshold: gives error_threshold = 3, but job.yml:7 (task.program_arguments: "
        "--error_threshold) gives 5; keep one of them");
  CHECK(error_of(dir, "type: parallel\nerror_threshold: 3\ninput_data: data\ntask:\n  entry_script: score.py\n"
                      "  program_arguments: --allowed_failed_percent 30 --error_thr=5\n") ==
        "job.yml:6: task.program_arguments: --error_thr: gives error_threshold = 5, but job.yml:2 (error_threshold) "
        "gives 3; keep one of them");
  CHECK(error_of(dir, minimal_job("  program_arguments: --allowed_failed_percent 30\nallowed_failed_percent: 20\n")) ==
        "job.yml:8: allowed_failed_percent: gives allowed_failed_percent = 20, but job.yml:7 (task.program_arguments: "
        "--allowed_failed_percent) gives 30; keep one of them");
  CHECK(error_of(dir, minimal_job("  program_arguments: --append_row_file_name a.txt\nappend_row_file_name: b.txt\n")) ==
        "job.yml:8: append_row_file_name: gives append_row_file_name = b.txt, but job.yml:7 (task.program_arguments: "
        "--append_row_file_name) gives a.txt; keep one of them");
  // Equal values are fine, also when written differently (debug / DEBUG).
  const prs::JobConfig equal = load_job(dir, minimal_job("  program_arguments: --error_threshold 5 --logging_level "
                                                         "debug\nerror_threshold: 5\nlogging_level: DEBUG\n"));
  CHECK(equal.error_threshold == 5);
  CHECK(equal.logging_level == "DEBUG");
  CHECK(load_job(dir, minimal_job("run_max_try: 3\nretry_settings: {max_retries: 2}\n")).max_retries == 2);
  CHECK(load_job(dir, minimal_job("  code: ./src/\nsource_directory: src\n")).code_dir == dir / "src");
  // --set overrides every place silently.
  const prs::JobConfig set = load_job(dir, minimal_job("  program_arguments: --error_threshold 5\nerror_threshold: 3\n"
                                                       "run_max_try: 4\nretry_settings: {max_retries: 1}\n"),
                                      options({"error_threshold=9", "retry_settings.max_retries=6"}));
  CHECK(set.error_threshold == 9);
  CHECK(set.max_retries == 6);
}

// ---- program-argument prefixes ----

TEST_CASE("config_v1: program-argument settings: exact names, unique prefixes, ambiguous ones", "[config_v1_names]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, minimal_job("  program_arguments: --resource_monitor_interva 20 --err 4 "
                                                     "--allowed=7 --log debug --first_task 30 --append_row_d True\n"));
  CHECK(c.resource_monitor_interval == 20);
  CHECK(c.error_threshold == 4);
  CHECK(c.allowed_failed_percent == 7);
  CHECK(c.logging_level == "DEBUG");
  CHECK(c.first_task_creation_timeout == 30);
  CHECK(c.append_row_dataframe_header);
  CHECK(resolved(c, "error_threshold") == "4 (program_arguments (job.yml:7))");
  CHECK(error_of(dir, minimal_job("  program_arguments: --model m --a 5\n")) ==
        "job.yml:7: task.program_arguments: --a: ambiguous; could be --allowed_failed_percent, "
        "--append_row_dataframe_header, --append_row_file_name");
  CHECK(error_of(dir, minimal_job("  program_arguments: --append_row_=x\n")) ==
        "job.yml:7: task.program_arguments: --append_row_: ambiguous; could be --append_row_dataframe_header, "
        "--append_row_file_name");
  CHECK(error_of(dir, minimal_job("  program_arguments: --resource_monitor_interva\n")) ==
        "job.yml:7: task.program_arguments: --resource_monitor_interva: expects a value, e.g. "
        "--resource_monitor_interva=VALUE");
  CHECK(error_of(dir, minimal_job("  program_arguments: --progress 0\n")) ==
        "job.yml:7: task.program_arguments: --progress: must be in (0, 259200], got 0");
}

TEST_CASE("config_v1: arguments that are no prefix of a setting are the script's own", "[config_v1_names]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, minimal_job("  program_arguments: --model m --error_thresholds 9 -e 3 --x "
                                                     "-- --error_threshold 7\n"));
  CHECK(c.error_threshold == -1);
  CHECK(c.program_arguments == Strings{"--model", "m", "--error_thresholds", "9", "-e", "3", "--x", "--",
                                       "--error_threshold", "7"});
  CHECK(load_job(dir, minimal_job("  program_arguments: --error_threshold 2 --err 3\n")).error_threshold == 3);
  CHECK(error_of(dir, minimal_job(), options({"resource_monitor_interva=5"})) ==
        "--set resource_monitor_interva=5: resource_monitor_interva: unknown setting; did you mean "
        "resource_monitor_interval?");  // --set takes full names only
  CHECK(prs::config_keys::match_knob("error_threshold").knob == "error_threshold");
  CHECK(prs::config_keys::match_knob("e").knob == "error_threshold");
  CHECK(prs::config_keys::match_knob("model").knob.empty());
  CHECK(prs::config_keys::match_knob("").knob.empty());
}
