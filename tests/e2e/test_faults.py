"""Entry scripts that misbehave: stuck in C past the timeout, a killed worker rank, transient failures; the job or
its resume finishes. (Crashes of the entry script's own process are in test_isolation.py.)"""
import os
import time

from prs_e2e import expect, expect_equal, resume_until_done


def test_run_stuck_in_c_past_the_timeout_is_killed_and_the_worker_goes_on(make_job):
    # The first attempt at item 2 blocks SIGALRM and sleeps in C: the TimeoutError cannot arrive.
    script = """
        import ctypes, os, signal
        def run(mini_batch):
            for p in mini_batch:
                if p.endswith("item_002.txt") and not os.path.exists(p + ".seen"):
                    open(p + ".seen", "w").close()
                    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
                    ctypes.CDLL(None).sleep(60)
            return [os.path.basename(p) for p in mini_batch]
    """
    job = make_job("stuck", script, items=6, batch=1, retries=1, timeout=1)
    start = time.time()
    proc = job.run(np=2, timeout=120)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect(time.time() - start < 40, "the stuck call is killed after timeout + grace, not waited for", proc)
    expect_equal(sorted(job.rows()), job.items, "every row once; the stuck batch ran again", proc)
    s = job.summary()
    expect_equal(s["attempts"]["timed_out"], 1, "its attempt counted as timed out", proc)
    expect_equal(s["workers"], {"started": 1, "retired": 0, "lost": 0, "quarantined": 0, "python_restarts": 1},
                 "the only worker carried on with a fresh process", proc)
    errors = job.read("out/logs/user/error.txt")
    expect("past its timeout and the grace period (stuck in C code or with signals blocked); its process was killed"
           in errors, errors, proc)


def test_run_always_stuck_fails_its_mini_batches_clearly(make_job):
    script = """
        import ctypes, signal
        def run(mini_batch):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            ctypes.CDLL(None).sleep(60)
    """
    job = make_job("stuck_all", script, items=2, batch=1, retries=0, timeout=1,
                   extra="mini_batch_error_threshold: 0\n")
    proc = job.run(np=2, timeout=120)
    expect_equal(proc.returncode, 1, "exit code", proc)
    expect("mini_batch_error_threshold exceeded: 1 mini-batches failed, more than the 0 allowed" in proc.stderr,
           "reason", proc)
    s = job.summary()
    expect_equal(s["attempts"]["timed_out"], 1, "one hard timeout", proc)
    expect(s["workers"]["python_restarts"] >= 1, "the worker's Python process was replaced", proc)


def rank_kill_script():
    # The crash comes a moment into run(), as real ones do, and kills the worker rank itself (the parent of the
    # entry script's process): the MPI job ends; the batch it ran counts an attempt, the queued one does not.
    return """
        import os, signal, time
        def run(mini_batch):
            if any(p.endswith("item_004.txt") for p in mini_batch):
                time.sleep(0.5)
                os.kill(os.getppid(), signal.SIGKILL)
                time.sleep(5)
            return [os.path.basename(p) for p in mini_batch]
    """


def test_a_killed_worker_rank_loses_nothing_and_resume_finishes(make_job):
    job = make_job("crash", rank_kill_script(), items=12, batch=2, retries=1)
    proc = job.run(np=3)
    expect(proc.returncode != 0, "the rank's death ends the MPI job", proc)
    runs, last = resume_until_done(job, limit=6)
    expect_equal(runs, 2, "one more crash (the second attempt), then the batch ends failed", last)
    expected = [i for i in job.items if i not in ("item_004.txt", "item_005.txt")]
    expect_equal(sorted(job.rows()), expected, "every other row exactly once", last)
    s = job.summary()
    expect_equal(s["mini_batches"], {"total": 6, "succeeded": 5, "failed": 1, "unconfirmed": 0}, "counts", last)
    expect("its 2 attempts were all used before the resume" in job.read("out/logs/sys/master_role.txt"), "note")


def test_retry_failed_runs_the_failed_batch_again(make_job):
    # Exits at item 4 while the file crash.flag exists: the batch ends failed; then the flag goes away (the
    # trouble was transient) and --resume --retry-failed runs it again.
    script = """
        import os
        def run(mini_batch):
            if os.path.exists("crash.flag") and any(p.endswith("item_004.txt") for p in mini_batch):
                os._exit(7)
            return [os.path.basename(p) for p in mini_batch]
    """
    job = make_job("retry_failed", script, items=6, batch=2, retries=0)
    job.write("crash.flag", "")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "the job goes on without the batch (no threshold)", proc)
    expect_equal(job.summary()["mini_batches"]["failed"], 1, "one failed batch", proc)
    expect("the entry script's process exited with code 7 in mini-batch 2, attempt 1" in proc.stderr, "cause", proc)
    os.remove(job.path("crash.flag"))
    proc = job.run(np=3, args=["--resume"])
    expect("nothing to resume" in proc.stdout, "without --retry-failed a failed batch stays failed", proc)
    proc = job.run(np=3, args=["--resume", "--retry-failed"])
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), job.items, "every row once", proc)
    expect_equal(job.summary()["mini_batches"], {"total": 3, "succeeded": 3, "failed": 0, "unconfirmed": 0}, "counts", proc)


def test_silence_past_progress_update_timeout_fails_the_job(make_job):
    script = """
        import time
        def run(mini_batch):
            time.sleep(30)
            return mini_batch
    """
    job = make_job("progress", script, items=2, batch=1, timeout=60, arguments="--progress_update_timeout 2")
    proc = job.run(np=2, timeout=120)
    expect_equal(proc.returncode, 1, "exit code", proc)
    expect("no progress for 2 s (progress_update_timeout 2 s): no worker reported a result" in proc.stdout,
           "reason", proc)
    expect(job.exists("out/logs/journal.bin"), "journal kept for --resume")


def test_init_that_never_returns_hits_first_task_creation_timeout(make_job):
    script = """
        import time
        def init():
            time.sleep(120)
        def run(mini_batch):
            return mini_batch
    """
    job = make_job("slow_init", script, items=2, batch=1, arguments="--first_task_creation_timeout 2")
    proc = job.run(np=2, timeout=120)
    expect_equal(proc.returncode, 1, "exit code", proc)
    expect("no mini-batch started within first_task_creation_timeout (2 s)" in proc.stdout, "reason", proc)
