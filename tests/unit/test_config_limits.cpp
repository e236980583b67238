// Tests of the job file's limits: what may be read as a job file, its size, numbers that overflow, the output that
// must not overwrite the job or its code, skip_unreadable_inputs, and large files validated whole.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "config_support.hpp"
#include "normal_user.hpp"
#include "prs/config/config.hpp"
#include "prs/error.hpp"

namespace fs = std::filesystem;
using Strings = std::vector<std::string>;

namespace {

using JobDir = prs_test::TempJobDir;
using prs_test::minimal_job;

// Writes job.yml with its data folder and entry script.
void write_job(const JobDir& dir, const std::string& yaml) {
  dir.write("job.yml", yaml);
  dir.mkdir("data");
  dir.write("score.py", "def run(batch): return batch\n");
  dir.write("src/score.py", "def run(batch): return batch\n");
}

prs::CliOptions cli_for(const std::string& job_file, const Strings& sets = {}) {
  prs::CliOptions cli;
  cli.job_file = job_file;
  cli.sets = sets;
  return cli;
}

prs::JobConfig load_job(const JobDir& dir, const std::string& yaml, const Strings& sets = {}) {
  write_job(dir, yaml);
  return prs::load_job_config(cli_for("job.yml", sets));
}

std::string error_of(const JobDir& dir, const std::string& yaml, const Strings& sets = {}) {
  write_job(dir, yaml);
  return prs_test::load_error(cli_for("job.yml", sets));
}

const std::string int_max = "2147483647";

}  // namespace

// ---- what is read as a job file ----

TEST_CASE("config limits: a device, a FIFO or a folder is refused before any read", "[config_limits]") {
  const JobDir dir;
  CHECK(prs_test::load_error(cli_for("/dev/zero")) ==
        "/dev/zero: the job file must be a regular file, got a character device");
  CHECK(prs_test::load_error(cli_for("/dev/null")) ==
        "/dev/null: the job file must be a regular file, got a character device");
  REQUIRE(::mkfifo((dir / "fifo.yml").c_str(), 0600) == 0);  // no writer: reading it would block for ever
  CHECK(prs_test::load_error(cli_for("fifo.yml")) == "fifo.yml: the job file must be a regular file, got a FIFO (named pipe)");
  dir.mkdir("folder.yml");
  CHECK(prs_test::load_error(cli_for("folder.yml")) == "folder.yml: cannot read the job file: Is a directory");
}

TEST_CASE("config limits: a job file over 16 MiB is refused naming the limit; 16 MiB is read", "[config_limits]") {
  const JobDir dir;
  write_job(dir, "");
  const std::string job = minimal_job();
  const std::string padding = "#" + std::string(prs::max_job_file_bytes - job.size() - 2, 'x') + "\n";
  {
    std::ofstream out(dir / "job.yml", std::ios::binary);
    out << job << padding;
  }
  REQUIRE(fs::file_size(dir / "job.yml") == prs::max_job_file_bytes);
  CHECK(prs::load_job_config(cli_for("job.yml")).mini_batch_size == 10);
  std::ofstream(dir / "job.yml", std::ios::binary | std::ios::app) << "\n";
  CHECK(prs_test::load_error(cli_for("job.yml")) ==
        "job.yml: the job file must be at most 16 MiB (16777216 bytes), got 16777217 bytes");
}

// ---- numbers that overflow ----

TEST_CASE("config limits: mini_batch_size beyond int max is refused with its range", "[config_limits]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("mini_batch_size: 18446744073709551615\n")) ==
        "job.yml:7: mini_batch_size: must be in [1, " + int_max + "], got 18446744073709551615");
  CHECK(error_of(dir, minimal_job("mini_batch_size: \"18446744073709551616\"\n")) ==
        "job.yml:7: mini_batch_size: must be in [1, " + int_max + "], got 18446744073709551616");
  CHECK(error_of(dir, minimal_job("mini_batch_size: 2147483648\n")) ==
        "job.yml:7: mini_batch_size: must be in [1, " + int_max + "], got 2147483648");
  CHECK(error_of(dir, minimal_job(), {"mini_batch_size=99999999999999999999999999"}) ==
        "--set mini_batch_size=99999999999999999999999999: mini_batch_size: must be in [1, " + int_max +
            "], got 99999999999999999999999999");
  CHECK(load_job(dir, minimal_job("mini_batch_size: 2147483647\n")).mini_batch_size == 2147483647u);
}

TEST_CASE("config limits: a size string of any magnitude is refused as a size for a file list", "[config_limits]") {
  const JobDir dir;
  const std::string sizes = "must be a count of files for a file list input (sizes such as 10kb are for tabular "
                            "input), got ";
  for (const std::string size : {"18446744073709551616 mb", "99999999999999999999999kb", "16777216tb", "1.5 GB"}) {
    CHECK(error_of(dir, minimal_job("mini_batch_size: " + size + "\n")) == "job.yml:7: mini_batch_size: " + sizes + size);
  }
}

