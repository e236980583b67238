"""A job runs end to end: every item's row exactly once, the counters, the logs, the output forms."""
import os

from prs_e2e import expect, expect_equal

LIST_SCRIPT = """
    import os, sys
    def init():
        global tag
        tag = sys.argv[sys.argv.index("--x") + 1]
    def run(mini_batch):
        return [f"{os.path.basename(p)} {open(p).read().strip()} {tag}" for p in mini_batch]
"""


def test_list_rows_once_each_with_counters(make_job):
    job = make_job("list", LIST_SCRIPT, items=23, batch=5)
    proc = job.run(np=4)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expected = sorted(f"item_{i:03d}.txt {i} 1" for i in range(23))
    expect_equal(sorted(job.rows()), expected, "rows")
    s = job.summary()
    expect_equal(s["mini_batches"], {"total": 5, "succeeded": 5, "failed": 0, "unconfirmed": 0}, "mini-batches", proc)
    expect_equal(s["items"], {"total": 23, "succeeded": 23, "failed": 0}, "items", proc)
    expect_equal(s["attempts"]["run_calls"], 5, "run() calls")
    expect_equal(s["workers"], {"started": 3, "retired": 0, "lost": 0, "quarantined": 0, "python_restarts": 0}, "workers")
    expect_equal(s["output_bytes"], os.path.getsize(job.path("out/predictions.txt")), "output bytes")
    result = job.read("out/logs/job_result.txt")
    expect(result.startswith("succeeded\n"), result)
    expect("items: 23 in all, 23 succeeded, 0 failed" in result, result)
    expect("prs_mpi: succeeded\nprs_mpi: 23 of 23 items succeeded in 5 mini-batches" in proc.stdout, "summary", proc)


def test_two_ranks_one_worker(make_job):
    job = make_job("np2", LIST_SCRIPT, items=7, batch=2)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(len(job.rows()), 7, "row count", proc)
    expect_equal(len(set(job.rows())), 7, "distinct rows", proc)


def test_dataframe_rows_as_pandas_writes_them(make_job):
    script = """
        import os
        import pandas as pd
        def init():
            pass
        def run(mini_batch):
            names = [os.path.basename(p) for p in mini_batch]
            return pd.DataFrame({"file": names, "text": [f'say "hi" {n}' for n in names], "score": [0.5] * len(names)})
    """
    job = make_job("df", script, items=8, batch=3)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    import pandas as pd
    names = [f"item_{i:03d}.txt" for i in range(8)]
    frame = pd.DataFrame({"file": names, "text": [f'say "hi" {n}' for n in names], "score": [0.5] * 8})
    expected = frame.to_csv(sep=" ", header=False, index=False).splitlines()
    expect_equal(sorted(job.rows()), sorted(expected), "rows")
    expect_equal(expected[0], 'item_000.txt "say ""hi"" item_000.txt" 0.5', "pandas quoting")


def test_dataframe_header_written_once_at_the_top(make_job):
    script = """
        import os
        import pandas as pd
        def run(mini_batch):
            return pd.DataFrame({"file": [os.path.basename(p) for p in mini_batch], "n": [1] * len(mini_batch)})
    """
    job = make_job("header", script, items=9, batch=2, arguments="--append_row_dataframe_header True")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    rows = job.rows()
    expect_equal(rows[0], "file n", "header line")
    expect_equal(sorted(rows[1:]), [f"item_{i:03d}.txt 1" for i in range(9)], "data rows")


def test_tuple_and_ndarray_returns(make_job):
    script = """
        import numpy as np
        def run(mini_batch):
            values = [int(open(p).read()) for p in mini_batch]
            return tuple(values) if values[0] % 2 == 0 else np.array(values) * 10
    """
    job = make_job("tuple", script, items=6, batch=1)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows(), key=int), ["0", "2", "4", "10", "30", "50"], "rows")


def test_summary_only_counts_and_writes_no_rows(make_job):
    job = make_job("summary", LIST_SCRIPT, items=5, batch=2, extra="output_action: summary_only\n")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect(not job.exists("out/predictions.txt"), "no output file with summary_only")
    s = job.summary(logs="logs")  # no append file: the logs go beside the job file
    expect_equal(s["items"]["succeeded"], 5, "items counted")
    expect_equal(s["output_bytes"], 0, "output bytes")


