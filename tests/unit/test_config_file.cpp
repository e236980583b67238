// Tests of the job file as a whole: unknown and repeated keys, the job and task types, required keys, and files
// that cannot be read, are empty or are not YAML.
#include <catch2/catch.hpp>

#include "prs/config/config.hpp"
#include "prs/error.hpp"
#include "config_support.hpp"

using namespace prs_test::basic;  // JobDir, example_job, write_job, load, load_job, error_of
using prs_test::minimal_job;

// Changed on purpose by the v1/pipeline issue: compute, task.environment and inputs.*.mode are cloud-only keys,
// ignored and listed (tested in test_config_cloud_keys.cpp); a close typo gets "did you mean".
TEST_CASE("config: unknown and repeated keys are named with their full path", "[config_file]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("computer: azureml:cpu-cluster\n")) ==
        "job.yml:7: computer: unknown key; did you mean compute?");
  CHECK(error_of(dir, minimal_job("  enviroment: {name: prs-env}\n")) ==
        "job.yml:7: task.enviroment: unknown key; did you mean environment?");
  CHECK(error_of(dir, minimal_job("retry_settings:\n  max_retries: 1\n  timeot: 5\n")) ==
        "job.yml:9: retry_settings.timeot: unknown key; did you mean timeout?");
  CHECK(error_of(dir, minimal_job("retry_settings:\n  max_retries: 1\n  deadline: 5\n")) ==
        "job.yml:9: retry_settings.deadline: unknown key; remove it or check its spelling");
  CHECK(error_of(dir, "type: parallel\ninputs:\n  input_data:\n    path: data\n    moed: ro_mount\n") ==
        "job.yml:5: inputs.input_data.moed: unknown key; did you mean mode?");
  CHECK(error_of(dir, minimal_job("input_data: data\n")) == "job.yml:7: input_data: given twice (also at job.yml:4)");
}

TEST_CASE("config: job type, task type and required keys", "[config_file]") {
  const JobDir dir;
  CHECK(error_of(dir, "type: command\n") == "job.yml:1: type: must be parallel, got command");
  CHECK(error_of(dir, "name: x\n") == "job.yml: type: is required; prs_mpi runs type: parallel jobs");
  CHECK(error_of(dir, minimal_job("  type: run_script\n")) == "job.yml:7: task.type: must be run_function, got run_script");
  CHECK(error_of(dir, "type: parallel\ntask:\n  code: .\n") ==
        "job.yml: input_data: is required; bind it to one of the inputs, e.g. input_data: ${{inputs.input_data}}");
  CHECK(error_of(dir, "type: parallel\ninput_data: data\ntask:\n  code: .\n") ==
        "job.yml:3: task.entry_script: is required; name the Python file that defines init() and run(), relative to "
        "task.code");
  CHECK(error_of(dir, "type: parallel\ninput_data: data\n").rfind("job.yml: task.entry_script: is required;", 0) == 0);
}

TEST_CASE("config: unreadable, empty and malformed job files", "[config_file]") {
  const JobDir dir;
  try {
    load({}, "nope.yml");
    FAIL("expected a prs::Error");
  } catch (const prs::Error& e) {
    CHECK(std::string(e.what()) == "nope.yml: cannot read the job file: No such file or directory");
  }
  dir.mkdir("folder.yml");
  try {
    load({}, "folder.yml");
    FAIL("expected a prs::Error");
  } catch (const prs::Error& e) {
    CHECK(std::string(e.what()) == "folder.yml: cannot read the job file: Is a directory");
  }
  CHECK(error_of(dir, "") == "job.yml: the job file is empty; it needs type: parallel, inputs, task...");
  CHECK(error_of(dir, "# only a comment\n") == "job.yml: the job file is empty; it needs type: parallel, inputs, task...");
  CHECK(error_of(dir, "- type: parallel\n") ==
        "job.yml:1: the job file must be a map of keys (type: parallel, inputs: ..., task: ...), got a list");
  CHECK(error_of(dir, "type: parallel\ninputs: {a: [1,\ntask: x\n") ==
        "job.yml:4:1: invalid YAML: end of sequence flow not found");
  CHECK(error_of(dir, "type: parallel\n  task: x\n") == "job.yml:2:7: invalid YAML: illegal map value");
}
