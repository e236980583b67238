// Tests of pipeline job files (type: pipeline): the parallel job picked alone or with --job, the errors that list
// the jobs, and ${{parent.inputs.X}} / ${{parent.outputs.X}} bound to the pipeline's. Every message is asserted whole.
#include <catch2/catch.hpp>

#include "prs/config/config.hpp"
#include "config_support.hpp"

using Strings = std::vector<std::string>;
using namespace prs_test::cloud;  // JobDir, options, load_job, error_of
using prs_test::minimal_job;
using prs_test::resolved;

namespace {

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

TEST_CASE("config_v1: the seed's pipeline runs its one parallel job, cloud keys listed", "[config_pipeline]") {
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

TEST_CASE("config_v1: several parallel jobs: --job picks one; without it, an error lists them", "[config_pipeline]") {
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

TEST_CASE("config_v1: a pipeline without a parallel job, without jobs, and --job on a parallel job file", "[config_pipeline]") {
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

TEST_CASE("config_v1: a job's ${{parent.inputs.X}} / ${{parent.outputs.X}} are the pipeline's", "[config_pipeline]") {
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
