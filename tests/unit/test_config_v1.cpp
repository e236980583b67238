// Tests of the job files users bring from the cloud service: v1 ParallelRunConfig names and their semantics,
// settings given twice, cloud-only keys ignored and listed, pipelines and --job, program-argument prefixes,
// "did you mean", wrong types, globs and path lists as inputs. Every message is asserted whole.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>

#include "prs/config/config.hpp"
#include "prs/config/config_keys.hpp"
#include "prs/error.hpp"
#include "config_support.hpp"

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

namespace {

using prs_test::minimal_job;
using prs_test::resolved;

// A job folder with the data, model and scripts every job here uses.
class JobDir : public prs_test::TempJobDir {
 public:
  JobDir() {
    write("data/a.txt", "a");
    write("model/m.txt", "m");
    write("score.py", "def run(batch): return batch\n");
    write("src/score.py", "def run(batch): return batch\n");
  }
};

prs::CliOptions options(const Strings& sets = {}, const std::optional<std::string>& job = std::nullopt) {
  prs::CliOptions cli;
  cli.job_file = "job.yml";
  cli.sets = sets;
  cli.pipeline_job = job;
  return cli;
}

prs::JobConfig load_job(const JobDir& dir, const std::string& yaml, const prs::CliOptions& cli = options()) {
  dir.write("job.yml", yaml);
  return prs::load_job_config(cli);
}

// The message of the prs::Error that loading throws; fails the test when it throws none.
std::string error_of(const JobDir& dir, const std::string& yaml, const prs::CliOptions& cli = options()) {
  dir.write("job.yml", yaml);
  return prs_test::load_error(cli);
}

// The seed's pipeline (003, lines 58-121) with a file-list input instead of mltable, and its score_model folder.
const char* const seed_pipeline = R"($schema: https://azuremlschemas.azureedge.net/latest/pipelineJob.schema.json
type: pipeline

display_name: iris-batch-prediction-using-parallel
description: The hello world pipeline job with inline parallel job
tags:
  tag: tagvalue
  owner: sdkteam

settings:
  default_compute: azureml:cpu-cluster

jobs:
  batch_prediction:
    type: parallel
    compute: azureml:cpu-cluster
    inputs:
      input_data: 
        type: uri_folder
        path: ./data
        mode: ro_mount
      score_model: 
        type: uri_folder
        path: ./model
        mode: download
    outputs:
      job_output_file:
        type: uri_file
        mode: rw_mount

    input_data: ${{inputs.input_data}}
    mini_batch_size: "3"
    resources:
        instance_count: 2
    max_concurrency_per_instance: 2

    logging_level: "DEBUG"
    mini_batch_error_threshold: 5
    retry_settings:
      max_retries: 2
      timeout: 60

    task:
      type: run_function
      code: "./src"
      entry_script: score.py
      environment:
        name: "prs-env"
        version: 1
        image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04
        conda_file: ./environment/environment_parallel.yml
      program_arguments: >-
        --model ${{inputs.score_model}}
        --error_threshold 5
        --allowed_failed_percent 30
        --task_overhead_timeout 1200
        --progress_update_timeout 600
        --first_task_creation_timeout 600
        --copy_logs_to_parent True
        --resource_monitor_interva 20
      append_row_to: ${{outputs.job_output_file}}
)";

// A pipeline with two parallel jobs (first, second) and a command job; line 5 is "jobs:".
std::string two_job_pipeline() {
  return "type: pipeline\n"
         "inputs:\n"
         "  pipeline_data: {type: uri_folder, path: ./data, mode: ro_mount}\n"
         "  unused: {type: uri_folder, path: ./model}\n"
         "jobs:\n"
         "  prepare:\n"
         "    type: command\n"
         "    command: echo\n"
         "  first:\n"
         "    type: parallel\n"
         "    inputs:\n"
         "      input_data: ${{parent.inputs.pipeline_data}}\n"
         "    input_data: ${{inputs.input_data}}\n"
         "    mini_batch_size: 1\n"
         "    task: {entry_script: score.py}\n"
         "  second:\n"
         "    type: parallel\n"
         "    inputs: {input_data: {path: ./data}}\n"
         "    input_data: ${{inputs.input_data}}\n"
         "    mini_batch_size: 2\n"
         "    task: {entry_script: score.py}\n";
}

}  // namespace

