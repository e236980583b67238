"""The seeds' Python examples, as docs/python_jobs.md ports them (imports only, plus the named lines that replace the
cloud submission), run end to end under mpiexec on small data; the job file each writes resolves to the same
settings as the doc's YAML form of the job."""
import os

import pytest
from conftest import SEEDS_DIR, apply_diff, doc_blocks, port, read, run_code, same_settings, write

import prs_mpi

BLOCKS = doc_blocks()


def program(*seeds, diff=None, local=None, setup=None):
    """The code a test runs: setup, the seed blocks with their imports ported and the diff applied, the local lines."""
    code = port("".join(BLOCKS[f"{name}/seed"] for name in seeds))
    if diff:
        code = apply_diff(code, BLOCKS[f"{diff}/diff"])
    return (BLOCKS[f"{setup}/setup"] if setup else "") + code + (BLOCKS[f"{local}/local"] if local else "")


def data(folder, count, ext=".txt"):
    """count small files NAME_i with content i; returns their names."""
    names = [f"item_{i:02d}{ext}" for i in range(count)]
    for i, name in enumerate(names):
        write(f"{folder}/{name}", f"{i}\n")
    return names


# Writes one file per input into --job_output_path (the seed's file_batch_inference.py does the same with scores).
FILE_SCRIPT = """\
    import argparse, os
    def init():
        global out
        parser = argparse.ArgumentParser()
        parser.add_argument("--job_output_path")
        out = parser.parse_known_args()[0].job_output_path
    def run(mini_batch):
        for path in mini_batch:
            with open(os.path.join(out, os.path.basename(path) + ".score"), "w") as f:
                f.write(str(10 * int(open(path).read())))
        return [os.path.basename(p) for p in mini_batch]
"""

# Rows "NAME VALUE*FACTOR", the factor read from --model (the seed's tabular_batch_inference.py scores with a model).
MODEL_SCRIPT = """\
    import argparse, os
    def init():
        global factor
        parser = argparse.ArgumentParser()
        parser.add_argument("--model")
        model = parser.parse_known_args()[0].model or os.path.join(os.getcwd(), "model")
        factor = int(open(os.path.join(model, "factor.txt")).read())
    def run(mini_batch):
        return [f"{os.path.basename(p)} {int(open(p).read()) * factor}" for p in mini_batch]
"""

# The same scores for a table: run() gets a DataFrame of rows (name, value) and returns (name, value * factor).
TABLE_SCRIPT = MODEL_SCRIPT.split("    def run")[0] + """\
    def run(mini_batch):
        out = mini_batch[["name"]].copy()
        out["score"] = mini_batch["value"] * factor
        return out
"""


def test_the_ported_imports_are_the_seeds_with_prs_mpi_in_front():
    assert port(BLOCKS["imports_003/seed"]) == BLOCKS["imports_003/ported"]
    assert port(BLOCKS["imports_002/seed"]) == BLOCKS["imports_002/ported"]
    assert BLOCKS["imports_003/seed"].count("\n") == BLOCKS["imports_003/ported"].count("\n") + 1  # azure.identity


@pytest.mark.skipif(not os.path.isdir(SEEDS_DIR), reason=f"the seeds are not at {SEEDS_DIR} (PRS_SEEDS_DIR)")
def test_the_doc_quotes_the_seeds_as_they_are():
    seeds = {}
    for name in sorted(os.listdir(SEEDS_DIR)):
        if name.endswith(".txt"):
            lines = read(os.path.join(SEEDS_DIR, name)).splitlines()
            dedented = [line[3:] if line.startswith("   ") else line for line in lines]  # 004 indents by 3
            seeds[name[:3]] = ["\n".join(lines), "\n".join(dedented)]
    quoted = {key: block for key, block in BLOCKS.items() if key.endswith("/seed")}
    assert len(quoted) == 10
    for key, block in quoted.items():
        assert any(block.rstrip("\n") in text for texts in seeds.values() for text in texts), key


def test_file_data(in_tmp):
    names = data("data", 5)
    write("src/file_batch_inference.py", FILE_SCRIPT)
    ns = run_code(program("imports_003", "file_batch", local="file_batch"))
    assert ns["exit_code"] == 0
    assert ns["summary"]["mini_batches"] == {"total": 5, "succeeded": 5, "failed": 0, "unconfirmed": 0}
    assert sorted(os.listdir("outputs/job_output_path")) == sorted(n + ".score" for n in names)
    assert read("outputs/job_output_path/item_03.txt.score") == "30"
    ns["job"].dump("python.yml")
    write("job.yml", BLOCKS["file_batch/yaml"])
    settings = same_settings("python.yml", "job.yml")
    assert settings["ignored"] == ["description", "display_name", "task.environment"]
    assert settings["settings"]["mini_batch_error_threshold"] == "1"


