"""Interruption and --resume: SIGKILL of the whole job and SIGTERM/SIGUSR1 drains at random moments, then resume
until done; the output holds every expected row exactly once and no torn line. Also ordered output."""
import os
import random
import re
import signal
import subprocess
import time

import pytest

from prs_e2e import expect, expect_equal, resume_until_done

# Long rows make a torn or interleaved write visible; a short sleep spreads the job over a few seconds.
SCRIPT = """
    import os, time
    def run(mini_batch):
        time.sleep(0.04)
        return [os.path.basename(p) + " " + "x" * 300 + " end" for p in mini_batch]
"""
ROW = re.compile(r"^item_\d{3}\.txt x{300} end$")


def committed(job):
    """Mini-batches the journal names as ended (from job_summary.json if the run wrote it)."""
    try:
        return job.summary()["mini_batches"]
    except (OSError, ValueError):
        return None


def check_rows(job, expected_items):
    rows = job.rows()
    bad = [r[:60] for r in rows if not ROW.match(r)]
    expect(not bad, f"torn or merged lines: {bad[:3]}")
    names = [r.split(" ")[0] for r in rows]
    expect_equal(len(names), len(set(names)), "no duplicated row")
    expect_equal(sorted(names), expected_items, "every row")


def wait_for_progress(job, seconds):
    """Waits until the job has journaled something, plus a random part of a second."""
    deadline = time.time() + 30
    journal = job.path("out/logs/journal.bin")
    while time.time() < deadline and (not os.path.exists(journal) or os.path.getsize(journal) < 2000):
        time.sleep(0.05)
    time.sleep(seconds)


@pytest.mark.chaos
def test_kill_9_at_random_moments_then_resume_loses_and_duplicates_nothing(make_job):
    rng = random.Random(os.environ.get("PRS_CHAOS_SEED", "7"))
    job = make_job("chaos", SCRIPT, items=300, batch=1, retries=20)
    args, kills = [], 0
    for _ in range(4):
        proc = job.start(args=args)
        wait_for_progress(job, rng.uniform(0.05, 1.0))
        kills += proc.poll() is None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        args = ["--resume"]
    expect_equal(kills, 4, "every kill hit a running job")
    _, final = resume_until_done(job, limit=8)
    expect("prs_mpi: resuming:" in final.stdout, "the last run resumed", final)
    check_rows(job, job.items)
    s = job.summary()
    expect_equal(s["mini_batches"], {"total": 300, "succeeded": 300, "failed": 0, "unconfirmed": 0}, "all succeeded", final)


def test_sigterm_to_mpirun_drains_exits_3_and_resume_finishes(make_job):
    # mpirun sends the ranks SIGCONT at once, SIGTERM odls_base_sigkill_timeout seconds later and SIGKILL as long
    # again after that: the ranks drain in that second interval.
    job = make_job("sigterm", SCRIPT, items=400, batch=1, retries=2)
    proc = job.start(env={"OMPI_MCA_odls_base_sigkill_timeout": "3"})
    wait_for_progress(job, 0.3)
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    drain = time.time() - t0
    result = job.read("out/logs/job_result.txt")
    expect(result.startswith("interrupted: interrupted by SIGTERM; resumable with --resume\n"), result + err)
    done = committed(job)
    expect(done is not None and 0 < done["succeeded"] < 400, f"stopped part way: {done}")
    print(f"mpirun ended {drain:.2f} s after SIGTERM (3 s of it before the ranks got SIGTERM)")
    _, final = resume_until_done(job, limit=8)
    check_rows(job, job.items)
    expect("prs_mpi: resuming: " in final.stdout, "resumed", final)


@pytest.mark.chaos
def test_sigusr1_drains_at_random_moments_exit_3_through_mpirun_then_resume(make_job):
    rng = random.Random(os.environ.get("PRS_CHAOS_SEED", "11"))
    job = make_job("sigusr1", SCRIPT, items=300, batch=1)
    args, drains = [], 0
    for _ in range(3):
        proc = job.start(args=args)
        wait_for_progress(job, rng.uniform(0.1, 1.0) + (1.5 if args else 0))  # a resume starts with the old journal
        proc.send_signal(signal.SIGUSR1)
        out, err = proc.communicate(timeout=60)
        done = subprocess.CompletedProcess([], proc.returncode, out, err)
        expect_equal(proc.returncode, 3, "exit code", done)
        expect("prs_mpi: stopping: interrupted by SIGUSR1" in err, "stop line", done)
        drains += 1
        args = ["--resume"]
    expect_equal(drains, 3, "three drains")
    resume_until_done(job, limit=8)
    check_rows(job, job.items)


def test_resume_of_a_finished_job_is_a_no_op_and_a_changed_plan_is_refused(make_job):
    job = make_job("noop", SCRIPT, items=6, batch=2)
    expect_equal(job.run(np=3).returncode, 0, "first run")
    before = job.read("out/predictions.txt")
    proc = job.run(np=3, args=["--resume"])
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect("nothing to resume: every mini-batch of this job already ended" in proc.stdout, "says so", proc)
    expect_equal(job.read("out/predictions.txt"), before, "output untouched")
    job.write("data/item_999.txt", "999\n")
    proc = job.run(np=3, args=["--resume"])
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect("cannot --resume: the input files (added, removed or modified) changed since the interrupted run; "
           "use --overwrite to start over" in proc.stderr, "names what changed", proc)


def test_ordered_output_is_in_input_order_also_after_kill_and_resume(make_job):
    script = """
        import os, random, time
        def run(mini_batch):
            time.sleep(random.uniform(0, 0.03))
            return [os.path.basename(p) for p in mini_batch]
    """
    reference = make_job("ordered_ref", script, items=120, batch=3, extra="ordered: true\n")
    expect_equal(reference.run(np=3).returncode, 0, "uninterrupted run")
    expect_equal(reference.rows(), reference.items, "rows in input order")
    job = make_job("ordered", script, items=120, batch=3, extra="ordered: true\n", retries=20)
    proc = job.start()
    wait_for_progress(job, 0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    resume_until_done(job, limit=8)
    expect_equal(job.read("out/predictions.txt"), reference.read("out/predictions.txt"), "byte-identical output")