def test_folder_output_gets_parallel_run_step_txt(make_job):
    job = make_job("folder", LIST_SCRIPT, items=4, batch=2)
    yml = job.read("job.yml").replace("{type: uri_file, path: ./out/predictions.txt}", "{type: uri_folder, path: ./res}")
    job.write("job.yml", yml)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(len(job.rows("res/parallel_run_step.txt")), 4, "rows in the folder's file", proc)
    expect(job.exists("res/logs/job_result.txt"), "logs beside the output")


def test_existing_output_is_refused_unless_overwrite(make_job):
    job = make_job("overwrite", LIST_SCRIPT, items=4, batch=2)
    expect_equal(job.run(np=2).returncode, 0, "first run")
    before = job.read("out/predictions.txt")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 2, "second run without --overwrite", proc)
    expect(f"{job.path('out/predictions.txt')} already exists (from an earlier run); use --resume to continue that run or --overwrite to "
           "replace it"
           in proc.stderr, "message names the file and --overwrite", proc)
    expect_equal(job.read("out/predictions.txt"), before, "output untouched")
    proc = job.run(np=3, args=["--overwrite"])
    expect_equal(proc.returncode, 0, "with --overwrite", proc)
    expect_equal(sorted(job.rows()), sorted(before.splitlines()), "same rows again, once each")


def test_script_sees_argv_environment_and_cwd(make_job):
    script = """
        import os, sys
        def run(mini_batch):
            return [repr(sys.argv[1:]) + "|" + os.environ["GREETING"] + "|" + os.environ["OMP_NUM_THREADS"]
                    + "|" + os.getcwd() + "|" + os.environ["PRS_RANK"] for _ in mini_batch]
    """
    extra = 'environment_variables: {GREETING: "hello world", OMP_NUM_THREADS: "3"}\n'
    job = make_job("argv", script, items=2, batch=1, extra=extra,
                   arguments="""--model ${{inputs.input_data}} --name 'two words' --error_threshold 5""")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    argv = ["--model", job.path("data"), "--name", "two words", "--error_threshold", "5"]
    expect_equal(set(job.rows()), {f"{argv!r}|hello world|3|{job.dir}|1"}, "argv, environment, cwd, rank")


def test_max_concurrency_per_instance_idles_extra_ranks(make_job):
    script = "import os\ndef run(mini_batch):\n    return [os.environ['PRS_RANK'] for _ in mini_batch]\n"
    job = make_job("cap", script, items=8, batch=1,
                   extra="max_concurrency_per_instance: 2\nresources: {instance_count: 3}\n")
    proc = job.run(np=4)
    expect_equal(proc.returncode, 0, "exit code", proc)
    rows = job.rows()
    expect_equal(len(rows), 8, "rows", proc)
    expect(set(rows) <= {"1", "2"}, f"only the first two workers of the node work: {rows}", proc)
    expect("rank 3 (" in proc.stderr and "beyond max_concurrency_per_instance (2) on its node stay idle" in proc.stderr,
           "idle warning", proc)
    expect("resources.instance_count is 3 but the job runs on 1 node; the MPI ranks decide" in proc.stderr,
           "node count warning", proc)
    expect_equal(job.summary()["workers"], {"started": 2, "retired": 0, "lost": 0, "quarantined": 0, "python_restarts": 0}, "workers")


def test_dry_run_prints_the_plan_without_mpi(make_job):
    job = make_job("dry", LIST_SCRIPT, items=11, batch=4)
    proc = job.run(np=0, args=["--dry-run"])
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect("plan: 11 files in 3 mini-batches of up to 4 files" in proc.stdout, "plan line", proc)
    expect(f"mini-batch 2: 3 files, {job.path('data/item_008.txt')} .. {job.path('data/item_010.txt')}"
           in proc.stdout, "last batch", proc)
    expect("mini_batch_size" in proc.stdout and "(job.yml:" in proc.stdout, "settings with origins", proc)
    expect(not job.exists("out"), "a dry run writes nothing")


def test_single_rank_is_a_usage_error(make_job):
    job = make_job("single", LIST_SCRIPT, items=2, batch=1)
    proc = job.run(np=0)
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect("start it under MPI with 2 or more ranks (mpirun -np 4 prs_mpi job.yml)" in proc.stderr, "message", proc)
    expect(not job.exists("out"), "nothing written")