def test_tabular_data(in_tmp):
    rows = [f"item_{i:02d},{i}" for i in range(30)]  # 10 or 11 bytes a row, 317 in all
    write("data/MLTable", BLOCKS["tabular_batch/data/MLTable"])
    write("data/rows.csv", "name,value\n" + "".join(r + "\n" for r in rows))
    write("model/factor.txt", "7\n")
    write("src/tabular_batch_inference.py", TABLE_SCRIPT)
    ns = run_code(program("imports_003", "tabular_batch", local="tabular_batch"))
    assert ns["exit_code"] == 0
    # cut at each multiple of 100 bytes after the header, moved to the next row: rows 0-9, 10-18, 19-27, 28-29
    assert ns["summary"]["mini_batches"] == {"total": 4, "succeeded": 4, "failed": 0, "unconfirmed": 0}
    assert ns["summary"]["items"] == {"total": 30, "succeeded": 30, "failed": 0}
    assert sorted(read("outputs/job_output_path").splitlines()) == sorted(f"item_{i:02d} {7 * i}" for i in range(30))
    ns["job"].dump("python.yml")
    write("job.yml", BLOCKS["tabular_batch/yaml"])
    settings = same_settings("python.yml", "job.yml")
    assert settings["settings"]["resource_monitor_interval"] == "20"  # --resource_monitor_interva, a prefix
    assert settings["ignored"] == ["description", "display_name", "task.environment"]


def test_the_seeds_pipeline_with_its_command_step_left_out(in_tmp):
    names = data("dataset", 4)
    write("model/factor.txt", "2\n")
    write("src/file_batch_inference.py", FILE_SCRIPT)
    write("src/tabular_batch_inference.py", MODEL_SCRIPT)
    ns = run_code(program("imports_003", "file_batch", "tabular_batch", "pipeline_003", diff="pipeline_003",
                          local="pipeline_003"))
    assert tuple(ns["file_step"]) == (0, ns["file_step"].summary)
    assert ns["file_step"].summary["items"] == {"total": 4, "succeeded": 4, "failed": 0}
    assert sorted(os.listdir("out/files")) == sorted(n + ".score" for n in names)
    assert ns["tabular_step"].exit_code == 0
    assert sorted(read("out/rows.txt").splitlines()) == [f"{n} {2 * i}" for i, n in enumerate(names)]
    jobs = ns["pipeline_job"].to_dict(os.getcwd())["jobs"]
    assert list(jobs) == ["batch_inference_with_file_data", "batch_inference_with_tabular_data"]
    # A mode set on a step's bound input writes the pipeline input's type and path with it.
    assert jobs["batch_inference_with_file_data"]["inputs"] == {
        "job_data_path": {"type": "uri_folder", "path": "./dataset/", "mode": "eval_mount"}}
    assert jobs["batch_inference_with_tabular_data"]["inputs"] == {
        "job_data_path": {"type": "uri_folder", "path": "./dataset/", "mode": "direct"},
        "score_model": "${{parent.inputs.pipeline_score_model}}"}
    assert jobs["batch_inference_with_tabular_data"]["outputs"] == {
        "job_output_path": "${{parent.outputs.pipeline_job_out_tabular}}"}
    assert ns["pipeline_job"].to_dict(os.getcwd())["settings"] == {"default_compute": "cpu-cluster"}


def test_the_blogs_component_in_a_dsl_pipeline(in_tmp):
    names = data("batch-data", 12, ".csv")
    write("model/factor.txt", "3\n")
    write("src/scoring/score.py", MODEL_SCRIPT)
    ns = run_code(program("imports_002", "batch_scoring", "blog_pipeline", diff="blog_pipeline",
                          local="blog_pipeline"))
    assert ns["exit_code"] == 0
    assert ns["summary"]["mini_batches"] == {"total": 2, "succeeded": 2, "failed": 0, "unconfirmed": 0}  # 10 files a mini-batch
    rows = read("outputs/predictions/predictions.csv").splitlines()
    assert sorted(rows) == [f"{n} {3 * i}" for i, n in enumerate(names)]
    ns["pipeline_job"].dump("python.yml")
    write("job.yml", BLOCKS["blog_pipeline/yaml"])
    settings = same_settings("python.yml", "job.yml")
    assert settings["pipeline job"] == "scoring_step"
    assert settings["ignored"] == ["compute", "description", "description", "display_name", "name",
                                   "task.environment"]


