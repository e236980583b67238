// Tests of the job YAML's paths: ${{...}} bindings, paths relative to the job file, --log-dir, outputs and
// append_row_to, the inputs, code and entry script that must exist.
#include <catch2/catch.hpp>

#include "prs/config/config.hpp"
#include "prs/error.hpp"
#include "config_support.hpp"

using Strings = std::vector<std::string>;
using namespace prs_test::basic;  // JobDir, example_job, write_job, load, load_job, error_of
using prs_test::minimal_job;
using prs_test::resolved;

// ---- bindings ----

TEST_CASE("config: bindings resolve to absolute paths, also inside longer strings", "[config_paths]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, R"(type: parallel
inputs:
  input_data: {type: uri_folder, path: data}
  code: {type: uri_folder, path: ./src/}
outputs:
  predictions: {type: uri_folder, path: out}
input_data: ${{inputs.input_data}}
environment_variables: {MODEL_DIR: "${{ inputs.code }}/models", PLAIN: 1, FLAG: true}
task:
  code: ${{inputs.code}}
  entry_script: score.py
  program_arguments: --out=${{outputs.predictions}}/x --in ${{inputs.input_data}}
  append_row_to: ${{outputs.predictions}}/predictions.csv
)");
  CHECK(c.code_dir == dir / "src");
  CHECK(c.program_arguments == Strings{"--out=" + dir / "out/x", "--in", dir / "data"});
  CHECK(c.append_row_file == dir / "out/predictions.csv");
  CHECK(c.environment_variables == std::vector<std::pair<std::string, std::string>>{
                                       {"MODEL_DIR", dir / "src/models"}, {"PLAIN", "1"}, {"FLAG", "true"}});
}

TEST_CASE("config: an unknown binding names the declared inputs or outputs", "[config_paths]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job("  program_arguments: --model ${{inputs.modle}}\n")) ==
        "job.yml:7: task.program_arguments: ${{inputs.modle}}: no input named modle; declared inputs: input_data");
  CHECK(error_of(dir, minimal_job("  append_row_to: ${{outputs.out}}\n")) ==
        "job.yml:7: task.append_row_to: ${{outputs.out}}: no output named out; no outputs are declared");
  CHECK(error_of(dir, minimal_job("  code: ${{parent.inputs.x}}\n")) ==
        "job.yml:7: task.code: ${{parent.inputs.x}}: unknown binding; use ${{inputs.NAME}} or ${{outputs.NAME}}");
  CHECK(error_of(dir, minimal_job("environment_variables: {A: \"${{inputs.input_data\"}\n")) ==
        "job.yml:7: environment_variables.A: unterminated ${{ in: ${{inputs.input_data");
}

// ---- relative paths and the logs folder ----

TEST_CASE("config: relative paths are relative to the job file, not the working directory", "[config_paths]") {
  const JobDir dir;
  dir.write("jobs/job.yml", minimal_job("  append_row_to: out.txt\n"));
  dir.mkdir("jobs/data");
  dir.write("jobs/score.py", "");
  const prs::JobConfig c = load({}, "jobs/job.yml");
  CHECK(c.job_file == dir / "jobs/job.yml");
  CHECK(c.job_name == "jobs/job.yml");
  CHECK(c.input_path == dir / "jobs/data");
  CHECK(c.entry_script == dir / "jobs/score.py");
  CHECK(c.append_row_file == dir / "jobs/out.txt");
  CHECK(c.log_dir == dir / "jobs/logs");
  dir.write("jobs/job.yml", minimal_job("timeout: 5\n"));
  try {
    load({}, "jobs/job.yml");
    FAIL("expected a prs::Error");
  } catch (const prs::Error& e) {
    CHECK(std::string(e.what()) == "jobs/job.yml:7: timeout: unknown key; remove it or check its spelling");
  }
}