// ---- v1 names ----

TEST_CASE("config_v1: every v1 ParallelRunConfig name gives its v2 setting", "[config_v1]") {
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

TEST_CASE("config_v1: run_max_try counts tries: N tries are N - 1 retries, N in [1, int max]", "[config_v1]") {
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

TEST_CASE("config_v1: other v1 ranges and values are checked under their own names", "[config_v1]") {
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

TEST_CASE("config_v1: output_action summary_only and append_row", "[config_v1]") {
  const JobDir dir;
  const prs::JobConfig summary = load_job(dir, minimal_job("  append_row_to: out/\noutput_action: summary_only\n"));
  CHECK(summary.output_action == prs::OutputAction::summary_only);
  CHECK(summary.append_row_file.empty());
  CHECK(error_of(dir, minimal_job("output_action: append_row\n")) ==
        "job.yml:7: output_action: append_row needs task.append_row_to: the file or folder the rows go to, e.g. "
        "append_row_to: ${{outputs.NAME}}");
}

TEST_CASE("config_v1: empty v1 values are not given, as save_to_yaml writes None", "[config_v1]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, minimal_job("process_count_per_node:\nappend_row_file_name:\n"
                                                     "run_max_try:\nerror_threshold:\n"));
  CHECK(c.max_concurrency_per_instance == 0);
  CHECK(c.max_retries == 2);
  CHECK(resolved(c, "append_row_file_name") == "parallel_run_step.txt (default)");
  CHECK(error_of(dir, minimal_job("max_concurrency_per_instance:\n")) ==
        "job.yml:7: max_concurrency_per_instance: must be a whole number, got nothing");  // v2 keys stay strict
}

TEST_CASE("config_v1: a ParallelRunConfig.save_to_yaml file, keys under parallel_run_config", "[config_v1]") {
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

TEST_CASE("config_v1: partition_keys is known but not supported yet", "[config_v1]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("partition_keys: [store]\n")) ==
        "job.yml:7: partition_keys: partitioned input is not supported yet; remove it and use mini_batch_size");
}

// ---- the same setting given twice ----

TEST_CASE("config_v1: a setting given under two names with different values names both places", "[config_v1]") {
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

TEST_CASE("config_v1: the job file and program_arguments must agree", "[config_v1]") {
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

// ---- cloud-only keys ----

TEST_CASE("config_v1: cloud-only keys are accepted and listed once, in file order", "[config_v1]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, R"($schema: https://azuremlschemas.azureedge.net/latest/parallelJob.schema.json
type: parallel
name: scoring
display_name: Scoring
description: scores
experiment_name: exp
tags: {a: b}
compute: azureml:cpu-cluster
identity: {type: managed}
services: {my_jupyter: {type: jupyter_lab}}
is_deterministic: true
component: azureml:score:1
properties: {p: 1}
inputs:
  input_data:
    type: uri_folder
    path: ./data
    mode: ro_mount
    description: images
    optional: false
    datastore: azureml:workspaceblobstore
outputs:
  out: {type: uri_folder, mode: rw_mount}
resources:
  instance_count: 1
  instance_type: Standard_D2
  shm_size: 2g
  properties: {x: 1}
  gpu_bandwidth: high
input_data: ${{inputs.input_data}}
task:
  entry_script: score.py
  environment:
    image: mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04
    conda_file: ./environment.yml
)");
  CHECK(c.ignored_keys ==
        Strings{"$schema (job.yml:1)", "display_name (job.yml:4)", "description (job.yml:5)",
                "experiment_name (job.yml:6)", "tags (job.yml:7)", "compute (job.yml:8)", "identity (job.yml:9)",
                "services (job.yml:10)", "is_deterministic (job.yml:11)", "component (job.yml:12)",
                "properties (job.yml:13)", "inputs.input_data.mode (job.yml:18)",
                "inputs.input_data.description (job.yml:19)", "inputs.input_data.optional (job.yml:20)",
                "inputs.input_data.datastore (job.yml:21)", "outputs.out.mode (job.yml:23)",
                "resources.instance_type (job.yml:26)", "resources.shm_size (job.yml:27)",
                "resources.properties (job.yml:28)", "resources.gpu_bandwidth (job.yml:29)",
                "task.environment (job.yml:33)"});
  CHECK(prs::ignored_keys_line(c).rfind("ignored (cloud-only): $schema (job.yml:1), display_name (job.yml:4), ", 0) == 0);
  CHECK(resolved(c, "name") == "scoring (job.yml:3)");
  CHECK(c.append_row_file.empty());
  CHECK(c.output_dirs == Strings{dir / "outputs/out"});  // an output without path goes under ./outputs/<name>
  CHECK(prs::ignored_keys_line(load_job(dir, minimal_job())).empty());
}

TEST_CASE("config_v1: a typo under resources is not taken for a cloud-only key", "[config_v1]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("resources:\n  instance_cont: 2\n")) ==
        "job.yml:8: resources.instance_cont: unknown key; did you mean instance_count?");
  CHECK(error_of(dir, minimal_job("compute: {a: 1}\nresources: {instance_count: 2, instance_count: 3}\n")) ==
        "job.yml:8: resources.instance_count: given twice (also at job.yml:8)");
}

// ---- pipelines ----

TEST_CASE("config_v1: the seed's pipeline runs its one parallel job, cloud keys listed", "[config_v1]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, seed_pipeline);
  CHECK(c.pipeline_job == "batch_prediction");
  CHECK(c.input_path == dir / "data");
  CHECK(c.mini_batch_size == 3);
  CHECK(c.instance_count == 2);
  CHECK(c.max_concurrency_per_instance == 2);
  CHECK(c.logging_level == "DEBUG");
  CHECK(c.error_threshold == 5);
  CHECK(c.allowed_failed_percent == 30);
  CHECK(c.task_overhead_timeout == 1200);
  CHECK(c.progress_update_timeout == 600);
  CHECK(c.first_task_creation_timeout == 600);
  CHECK(c.copy_logs_to_parent);
  CHECK(c.resource_monitor_interval == 20);  // --resource_monitor_interva, a unique prefix
  CHECK(c.append_row_file == dir / "outputs/job_output_file");
  CHECK(c.output_dirs == Strings{dir / "outputs"});
  CHECK(c.program_arguments.size() == 16);
  CHECK(c.program_arguments[15] == "20");
  CHECK(resolved(c, "resource_monitor_interval") == "20 (program_arguments (job.yml:52))");
  CHECK(resolved(c, "mini_batch_size") == "3 (job.yml:32)");
  CHECK(prs::ignored_keys_line(c) ==
        "ignored (cloud-only): $schema (job.yml:1), display_name (job.yml:4), description (job.yml:5), "
        "tags (job.yml:6), settings (job.yml:10), compute (job.yml:16), inputs.input_data.mode (job.yml:21), "
        "inputs.score_model.mode (job.yml:25), outputs.job_output_file.mode (job.yml:29), "
        "task.environment (job.yml:47)");
}

TEST_CASE("config_v1: several parallel jobs: --job picks one; without it, an error lists them", "[config_v1]") {
  const JobDir dir;
  const prs::JobConfig first = load_job(dir, two_job_pipeline(), options({}, "first"));
  CHECK(first.pipeline_job == "first");
  CHECK(first.mini_batch_size == 1);
  CHECK(first.input_path == dir / "data");
  CHECK(first.ignored_keys ==
        Strings{"inputs.input_data.mode (job.yml:3)", "inputs.unused (job.yml:4)", "jobs.prepare (job.yml:6)"});
  const prs::JobConfig second = load_job(dir, two_job_pipeline(), options({}, "second"));
  CHECK(second.pipeline_job == "second");
  CHECK(second.mini_batch_size == 2);
  CHECK(second.ignored_keys == Strings{"inputs.pipeline_data (job.yml:3)", "inputs.unused (job.yml:4)",
                                       "jobs.prepare (job.yml:6)"});
  CHECK(error_of(dir, two_job_pipeline()) ==
        "job.yml:5: jobs: 2 parallel jobs: first, second; choose one with --job NAME");
  CHECK(error_of(dir, two_job_pipeline(), options({}, "third")) ==
        "job.yml:5: jobs: --job third: no job named third; parallel jobs: first, second");
  CHECK(error_of(dir, two_job_pipeline(), options({}, "prepare")) ==
        "job.yml:5: jobs: --job prepare: prepare is not a parallel job (type: command); parallel jobs: first, second");
}

TEST_CASE("config_v1: a pipeline without a parallel job, without jobs, and --job on a parallel job file", "[config_v1]") {
  const JobDir dir;
  CHECK(error_of(dir, "type: pipeline\njobs:\n  prep: {type: command, command: echo}\n") ==
        "job.yml:2: jobs: no job has type: parallel; prs_mpi runs the parallel job of a pipeline");
  CHECK(error_of(dir, "type: pipeline\njobs:\n  prep: {type: command}\n", options({}, "x")) ==
        "job.yml:2: jobs: --job x: no job named x; the pipeline has no parallel job");
  CHECK(error_of(dir, "type: pipeline\ndisplay_name: x\n") ==
        "job.yml: jobs: is required in a pipeline (type: pipeline); prs_mpi runs its parallel job");
  CHECK(error_of(dir, "type: pipeline\njobs: [a, b]\n") == "job.yml:2: jobs: must be a map of jobs, got a list");
  CHECK(error_of(dir, "type: pipeline\njob:\n  a: {type: parallel}\n") ==
        "job.yml:2: job: unknown key; did you mean jobs?");
  CHECK(error_of(dir, "type: pipeline\nfoo_bar_baz: 1\n") ==
        "job.yml:2: foo_bar_baz: unknown key; remove it or check its spelling");
  CHECK(error_of(dir, minimal_job(), options({}, "score")) ==
        "--job score: job.yml is not a pipeline (type: pipeline); remove --job");
  CHECK(error_of(dir, "type: pipeline\ninputs: [a]\njobs: {}\n") == "job.yml:2: inputs: must be a map of keys, got a list");
  CHECK(error_of(dir, "type: pipeline\njobs:\n  s:\n    type: parallel\n    inputs:\n"
                      "      d: ${{parent.inputs.images}}\n") ==
        "job.yml:6: inputs.d: ${{parent.inputs.images}}: the pipeline declares no input named images");
}

TEST_CASE("config_v1: a job's ${{parent.inputs.X}} / ${{parent.outputs.X}} are the pipeline's", "[config_v1]") {
  const JobDir dir;
  const std::string pipeline = "type: pipeline\n"
                               "inputs:\n"
                               "  images: {type: uri_folder, path: ./data}\n"
                               "outputs:\n"
                               "  scores: {type: uri_file, path: ./results/scores.txt}\n"
                               "jobs:\n"
                               "  score:\n"
                               "    type: parallel\n"
                               "    inputs:\n"
                               "      input_data: ${{parent.inputs.images}}\n"
                               "    outputs:\n"
                               "      out: ${{ parent.outputs.scores }}\n"
                               "    input_data: ${{inputs.input_data}}\n"
                               "    task:\n"
                               "      entry_script: score.py\n"
                               "      program_arguments: --in ${{inputs.input_data}}\n"
                               "      append_row_to: ${{outputs.out}}\n";
  const prs::JobConfig c = load_job(dir, pipeline);
  CHECK(c.input_path == dir / "data");
  CHECK(c.program_arguments == Strings{"--in", dir / "data"});
  CHECK(c.append_row_file == dir / "results/scores.txt");
  CHECK(c.ignored_keys.empty());
  CHECK(resolved(c, "inputs.input_data.path") == dir / "data (job.yml:3)");
  std::string unknown = pipeline;
  unknown.replace(unknown.find("parent.inputs.images"), 20, "parent.inputs.photos");
  CHECK(error_of(dir, unknown) ==
        "job.yml:10: inputs.input_data: ${{parent.inputs.photos}}: the pipeline declares no input named photos; "
        "declared: images");
  std::string crossed = pipeline;
  crossed.replace(crossed.find("parent.inputs.images"), 20, "parent.outputs.scores");
  CHECK(error_of(dir, crossed) ==
        "job.yml:10: inputs.input_data: ${{parent.outputs.scores}}: inputs bind ${{parent.inputs.NAME}}");
  CHECK(error_of(dir, "type: parallel\ninputs:\n  input_data: ${{parent.inputs.images}}\n") ==
        "job.yml:3: inputs.input_data: ${{parent.inputs.images}}: binds a pipeline's inputs, but this file is not a "
        "pipeline");
  CHECK(error_of(dir, "type: pipeline\ninputs: {images: ./data}\njobs:\n  s:\n    type: parallel\n"
                      "    inputs:\n      d: ${{parent.inputs.images}}\n") ==
        "job.yml:7: inputs.d: ${{parent.inputs.images}}: the pipeline's inputs.images must be a map with type and "
        "path, got ./data");
}

// ---- program-argument prefixes ----

TEST_CASE("config_v1: program-argument settings: exact names, unique prefixes, ambiguous ones", "[config_v1]") {
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

TEST_CASE("config_v1: arguments that are no prefix of a setting are the script's own", "[config_v1]") {
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

// ---- did you mean, wrong types ----

TEST_CASE("config_v1: unknown keys get the closest known key at their level when it is close", "[config_v1]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("mini_batch_sise: 3\n")) ==
        "job.yml:7: mini_batch_sise: unknown key; did you mean mini_batch_size?");
  CHECK(error_of(dir, minimal_job("max_concurency_per_instance: 3\n")) ==
        "job.yml:7: max_concurency_per_instance: unknown key; did you mean max_concurrency_per_instance?");
  CHECK(error_of(dir, minimal_job("run_max_tries: 3\n")) == "job.yml:7: run_max_tries: unknown key; did you mean run_max_try?");
  CHECK(error_of(dir, minimal_job("  entry_scrpt: x.py\n")) ==
        "job.yml:7: task.entry_scrpt: unknown key; did you mean entry_script?");
  CHECK(error_of(dir, minimal_job("  append_row: out.txt\n")) ==
        "job.yml:7: task.append_row: unknown key; did you mean append_row_to?");
  CHECK(error_of(dir, minimal_job("outputs: {o: {paht: x}}\n")) == "job.yml:7: outputs.o.paht: unknown key; did you mean path?");
  CHECK(error_of(dir, minimal_job("colour: blue\n")) == "job.yml:7: colour: unknown key; remove it or check its spelling");
  CHECK(error_of(dir, minimal_job("  frobnicate: 1\n")) ==
        "job.yml:7: task.frobnicate: unknown key; remove it or check its spelling");
  CHECK(error_of(dir, minimal_job(), options({"retry_settings.timeot=5"})) ==
        "--set retry_settings.timeot=5: retry_settings.timeot: unknown setting; did you mean retry_settings.timeout?");
  CHECK(prs::config_keys::closest("abcdefghi", {"abcdefxyz"}) == "abcdefxyz");  // 3 edits in 9 characters: close
  CHECK(prs::config_keys::closest("abcdefghij", {"abcdwxyzij"}).empty());        // 4 edits in 10: not close
  CHECK(prs::config_keys::closest("abcdefghi", {"abcwvxyzi", "abcdefxyz"}) == "abcdefxyz");
  CHECK(prs::config_keys::closest("ab", {"xy"}) == "xy");
  CHECK(prs::config_keys::closest("abc", {"xyz"}).empty());
  CHECK(prs::config_keys::edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("config_v1: values of the wrong type name the expected type", "[config_v1]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("run_max_try: [1, 2]\n")) == "job.yml:7: run_max_try: must be a whole number, got a list");
  CHECK(error_of(dir, minimal_job("node_count: two\n")) ==
        "job.yml:7: node_count: must be a whole number in [1, 2147483647], got two");
  CHECK(error_of(dir, minimal_job("source_directory: {a: 1}\n")) == "job.yml:7: source_directory: must be a path, got a map");
  CHECK(error_of(dir, minimal_job("append_row_file_name: [a]\n")) ==
        "job.yml:7: append_row_file_name: must be a file name, got a list");
  CHECK(error_of(dir, minimal_job("ordered: maybe\n")) == "job.yml:7: ordered: must be true or false, got maybe");
  CHECK(error_of(dir, minimal_job("ordered: [true]\n")) == "job.yml:7: ordered: must be true or false, got a list");
  CHECK(error_of(dir, minimal_job("task_overhead_timeout: 5\n")) ==
        "job.yml:7: task_overhead_timeout: unknown key; remove it or check its spelling");
}

TEST_CASE("config_v1: YAML syntax errors give the file, line and column", "[config_v1]") {
  const JobDir dir;
  CHECK(error_of(dir, "type: pipeline\njobs:\n  a:\n    type: parallel\n   task: x\n") ==
        "job.yml:5:4: invalid YAML: end of map not found");
  CHECK(error_of(dir, "type: parallel\ninputs:\n\tinput_data: x\n") == "job.yml:3:12: invalid YAML: illegal map value");
  CHECK(error_of(dir, "type: parallel\nmini_batch_size: 3: 4\n") == "job.yml:2:19: invalid YAML: illegal map value");
}

// ---- ordered ----

TEST_CASE("config_v1: ordered: from the job file or --ordered", "[config_v1]") {
  const JobDir dir;
  const prs::JobConfig unset = load_job(dir, minimal_job());
  CHECK_FALSE(unset.ordered);
  CHECK(resolved(unset, "ordered") == "false (default)");
  const prs::JobConfig file = load_job(dir, minimal_job("ordered: True\n"));
  CHECK(file.ordered);
  CHECK(resolved(file, "ordered") == "true (job.yml:7)");
  prs::CliOptions cli = options();
  cli.ordered = true;
  const prs::JobConfig flag = load_job(dir, minimal_job("ordered: false\n"), cli);
  CHECK(flag.ordered);
  CHECK(resolved(flag, "ordered") == "true (--ordered)");
}

// ---- input forms ----

TEST_CASE("config_v1: input forms: folder, file, glob and path list", "[config_v1]") {
  const JobDir dir;
  dir.write("paths.txt", "data/a.txt\n");
  CHECK(load_job(dir, minimal_job()).input_form == prs::InputForm::folder);
  const std::string head = "type: parallel\ninput_data: ${{inputs.input_data}}\ntask: {entry_script: score.py}\n";
  CHECK(load_job(dir, head + "inputs: {input_data: {type: uri_file, path: data/a.txt}}\n").input_form ==
        prs::InputForm::file);
  const prs::JobConfig glob = load_job(dir, head + "inputs:\n  input_data:\n    path: ./data/**/*.txt\n");
  CHECK(glob.input_form == prs::InputForm::glob);
  CHECK(glob.input_path == dir / "data/**/*.txt");
  CHECK(glob.input_location == "job.yml:6: inputs.input_data.path");
  CHECK(glob.input_as_written == "./data/**/*.txt");
  const prs::JobConfig literal_glob = load_job(dir, "type: parallel\ninput_data: data/*.txt\n"
                                                    "task: {entry_script: score.py}\n");
  CHECK(literal_glob.input_form == prs::InputForm::glob);
  CHECK(literal_glob.input_location == "job.yml:2: input_data");
  const prs::JobConfig list = load_job(dir, head + "inputs: {input_data: {type: path_list, path: paths.txt}}\n");
  CHECK(list.input_form == prs::InputForm::path_list);
  CHECK(list.input_path == dir / "paths.txt");
  CHECK(list.input_as_written == "paths.txt");
  CHECK(error_of(dir, head + "inputs: {input_data: {path: ./missing/**/*.png}}\n") ==
        "job.yml:4: inputs.input_data.path: " + dir / "missing does not exist");
  CHECK(error_of(dir, "type: parallel\ninput_data: nothing/*.txt\ntask: {entry_script: score.py}\n") ==
        "job.yml:2: input_data: " + dir / "nothing does not exist");
  CHECK(error_of(dir, "type: parallel\ninput_data: score.py/*.txt\ntask: {entry_script: score.py}\n") ==
        "job.yml:2: input_data: " + dir / "score.py is not a folder");
  CHECK(error_of(dir, head + "inputs: {input_data: {type: path_list, path: data}}\n") ==
        "job.yml:4: inputs.input_data.path: " + dir / "data is not a file; a path_list is a text file with one path "
        "per line");
  CHECK(error_of(dir, head + "inputs: {input_data: {type: path_list, path: list.txt}}\n") ==
        "job.yml:4: inputs.input_data.path: " + dir / "list.txt does not exist");
  CHECK(error_of(dir, head + "inputs: {input_data: {path: data/a.txt/*.png}}\n") ==
        "job.yml:4: inputs.input_data.path: " + dir / "data/a.txt is not a folder");
  CHECK(error_of(dir, minimal_job("outputs: {o: {type: path_list}}\n")) ==
        "job.yml:7: outputs.o.type: must be uri_folder or uri_file, got path_list");
}