def test_the_blogs_strategies_take_mini_batch_row_size(in_tmp):
    code = port(BLOCKS["imports_002/seed"] + BLOCKS["strategies/seed"])
    ns = {}
    exec(code, ns)
    assert ns["parallel_job_rows"].mini_batch_row_size == 1000
    ns["parallel_job_rows"].dump("rows.yml")
    assert "mini_batch_row_size: 1000\n" in read("rows.yml")
    with pytest.raises(prs_mpi.ConfigError) as first:
        prs_mpi.dry_run(ns["parallel_job_file"])
    assert str(first.value) == ("file_parallel.prs_mpi.yml:4: input_data: ${{inputs.input_data}}: no input named "
                                "input_data; no inputs are declared")
    strategy_3 = "# Strategy 3" + BLOCKS["strategies/seed"].split("# Strategy 3")[1]
    ns = run_code(port(BLOCKS["imports_002/seed"]) + strategy_3)
    with pytest.raises(prs_mpi.ConfigError) as third:
        prs_mpi.dry_run(ns["parallel_job_memory"])
    assert str(third.value) == ("memory_parallel.prs_mpi.yml:5: mini_batch_size: must be a count of files for a file "
                                "list input (sizes such as 10kb are for tabular input), got 100MB")


def test_the_blogs_scaling_example_once_it_has_an_input(in_tmp):
    data("data", 7)
    write("model/factor.txt", "1\n")
    write("src/scoring/score.py", MODEL_SCRIPT)
    code = port(BLOCKS["imports_002/seed"] + BLOCKS["high_throughput/seed"])
    ns = run_code(code)
    with pytest.raises(prs_mpi.ConfigError) as raised:
        prs_mpi.dry_run(ns["high_throughput_job"])
    assert str(raised.value) == ("high_throughput_scoring.prs_mpi.yml: input_data: is required; bind it to one of the "
                                 "inputs, e.g. input_data: ${{inputs.input_data}}")
    ns = run_code(code + BLOCKS["high_throughput/local"])
    assert ns["exit_code"] == 0
    assert ns["summary"]["items"] == {"total": 7, "succeeded": 7, "failed": 0}
    ns["high_throughput_job"].dump("python.yml")
    write("job.yml", BLOCKS["high_throughput/yaml"])
    settings = same_settings("python.yml", "job.yml")
    assert settings["ignored"] == ["compute", "task.environment"]


def test_the_v1_parallel_run_step(in_tmp):
    names = data("mnist", 7, ".png")
    write("scripts/digit_identification.py", """\
        import argparse, os
        def run(mini_batch):
            extra = argparse.ArgumentParser()
            extra.add_argument("--extra_arg")
            value = extra.parse_known_args()[0].extra_arg
            return [f"{os.path.basename(p)} {value}" for p in mini_batch]
    """)
    ns = run_code(program("v1_step", setup="v1_step", local="v1_step"))
    assert ns["exit_code"] == 0
    assert ns["summary"]["mini_batches"] == {"total": 2, "succeeded": 2, "failed": 0, "unconfirmed": 0}  # 5 files a mini-batch
    assert sorted(read("outputs/inferences/parallel_run_step.txt").splitlines()) == [f"{n} example_value"
                                                                                     for n in names]
    loaded = prs_mpi.ParallelRunConfig.load_yaml(None, "parallel_run_config.yml")
    assert loaded == ns["parallel_run_config"]
    ns["parallelrun_step"].dump("python.yml")
    write("job.yml", BLOCKS["v1_step/yaml"])
    # save_to_yaml names the compute target compute_target_name; both are cloud-only keys
    settings = same_settings("python.yml", "job.yml", prefix_of_ignored="parallel_run_config.",
                             aliases={"compute_target_name": "compute_target"})
    assert {k: settings["settings"][k] for k in ("retry_settings.max_retries", "error_threshold",
                                                 "mini_batch_error_threshold", "allowed_failed_percent")} == {
        "retry_settings.max_retries": "2", "error_threshold": "10", "mini_batch_error_threshold": "15",
        "allowed_failed_percent": "10"}
    assert settings["ignored"] == ["compute_target", "environment", "is_deterministic"]


def test_every_example_the_doc_marks_has_a_test_here():
    assert {key.split("/")[0] for key in BLOCKS} == {
        "imports_003", "file_batch", "tabular_batch", "pipeline_003",  # each run by a test above
        "imports_002", "batch_scoring", "blog_pipeline", "strategies", "high_throughput", "v1_step"}
