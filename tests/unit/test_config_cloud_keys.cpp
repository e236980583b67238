// Tests of the keys in job files from the cloud service: cloud-only keys accepted and listed, "did you mean" for
// unknown keys, values of the wrong type and YAML syntax errors. Every message is asserted whole.
#include <catch2/catch.hpp>

#include "prs/config/config.hpp"
#include "prs/config/config_keys.hpp"
#include "config_support.hpp"

using Strings = std::vector<std::string>;
using namespace prs_test::cloud;  // JobDir, options, load_job, error_of
using prs_test::minimal_job;
using prs_test::resolved;

// ---- cloud-only keys ----

TEST_CASE("config_v1: cloud-only keys are accepted and listed once, in file order", "[config_cloud_keys]") {
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

TEST_CASE("config_v1: a typo under resources is not taken for a cloud-only key", "[config_cloud_keys]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("resources:\n  instance_cont: 2\n")) ==
        "job.yml:8: resources.instance_cont: unknown key; did you mean instance_count?");
  CHECK(error_of(dir, minimal_job("compute: {a: 1}\nresources: {instance_count: 2, instance_count: 3}\n")) ==
        "job.yml:8: resources.instance_count: given twice (also at job.yml:8)");
}

// ---- did you mean, wrong types ----

TEST_CASE("config_v1: unknown keys get the closest known key at their level when it is close", "[config_cloud_keys]") {
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

TEST_CASE("config_v1: values of the wrong type name the expected type", "[config_cloud_keys]") {
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

TEST_CASE("config_v1: YAML syntax errors give the file, line and column", "[config_cloud_keys]") {
  const JobDir dir;
  CHECK(error_of(dir, "type: pipeline\njobs:\n  a:\n    type: parallel\n   task: x\n") ==
        "job.yml:5:4: invalid YAML: end of map not found");
  CHECK(error_of(dir, "type: parallel\ninputs:\n\tinput_data: x\n") == "job.yml:3:12: invalid YAML: illegal map value");
  CHECK(error_of(dir, "type: parallel\nmini_batch_size: 3: 4\n") == "job.yml:2:19: invalid YAML: illegal map value");
}