TEST_CASE("config limits: every integer setting beyond its range names the range, in the file, --set and arguments",
          "[config_limits]") {
  const JobDir dir;
  struct Case {
    std::string key;     // as --set takes it
    std::string yaml;    // the setting at line 7, VALUE replaced
    std::string range;
  };
  const std::vector<Case> cases = {
      {"resources.instance_count", "resources: {instance_count: VALUE}\n", "[1, " + int_max + "]"},
      {"max_concurrency_per_instance", "max_concurrency_per_instance: VALUE\n", "[1, " + int_max + "]"},
      {"mini_batch_error_threshold", "mini_batch_error_threshold: VALUE\n", "[-1, " + int_max + "]"},
      {"retry_settings.max_retries", "retry_settings: {max_retries: VALUE}\n", "[0, " + int_max + "]"},
      {"retry_settings.timeout", "retry_settings: {timeout: VALUE}\n", "(0, 259200]"},
      {"error_threshold", "error_threshold: VALUE\n", "[-1, " + int_max + "]"},
      {"allowed_failed_percent", "allowed_failed_percent: VALUE\n", "[0, 100]"},
      {"node_count", "node_count: VALUE\n", "[1, " + int_max + "]"},
      {"process_count_per_node", "process_count_per_node: VALUE\n", "[1, " + int_max + "]"},
      {"run_invocation_timeout", "run_invocation_timeout: VALUE\n", "(0, 259200]"},
      {"run_max_try", "run_max_try: VALUE\n", "[1, " + int_max + "]"},
      {"allowed_failed_count", "allowed_failed_count: VALUE\n", "[-1, " + int_max + "]"},
  };
  for (const std::string value : {"18446744073709551615", "2147483648", "-9223372036854775809", "9223372036854775808"}) {
    for (const Case& c : cases) {
      std::string yaml = c.yaml;
      yaml.replace(yaml.find("VALUE"), 5, value);
      CHECK(error_of(dir, minimal_job(yaml)) == "job.yml:7: " + c.key + ": must be in " + c.range + ", got " + value);
      CHECK(error_of(dir, minimal_job(), {c.key + "=" + value}) ==
            "--set " + c.key + "=" + value + ": " + c.key + ": must be in " + c.range + ", got " + value);
    }
  }
  for (const std::string knob : {"task_overhead_timeout", "progress_update_timeout", "first_task_creation_timeout"}) {
    CHECK(error_of(dir, minimal_job("  program_arguments: --" + knob + " 18446744073709551615\n")) ==
          "job.yml:7: task.program_arguments: --" + knob + ": must be in (0, 259200], got 18446744073709551615");
  }
  CHECK(error_of(dir, minimal_job("  program_arguments: --resource_monitor_interval=4294967296\n")) ==
        "job.yml:7: task.program_arguments: --resource_monitor_interval: must be in [0, " + int_max +
            "], got 4294967296");
  CHECK(error_of(dir, minimal_job("  program_arguments: --error_threshold -2147483649\n")) ==
        "job.yml:7: task.program_arguments: --error_threshold: must be in [-1, " + int_max + "], got -2147483649");
}

TEST_CASE("config limits: the largest values in range are taken", "[config_limits]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, minimal_job("resources: {instance_count: 2147483647}\n"
                                                     "retry_settings: {max_retries: 2147483647, timeout: 259200}\n"
                                                     "error_threshold: 2147483647\n"));
  CHECK(c.instance_count == 2147483647);
  CHECK(c.max_retries == 2147483647);
  CHECK(c.timeout == 259200);
  CHECK(c.error_threshold == 2147483647);
}

// ---- the output never overwrites the job or its code ----

TEST_CASE("config limits: an output that is the entry script or the job file is refused naming both", "[config_limits]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("  append_row_to: ./score.py\n")) ==
        "job.yml:7: task.append_row_to: " + dir / "score.py" + " is the entry script (task.entry_script: " +
            dir / "score.py" + "); the rows would overwrite it: write them to another file");
  fs::create_symlink("score.py", dir / "alias.py");
  CHECK(error_of(dir, minimal_job("  append_row_to: ./alias.py\n")) ==
        "job.yml:7: task.append_row_to: " + dir / "alias.py" + " is the entry script (task.entry_script: " +
            dir / "score.py" + "); the rows would overwrite it: write them to another file");
  CHECK(error_of(dir, minimal_job(), {"task.append_row_to=job.yml"}) ==
        "--set task.append_row_to=job.yml: task.append_row_to: " + dir / "job.yml" + " is the job file (" +
            dir / "job.yml" + "); the rows would overwrite it: write them to another file");
}

TEST_CASE("config limits: an output inside task.code is refused, unless task.code is the job's folder",
          "[config_limits]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("  code: ./src\n  append_row_to: ./src/out/rows.txt\n")) ==
        "job.yml:8: task.append_row_to: " + dir / "src/out/rows.txt" + " lies inside task.code (" + dir / "src" +
            ", job.yml:7), the entry script's folder; write the rows outside it");
  CHECK(error_of(dir, minimal_job("  code: ./src\n  append_row_to: ./src/\n")) ==
        "job.yml:8: task.append_row_to: " + dir / "src/parallel_run_step.txt" + " lies inside task.code (" +
            dir / "src" + ", job.yml:7), the entry script's folder; write the rows outside it");
  CHECK(load_job(dir, minimal_job("  code: .\n  append_row_to: ./out/rows.txt\n")).append_row_file ==
        dir / "out/rows.txt");
  CHECK(load_job(dir, minimal_job("  code: ./src\n  append_row_to: ./out/rows.txt\n")).append_row_location ==
        "job.yml:8: task.append_row_to");
}

