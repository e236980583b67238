"""Failure thresholds: each one, exceeded, stops the job with exit 1 and names itself and the counts."""
import pytest

from prs_e2e import expect, expect_equal

# Items whose value is a multiple of 3 fail: the batch raises (batch size 1) so every such batch fails.
FAILS_ON_MULTIPLES_OF_3 = """
    def run(mini_batch):
        values = [int(open(p).read()) for p in mini_batch]
        if any(v % 3 == 0 for v in values):
            raise ValueError(f"bad items {values}")
        return [str(v) for v in values]
"""


def check_stopped(job, proc, reason):
    expect_equal(proc.returncode, 1, "exit code", proc)
    expect(f"prs_mpi: stopping: {reason}" in proc.stderr, "stop line", proc)
    result = job.read("out/logs/job_result.txt")
    expect(result.startswith(f"failed: {reason}\n"), result)
    rows = job.rows()
    expect_equal(len(rows), len(set(rows)), "no duplicated rows")
    expect(all(int(r) % 3 != 0 for r in rows), "only successful rows")


# Each threshold, exceeded: the job's settings beside FAILS_ON_MULTIPLES_OF_3 (no retries) and the reason it stops.
STOPS = [
    pytest.param(dict(items=30, batch=1, extra="mini_batch_error_threshold: 2\n"),
                 "mini_batch_error_threshold exceeded: 3 mini-batches failed, more than the 2 allowed",
                 id="mini_batch_error_threshold"),
    pytest.param(dict(items=30, batch=2, arguments="--error_threshold 5"),
                 "error_threshold exceeded: 6 items failed, more than the 5 allowed",
                 id="error_threshold-on-items-from-program_arguments"),
    pytest.param(dict(items=12, batch=1, arguments="--allowed_failed_percent 25"),
                 "allowed_failed_percent exceeded: 4 of 12 mini-batches failed, more than 25%",
                 id="allowed_failed_percent-once-all-are-scheduled"),
]


@pytest.mark.parametrize("settings, reason", STOPS)
def test_threshold_exceeded_stops_the_job(make_job, settings, reason):
    job = make_job("threshold", FAILS_ON_MULTIPLES_OF_3, retries=0, **settings)
    proc = job.run(np=3)
    check_stopped(job, proc, reason)


def test_set_overrides_program_arguments(make_job):
    job = make_job("set", FAILS_ON_MULTIPLES_OF_3, items=12, batch=1, retries=0,
                   arguments="--allowed_failed_percent 25")
    proc = job.run(np=3, args=["--set", "allowed_failed_percent=50"])
    expect_equal(proc.returncode, 0, "within 50%", proc)
    expect_equal(job.summary()["mini_batches"], {"total": 12, "succeeded": 8, "failed": 4, "unconfirmed": 0}, "counts")


def test_retried_failures_that_recover_do_not_count(make_job):
    script = """
        import os
        def run(mini_batch):
            marker = mini_batch[0] + ".seen"
            if not os.path.exists(marker):
                open(marker, "w").close()
                raise RuntimeError("transient")
            return mini_batch
    """
    job = make_job("recover", script, items=6, batch=1, retries=1, extra="mini_batch_error_threshold: 0\n")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(len(job.rows()), 6, "rows", proc)