TEST_CASE("config: --log-dir is taken relative to the working directory", "[config_paths]") {
  const JobDir dir;
  write_job(dir, example_job);
  prs::CliOptions cli;
  cli.job_file = "job.yml";
  cli.log_dir = "my/logs/";
  CHECK(prs::load_job_config(cli).log_dir == dir / "my/logs");
  cli.log_dir = "/var/tmp/prs_logs";
  CHECK(prs::load_job_config(cli).log_dir == "/var/tmp/prs_logs");
}

// ---- outputs ----

TEST_CASE("config: an output without path goes under <job dir>/outputs/<name>", "[config_paths]") {
  const JobDir dir;
  const prs::JobConfig folder = load_job(dir, minimal_job("  append_row_to: ${{outputs.results}}\n"
                                                          "outputs:\n"
                                                          "  results: {type: uri_folder}\n"
                                                          "  single:\n"
                                                          "    type: uri_file\n"));
  CHECK(folder.append_row_file == dir / "outputs/results/parallel_run_step.txt");
  CHECK(folder.output_dirs == Strings{dir / "outputs/results", dir / "outputs"});
  CHECK(folder.log_dir == dir / "outputs/results/logs");
  CHECK(resolved(folder, "outputs.results.path") == dir / "outputs/results (default)");
  const prs::JobConfig file = load_job(dir, minimal_job("  append_row_to: ${{outputs.single}}\n"
                                                        "outputs: {single: {type: uri_file}}\n"));
  CHECK(file.append_row_file == dir / "outputs/single");
  CHECK(file.output_dirs == Strings{dir / "outputs"});
  const prs::JobConfig untyped = load_job(dir, minimal_job("  append_row_to: ${{outputs.rows}}\noutputs: {rows: }\n"));
  CHECK(untyped.append_row_file == dir / "outputs/rows/parallel_run_step.txt");  // the default type is uri_folder
}

TEST_CASE("config: append_row_to names a folder or a file", "[config_paths]") {
  const JobDir dir;
  dir.mkdir("existing");
  CHECK(load_job(dir, minimal_job("  append_row_to: existing\n")).append_row_file ==
        dir / "existing/parallel_run_step.txt");
  CHECK(load_job(dir, minimal_job("  append_row_to: new_folder/\n")).append_row_file ==
        dir / "new_folder/parallel_run_step.txt");
  const prs::JobConfig file = load_job(dir, minimal_job("  append_row_to: results/rows.csv\n"));
  CHECK(file.append_row_file == dir / "results/rows.csv");
  CHECK(file.output_dirs == Strings{dir / "results"});
  CHECK(load_job(dir, minimal_job("  append_row_to: " + dir / "abs.txt\n")).append_row_file == dir / "abs.txt");
  CHECK(load_job(dir, minimal_job("  append_row_to: existing\n"), {"append_row_file_name=mine.txt"}).append_row_file ==
        dir / "existing/mine.txt");
  CHECK(error_of(dir, minimal_job("  append_row_to: azureml://datastores/x/out\n")) ==
        "job.yml:7: task.append_row_to: must be a local path, got azureml://datastores/x/out");
}

TEST_CASE("config: summary_only writes no file", "[config_paths]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, minimal_job("  append_row_to: ${{outputs.o}}\n"
                                                     "outputs: {o: {type: uri_folder, path: out}}\n"
                                                     "output_action: summary_only\n"));
  CHECK(c.output_action == prs::OutputAction::summary_only);
  CHECK(c.append_row_file.empty());
  CHECK(c.output_dirs == Strings{dir / "out"});
  CHECK(c.log_dir == dir / "logs");
  CHECK(resolved(c, "output_action") == "summary_only (job.yml:9)");
  CHECK(resolved(c, "task.append_row_to") == "missing");
  CHECK(load_job(dir, minimal_job("  append_row_to: o.txt\noutput_action: append_row\n")).output_action ==
        prs::OutputAction::append_row);
  CHECK(error_of(dir, minimal_job("output_action: append\n")) ==
        "job.yml:7: output_action: must be append_row or summary_only, got append");
}