TEST_CASE("config limits: a path behind a folder that cannot be searched is unreadable, not missing", "[config_limits]") {
  const JobDir dir;
  write_job(dir, minimal_job());
  dir.write("data/shut/inside/a.txt", "a\n");
  fs::permissions(dir.root(), fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                                  fs::perms::others_exec, fs::perm_options::add);
  for (const char* path : {"job.yml", "score.py", "data"}) {
    fs::permissions(dir / path, fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
  }
  fs::permissions(dir / "data/shut", fs::perms::owner_all);  // others may not pass
  const auto error_as_nobody = [&](const Strings& sets) {
    return prs_test::as_normal_user([&] { return prs_test::load_error(cli_for("job.yml", sets)); });
  };
  CHECK(error_as_nobody({"inputs.input_data.path=./data/shut/inside"}) ==
        "--set inputs.input_data.path=./data/shut/inside: inputs.input_data.path: " + dir / "data/shut/inside" +
            ": cannot be read: Permission denied");
  CHECK(error_as_nobody({"task.entry_script=data/shut/x.py"}) ==
        "--set task.entry_script=data/shut/x.py: task.entry_script: " + dir / "data/shut/x.py" +
            ": cannot be read: Permission denied");
  CHECK(error_as_nobody({"inputs.input_data.path=./data/nothing"}) ==
        "--set inputs.input_data.path=./data/nothing: inputs.input_data.path: " + dir / "data/nothing" +
            " does not exist");
}

// ---- skip_unreadable_inputs ----

TEST_CASE("config limits: skip_unreadable_inputs is a flag of the job file and of --set", "[config_limits]") {
  const JobDir dir;
  CHECK_FALSE(load_job(dir, minimal_job()).skip_unreadable_inputs);
  const prs::JobConfig on = load_job(dir, minimal_job("skip_unreadable_inputs: true\n"));
  CHECK(on.skip_unreadable_inputs);
  CHECK(prs_test::resolved(on, "skip_unreadable_inputs") == "true (job.yml:7)");
  CHECK(load_job(dir, minimal_job(), {"skip_unreadable_inputs=true"}).skip_unreadable_inputs);
  CHECK_FALSE(load_job(dir, minimal_job("skip_unreadable_inputs: true\n"), {"skip_unreadable_inputs=false"})
                  .skip_unreadable_inputs);
  CHECK(error_of(dir, minimal_job("skip_unreadable_inputs: sometimes\n")) ==
        "job.yml:7: skip_unreadable_inputs: must be true or false, got sometimes");
  CHECK(error_of(dir, minimal_job("skip_unreadable_input: true\n")) ==
        "job.yml:7: skip_unreadable_input: unknown key; did you mean skip_unreadable_inputs?");
}

// ---- large job files are validated whole (the lookups are indexed: no pass over all keys per key) ----

TEST_CASE("config limits: a job with 20000 variables and 5000 inputs loads whole; a repeat is found", "[config_limits]") {
  const JobDir dir;
  std::string yaml = "type: parallel\ninputs:\n  input_data: {type: uri_folder, path: ./data}\n";
  for (int i = 0; i < 5000; ++i) yaml += "  in_" + std::to_string(i) + ": {type: uri_folder, path: ./data}\n";
  yaml += "input_data: ${{inputs.in_4999}}\nenvironment_variables:\n";
  for (int i = 0; i < 20000; ++i) yaml += "  V" + std::to_string(i) + ": ${{inputs.in_" + std::to_string(i % 5000) + "}}\n";
  yaml += "task:\n  entry_script: score.py\n";
  const prs::JobConfig c = load_job(dir, yaml);
  REQUIRE(c.environment_variables.size() == 20000);
  CHECK(c.environment_variables[19999] == std::pair<std::string, std::string>{"V19999", dir / "data"});
  CHECK(c.input_path == dir / "data");
  const std::size_t line = 3 + 5000 + 2 + 20000;  // the last variable's line
  const std::string repeated = yaml.substr(0, yaml.find("task:")) + "  V7: x\n" + yaml.substr(yaml.find("task:"));
  CHECK(error_of(dir, repeated) ==
        "job.yml:" + std::to_string(line + 1) + ": environment_variables.V7: given twice (also at job.yml:5013)");
  const std::string unbound = yaml + "  program_arguments: --x ${{inputs.in_5000}}\n";
  CHECK(error_of(dir, unbound).rfind("job.yml:" + std::to_string(line + 3) +
                                         ": task.program_arguments: ${{inputs.in_5000}}: no input named in_5000; "
                                         "declared inputs: input_data, in_0, in_1, ",
                                     0) == 0);
}
