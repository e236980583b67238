"""Entry-script failures: exceptions, short returns, retries that succeed, init() failing, wrong returns."""
from prs_e2e import expect, expect_equal

# Raises for any mini-batch holding item 4; returns one row per item otherwise.
RAISES_ON_4 = """
    import os
    def run(mini_batch):
        values = [int(open(p).read()) for p in mini_batch]
        if 4 in values:
            raise ValueError(f"cannot score item 4 in {[os.path.basename(p) for p in mini_batch]}")
        return [str(v) for v in values]
"""


def test_exception_fails_the_batch_after_its_retries_and_is_logged(make_job):
    job = make_job("raises", RAISES_ON_4, items=10, batch=3, retries=2)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code (thresholds ignore failures by default)", proc)
    expect_equal(sorted(job.rows(), key=int), [str(i) for i in range(10) if i not in (3, 4, 5)], "rows", proc)
    s = job.summary()
    expect_equal(s["mini_batches"], {"total": 4, "succeeded": 3, "failed": 1, "unconfirmed": 0}, "mini-batches")
    expect_equal(s["items"], {"total": 10, "succeeded": 7, "failed": 3}, "items")
    expect_equal(s["attempts"]["total"], 6, "attempts: 3 first tries + 1 failing batch tried 3 times")
    expect_equal(s["attempts"]["retried"], 2, "retries")
    errors = job.read("out/logs/user/error.txt")
    for attempt in (1, 2, 3):
        expect(f": mini-batch 1, attempt {attempt}\n" in errors, f"attempt {attempt} logged:\n{errors}")
    expect(errors.count("ValueError: cannot score item 4 in ['item_003.txt', 'item_004.txt', 'item_005.txt']") == 3,
           errors)
    expect('score.py", line' in errors, "traceback names the script line: " + errors)
    expect("mini-batch 1, attempt 3 failed: ValueError: cannot score item 4" in proc.stderr, "console line", proc)


def test_short_return_is_retried_and_the_last_attempt_keeps_its_rows(make_job):
    script = """
        import os
        def run(mini_batch):
            values = [int(open(p).read()) for p in mini_batch]
            return [str(v) for v in values if v != 7]
    """
    job = make_job("short", script, items=9, batch=3, retries=1)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows(), key=int), ["0", "1", "2", "3", "4", "5", "6", "8"], "rows: each once", proc)
    s = job.summary()
    expect_equal(s["items"], {"total": 9, "succeeded": 8, "failed": 1}, "items")
    expect_equal(s["mini_batches"]["failed"], 1, "the short batch counts as failed")
    expect_equal(s["attempts"]["retried"], 1, "it was retried once")


def test_retry_that_succeeds_writes_rows_once(make_job):
    # The first attempt of every batch returns its rows and then fails; a marker file makes the second succeed.
    script = """
        import os
        def run(mini_batch):
            marker = mini_batch[0] + ".seen"
            rows = [os.path.basename(p) for p in mini_batch]
            if not os.path.exists(marker):
                open(marker, "w").close()
                return rows[:-1]   # short: a failed attempt whose rows must never be written
            return rows
    """
    job = make_job("retry_ok", script, items=8, batch=2, retries=2)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), job.items, "every item once", proc)
    s = job.summary()
    expect_equal(s["mini_batches"], {"total": 4, "succeeded": 4, "failed": 0, "unconfirmed": 0}, "all succeeded in the end")
    expect_equal(s["attempts"]["retried"], 4, "each batch retried once")
    expect_equal(s["items"]["failed"], 0, "failed items count only for the attempt that ends a batch")


def test_init_failing_on_one_worker_retires_it_and_the_job_goes_on(make_job):
    script = """
        import os
        def init():
            if os.environ["PRS_RANK"] == "2":
                raise RuntimeError("no GPU on this worker")
        def run(mini_batch):
            return [os.environ["PRS_RANK"] for _ in mini_batch]
    """
    job = make_job("init_one", script, items=6, batch=1)
    proc = job.run(np=4)
    expect_equal(proc.returncode, 0, "exit code", proc)
    rows = job.rows()
    expect_equal(len(rows), 6, "rows", proc)
    expect("2" not in rows, "the retired worker ran nothing")
    expect_equal(job.summary()["workers"], {"started": 2, "retired": 1, "lost": 0, "quarantined": 0, "python_restarts": 0}, "workers")
    errors = job.read("out/logs/user/error.txt")
    expect("rank 2 (" in errors and "init() failed; the worker is retired" in errors, errors)
    expect("RuntimeError: no GPU on this worker" in errors, errors)


def test_init_failing_everywhere_fails_the_job(make_job):
    script = """
        def init():
            raise RuntimeError("model file is corrupt")
        def run(mini_batch):
            return mini_batch
    """
    job = make_job("init_all", script, items=4, batch=2)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 1, "exit code", proc)
    expect("no worker left: init() failed on all 2 workers" in proc.stdout, "reason on the console", proc)
    result = job.read("out/logs/job_result.txt")
    expect(result.startswith("failed: no worker left: init() failed on all 2 workers"), result)
    expect("mini-batches: 2 in all, 0 succeeded, 0 failed, 2 not processed" in result, result)
    expect_equal(job.read("out/predictions.txt"), "", "no rows")


def test_script_without_run_cannot_serve(make_job):
    job = make_job("no_run", "def init():\n    pass\n", items=2, batch=1)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 1, "exit code", proc)
    expect("has no run(mini_batch) function" in job.read("out/logs/user/error.txt"), "reason logged")


def test_wrong_return_type_fails_the_attempt(make_job):
    job = make_job("none", "def run(mini_batch):\n    return None\n", items=2, batch=1, retries=0)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    errors = job.read("out/logs/user/error.txt")
    expect("run() must return a pandas DataFrame, list, tuple or numpy.ndarray, got NoneType" in errors, errors)
    expect_equal(job.summary()["items"], {"total": 2, "succeeded": 0, "failed": 2}, "items")


def test_more_rows_than_items_are_written_and_warned_once(make_job):
    script = "def run(mini_batch):\n    return [p + suffix for p in mini_batch for suffix in ('a', 'b')]\n"
    job = make_job("extra", script, items=4, batch=2)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(len(job.rows()), 8, "all returned rows are written", proc)
    expect_equal(job.summary()["items"]["succeeded"], 4, "successes capped at the item count")
    expect_equal(proc.stderr.count("successes are capped at the item count (warned once)"), 1, "one warning", proc)


def test_run_timeout_is_a_failed_attempt(make_job):
    script = """
        import time
        def run(mini_batch):
            if any(p.endswith("item_001.txt") for p in mini_batch):
                time.sleep(30)
            return mini_batch
    """
    job = make_job("timeout", script, items=3, batch=1, retries=0, timeout=1)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(job.summary()["attempts"]["timed_out"], 1, "timeouts", proc)
    expect("TimeoutError" in job.read("out/logs/user/error.txt"), "logged")
    expect_equal(len(job.rows()), 2, "the other rows", proc)
