"""Entry scripts that misbehave: stuck in C past the timeout, os._exit, segfault; the job or its resume finishes."""
import os

import pytest

from prs_e2e import expect, expect_equal, resume_until_done


def test_run_stuck_in_c_past_the_timeout_gives_the_worker_up(make_job):
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
    proc = job.run(np=3, timeout=120)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), job.items, "every row once; the stuck batch ran again elsewhere", proc)
    s = job.summary()
    expect_equal(s["workers"]["given_up"], 1, "one worker given up", proc)
    expect_equal(s["attempts"]["timed_out"], 1, "its attempt counted as timed out")
    errors = job.read("out/logs/user/error.txt")
    expect("past its timeout and the grace period (stuck in C code or with signals blocked)" in errors, errors)


def test_stuck_worker_alone_fails_the_job_clearly(make_job):
    script = """
        import ctypes, signal
        def run(mini_batch):
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
            ctypes.CDLL(None).sleep(60)
    """
    job = make_job("stuck_all", script, items=2, batch=1, retries=0, timeout=1)
    proc = job.run(np=2, timeout=120)
    expect_equal(proc.returncode, 1, "exit code", proc)
    expect("no worker left: 0 retired after init() failed, 1 given up after run() ignored the timeout" in proc.stdout,
           "reason", proc)


def crash_script(how):
    # The crash comes a moment into run(), as real ones do: the master has journaled the worker's previous answer,
    # so the crashing batch is the one its worker was running (only that one counts an attempt).
    return f"""
        import ctypes, os, time
        def run(mini_batch):
            if any(p.endswith("item_004.txt") for p in mini_batch):
                time.sleep(0.5)
                {how}
            return [os.path.basename(p) for p in mini_batch]
    """


@pytest.mark.parametrize("how", [pytest.param("os._exit(7)", id="os_exit"),
                                 pytest.param("ctypes.string_at(0)", id="segfault")])
def test_crash_in_run_loses_nothing_and_resume_finishes(make_job, how):
    job = make_job("crash", crash_script(how), items=12, batch=2, retries=1)
    proc = job.run(np=3)
    expect(proc.returncode != 0, "the crash ends the MPI job", proc)
    runs, last = resume_until_done(job, limit=6)
    expect_equal(runs, 2, "one more crash (the second attempt), then the batch ends failed", last)
    expected = [i for i in job.items if i not in ("item_004.txt", "item_005.txt")]
    expect_equal(sorted(job.rows()), expected, "every other row exactly once", last)
    s = job.summary()
    expect_equal(s["mini_batches"], {"total": 6, "succeeded": 5, "failed": 1}, "counts", last)
    expect("its 2 attempts were all used before the resume" in job.read("out/logs/sys/master_role.txt"), "note")


def test_retry_failed_runs_the_failed_batch_again(make_job):
    # Crashes at item 4 while the file crash.flag exists: the batch ends failed; then the flag goes away (the
    # trouble was transient) and --resume --retry-failed runs it again.
    script = crash_script("os._exit(7)").replace('if any(', 'if os.path.exists("crash.flag") and any(')
    job = make_job("retry_failed", script, items=6, batch=2, retries=0)
    job.write("crash.flag", "")
    expect(job.run(np=3).returncode != 0, "the crash ends the MPI job")
    proc = job.run(np=3, args=["--resume"])
    expect_equal(proc.returncode, 0, "the batch ends failed", proc)
    expect_equal(job.summary()["mini_batches"]["failed"], 1, "one failed batch", proc)
    os.remove(job.path("crash.flag"))
    proc = job.run(np=3, args=["--resume"])
    expect("nothing to resume" in proc.stdout, "without --retry-failed a failed batch stays failed", proc)
    proc = job.run(np=3, args=["--resume", "--retry-failed"])
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), job.items, "every row once", proc)
    expect_equal(job.summary()["mini_batches"], {"total": 3, "succeeded": 3, "failed": 0}, "counts", proc)


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