TEST_CASE("config: output folders are deduplicated", "[config_paths]") {
  const JobDir dir;
  const prs::JobConfig c = load_job(dir, minimal_job("  append_row_to: out/rows.txt\n"
                                                     "outputs:\n"
                                                     "  a: {type: uri_file, path: out/a.txt}\n"
                                                     "  b: {type: uri_folder, path: ./out}\n"
                                                     "  c: {type: uri_folder, path: other}\n"));
  CHECK(c.output_dirs == Strings{dir / "out", dir / "other"});
}

// ---- inputs, code and entry script ----

TEST_CASE("config: inputs: types and paths that must exist", "[config_paths]") {
  const JobDir dir;
  dir.write("rows.csv", "a\n");
  const std::string head = "type: parallel\ninput_data: ${{inputs.input_data}}\ntask: {entry_script: score.py}\n";
  const prs::JobConfig one_file = load_job(dir, head + "inputs: {input_data: {type: uri_file, path: rows.csv}}\n");
  CHECK(one_file.input_path == dir / "rows.csv");
  CHECK(one_file.input_kind == prs::InputKind::file_list);
  CHECK(load_job(dir, head + "inputs: {input_data: {path: data}}\n").input_path == dir / "data");
  CHECK(error_of(dir, head + "inputs: {input_data: {type: uri_folder, path: ./missing}}\n") ==
        "job.yml:4: inputs.input_data.path: " + dir / "missing does not exist");
  CHECK(error_of(dir, head + "inputs: {input_data: {type: uri_folder, path: rows.csv}}\n") ==
        "job.yml:4: inputs.input_data.path: " + dir / "rows.csv is not a folder; use type: uri_file for one file");
  CHECK(error_of(dir, head + "inputs: {input_data: {type: uri_file, path: data}}\n") ==
        "job.yml:4: inputs.input_data.path: " + dir / "data is not a file; use type: uri_folder for a folder");
  CHECK(error_of(dir, head + "inputs:\n  input_data:\n    type: mltable\n    path: data\n") ==
        "job.yml:7: inputs.input_data.path: " + dir / "data holds no MLTable file; a type: mltable input is a folder "
        "holding an MLTable file (paths and transformations)");
  CHECK(error_of(dir, head + "inputs:\n  input_data:\n    type: mltable\n    path: rows.csv\n") ==
        "job.yml:7: inputs.input_data.path: " + dir / "rows.csv is not a folder; a type: mltable input is a folder "
        "holding an MLTable file (paths and transformations)");
  CHECK(error_of(dir, head + "inputs: {input_data: {type: uri_table, path: data}}\n") ==
        "job.yml:4: inputs.input_data.type: must be uri_folder, uri_file, path_list, mltable or a model "
        "(mlflow_model, custom_model, triton_model), got uri_table");
  CHECK(error_of(dir, head + "inputs:\n  input_data:\n    type: uri_folder\n") ==
        "job.yml:5: inputs.input_data: needs a path: the folder or file to read");
  CHECK(error_of(dir, head + "inputs: {input_data: {path: \"azureml:iris:1\"}}\n") ==
        "job.yml:4: inputs.input_data.path: must be a local path, got azureml:iris:1");
  CHECK(error_of(dir, minimal_job("outputs: {o: {type: mlflow_model}}\n")) ==
        "job.yml:7: outputs.o.type: must be uri_folder, uri_file or mltable (a folder), got mlflow_model");
}

TEST_CASE("config: model inputs are paths on disk and an mltable output is a folder", "[config_paths]") {
  const JobDir dir;
  dir.write("model/weights.bin", "w");
  dir.write("model.pkl", "m");
  const std::string head = "type: parallel\ninput_data: ./data\ntask:\n  entry_script: score.py\n"
                           "  program_arguments: --model ${{inputs.model}}\n  append_row_to: ${{outputs.out}}\n";
  for (const char* type : {"mlflow_model", "custom_model", "triton_model"}) {
    const prs::JobConfig c = load_job(dir, head + "inputs: {model: {type: " + type + ", path: model}}\n"
                                             "outputs: {out: {type: mltable, path: ./scored}}\n");
    CHECK(c.program_arguments == Strings{"--model", dir / "model"});
    CHECK(c.append_row_file == dir / "scored/parallel_run_step.txt");  // a folder gets the default file name
  }
  CHECK(load_job(dir, head + "inputs: {model: {type: custom_model, path: model.pkl}}\noutputs: {out: {path: o.txt, "
                             "type: uri_file}}\n").program_arguments == Strings{"--model", dir / "model.pkl"});
  CHECK(error_of(dir, head + "inputs: {model: {type: mlflow_model, path: ./gone}}\noutputs: {out: {type: mltable}}\n") ==
        "job.yml:7: inputs.model.path: " + dir / "gone does not exist");
}

