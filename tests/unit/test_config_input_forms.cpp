// Tests of what is read and in which order rows are written: the input forms (folder, file, glob, path list) and
// ordered (from the job file or --ordered). Every message is asserted whole.
#include <catch2/catch.hpp>

#include "prs/config/config.hpp"
#include "config_support.hpp"

using namespace prs_test::cloud;  // JobDir, options, load_job, error_of
using prs_test::minimal_job;
using prs_test::resolved;

// ---- ordered ----

TEST_CASE("config_v1: ordered: from the job file or --ordered", "[config_input_forms]") {
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

TEST_CASE("config_v1: input forms: folder, file, glob and path list", "[config_input_forms]") {
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
        "job.yml:7: outputs.o.type: must be uri_folder, uri_file or mltable (a folder), got path_list");
}