TEST_CASE("config: input_data as a literal path", "[config_paths]") {
  const JobDir dir;
  dir.write("data/a.txt", "");
  const std::string tail = "task: {entry_script: score.py}\n";
  CHECK(load_job(dir, "type: parallel\ninput_data: ./data\n" + tail).input_path == dir / "data");
  CHECK(load_job(dir, "type: parallel\ninput_data: data/a.txt\n" + tail).input_path == dir / "data/a.txt");
  CHECK(load_job(dir, "type: parallel\ninputs: {d: {path: .}}\ninput_data: ${{inputs.d}}/data\n" + tail).input_path ==
        dir / "data");
  CHECK(error_of(dir, "type: parallel\ninput_data: ./nothing\n" + tail) ==
        "job.yml:2: input_data: " + dir / "nothing does not exist");
}

TEST_CASE("config: code and entry script must exist", "[config_paths]") {
  const JobDir dir;
  CHECK(error_of(dir, minimal_job(), {"task.entry_script=scor.py"}) ==
        "--set task.entry_script=scor.py: task.entry_script: " + dir / "scor.py does not exist");
  CHECK(error_of(dir, minimal_job("  code: ./source\n")) == "job.yml:7: task.code: " + dir / "source does not exist");
  CHECK(error_of(dir, minimal_job("  code: score.py\n")) == "job.yml:7: task.code: " + dir / "score.py is not a folder");
  CHECK(error_of(dir, "type: parallel\ninput_data: data\ntask:\n  code: src\n  entry_script: nope.py\n") ==
        "job.yml:5: task.entry_script: " + dir / "src/nope.py does not exist");
  CHECK(error_of(dir, minimal_job("  code: \"\"\n")) == "job.yml:7: task.code: must be a path, got nothing");
  CHECK(load_job(dir, minimal_job(), {"task.entry_script=" + dir / "src/score.py"}).entry_script == dir / "src/score.py");
}

TEST_CASE("config: an append_row_to ending in .h5 commits its rows to <out>.h5.rows beside it", "[config_paths]") {
  const JobDir dir;
  const prs::JobConfig h5 = load_job(dir, minimal_job("  append_row_to: ${{outputs.rows}}\n"
                                                      "outputs: {rows: {type: uri_file, path: out/rows.h5}}\n"));
  CHECK(h5.h5_file == dir / "out/rows.h5");
  CHECK(h5.append_row_file == dir / "out/rows.h5.rows");
  CHECK(prs::output_file(h5) == dir / "out/rows.h5");
  CHECK(h5.log_dir == dir / "out/logs");
  const prs::JobConfig folder = load_job(dir, minimal_job("  append_row_to: ${{outputs.rows}}\n"
                                                          "  program_arguments: --append_row_file_name r.h5\n"
                                                          "outputs: {rows: {type: uri_folder, path: out}}\n"));
  CHECK(folder.h5_file == dir / "out/r.h5");
  CHECK(folder.append_row_file == dir / "out/r.h5.rows");
  const prs::JobConfig text = load_job(dir, minimal_job("  append_row_to: ${{outputs.rows}}\n"
                                                        "outputs: {rows: {type: uri_file, path: out/rows.h5x}}\n"));
  CHECK(text.h5_file.empty());
  CHECK(prs::output_file(text) == dir / "out/rows.h5x");
}
