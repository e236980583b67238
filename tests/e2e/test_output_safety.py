"""One job per output, and an output that --resume checks before it trusts it: a second job on a running job's
output is refused naming the holder, a read-only logs folder is exit 2 before any worker waits, an output deleted,
truncated or overwritten after an interruption is repaired by --resume (every row exactly once), and a damaged
journal is refused; an output removed or replaced while the job runs fails it, naming the file.

Run: source scripts/mpi_env.sh; PRS_MPI=$PWD/build/prs_mpi PRS_MPIEXEC=mpiexec \
     /usr/bin/python3 -m pytest -q tests/e2e/test_output_safety.py
"""
import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import time

import pytest

from prs_e2e import MPIEXEC, PRS_MPI

# Rows of a fixed length (64 bytes), so a mini-batch of 2 items is 128 bytes and the layout of the output is known.
# PRS_TEST_GATE: run() waits until that file exists (a job held running for as long as a test needs).
SCRIPT = """
    import os, time
    def run(mini_batch):
        time.sleep(float(os.environ.get("PRS_TEST_SLEEP", "0")))
        while not os.path.exists(os.environ.get("PRS_TEST_GATE", "/")):
            time.sleep(0.05)
        return [os.path.basename(p) + " " + "x" * 50 for p in mini_batch]
"""
ROW = re.compile(r"^item_\d{3}\.txt x{50}$")
BATCH_BYTES = 128
OUTPUT = "out/predictions.txt"
JOURNAL = "out/logs/journal.bin"
LOCK = "out/logs/job.lock"
LOST = ("prs_mpi: the output lost the rows of {} committed mini-batch{} (missing or changed since they were "
        "written); {} again")


def lost_line(n):
    return LOST.format(n, "" if n == 1 else "es", "it runs" if n == 1 else "they run")


def start(job, args=(), sleep="0", gate="/"):
    cmd = [MPIEXEC, "--oversubscribe", "-np", "3", PRS_MPI, "job.yml", *args]
    return subprocess.Popen(cmd, cwd=job.dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, env=dict(os.environ, PRS_TEST_SLEEP=sleep, PRS_TEST_GATE=gate))


def first_line(stderr):
    """prs_mpi's one line (mpiexec adds its own note about the non-zero exit after it)."""
    return stderr.split("\n", 1)[0]


def finish(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def wait_for(condition, what, seconds=60):
    deadline = time.time() + seconds
    while not condition():
        assert time.time() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def check_rows(job):
    rows = job.rows()
    assert [r for r in rows if not ROW.match(r)] == [], "no torn, merged or changed line"
    names = [r.split(" ")[0] for r in rows]
    assert sorted(names) == job.items, "every row exactly once"


def interrupted(make_job, name):
    """A job of 20 mini-batches stopped part way by SIGUSR1 through mpiexec (exit 3); returns (job, committed)."""
    job = make_job(name, SCRIPT, items=40, batch=2)
    proc = start(job, sleep="0.25")
    # dispatched + resulted + ended: 3 records of 52 bytes per mini-batch after a 69-byte header
    wait_for(lambda: os.path.exists(job.path(JOURNAL)) and os.path.getsize(job.path(JOURNAL)) > 69 + 52 * 12,
             "a few committed mini-batches")
    proc.send_signal(signal.SIGUSR1)
    done = finish(proc)
    assert done.returncode == 3, done.stderr
    committed = job.summary()["mini_batches"]["succeeded"]
    assert 0 < committed < 20, committed
    assert os.path.getsize(job.path(OUTPUT)) == committed * BATCH_BYTES, "the committed rows, back to back"
    return job, committed


def resume(job):
    proc = job.run(np=3, args=["--resume"], timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_a_second_job_on_a_running_jobs_output_is_refused_naming_the_holder(make_job):
    job = make_job("busy", SCRIPT, items=20, batch=2)
    first = start(job, gate=job.path("gate"))  # runs until the gate opens
    try:
        wait_for(lambda: os.path.exists(job.path(LOCK)) and os.path.getsize(job.path(LOCK)) > 0, "the lock's holder")
        holder = job.read(LOCK).strip()
        assert re.fullmatch(r"pid \d+ on host \S+ since \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", holder), holder
        refusal = (f"prs_mpi: error: job.yml: another prs_mpi job is using this output: {holder} (lock "
                   f"{job.path(LOCK)}); wait for it or use another output")
        for args in (["--overwrite"], ["--resume"]):  # neither may touch the running job's output or journal
            second = job.run(np=3, args=args, timeout=60)
            assert second.returncode == 2, second.stdout + second.stderr
            assert first_line(second.stderr) == refusal
        plain = job.run(np=3, timeout=60)
        assert plain.returncode == 2
        assert "already exists (from an earlier run); use --resume to continue that run" in plain.stderr
        assert first.poll() is None, "the first job was still running during all three"
    finally:
        job.write("gate", "")
        done = finish(first)
    assert done.returncode == 0, done.stderr
    check_rows(job)
    assert job.summary()["mini_batches"] == {"total": 10, "succeeded": 10, "failed": 0, "unconfirmed": 0}
    assert job.read(LOCK).strip() == holder, "the lock file stays, naming its last holder"


def test_two_fresh_jobs_started_together_write_one_output_once(make_job):
    job = make_job("race", SCRIPT, items=20, batch=2)
    procs = [start(job, sleep="0.3") for _ in range(2)]
    results = [finish(p) for p in procs]
    codes = sorted(r.returncode for r in results)
    assert codes == [0, 2], [(r.returncode, r.stderr) for r in results]
    refused = next(r for r in results if r.returncode == 2)
    assert ("another prs_mpi job is using this output: pid " in refused.stderr
            or "already exists" in refused.stderr), refused.stderr
    check_rows(job)


@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root to become nobody")
def test_a_read_only_log_dir_is_exit_2_naming_it_with_no_worker_waiting(make_job):
    made = make_job("read_only", SCRIPT, items=6, batch=2)
    world = tempfile.mkdtemp(prefix="prs_e2e_read_only_")  # pytest's tmp_path is private to root
    try:
        os.chmod(world, 0o755)
        job_dir = os.path.join(world, "job")
        shutil.copytree(made.dir, job_dir)
        for root, dirs, files in os.walk(job_dir):
            for name in [root, *(os.path.join(root, f) for f in files)]:
                os.chown(name, 65534, 65534)
        logs = os.path.join(world, "logs")  # owned by root, mode 755: nobody cannot write in it
        os.makedirs(logs)
        cmd = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
               MPIEXEC, "--oversubscribe", "-np", "3", PRS_MPI, "job.yml", "--log-dir", logs]
        env = {k: v for k, v in os.environ.items() if not k.startswith("OMPI_ALLOW_RUN_AS_ROOT")}
        proc = subprocess.run(cmd, cwd=job_dir, capture_output=True, text=True, timeout=60,
                              env=dict(env, HOME=world))
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert first_line(proc.stderr) == (f"prs_mpi: error: {logs}: cannot create the lock file job.lock in the logs "
                                           "folder: Permission denied; the logs folder must be writable (--log-dir "
                                           "chooses another)")
        assert os.listdir(logs) == []
        assert not os.path.exists(os.path.join(job_dir, OUTPUT)), "no output created"
    finally:
        shutil.rmtree(world, ignore_errors=True)


def test_an_output_deleted_after_an_interruption_is_rebuilt_by_resume(make_job):
    job, committed = interrupted(make_job, "deleted")
    os.remove(job.path(OUTPUT))
    proc = resume(job)
    assert lost_line(committed) in proc.stdout.splitlines(), proc.stdout
    assert "prs_mpi: resuming: 0 of 20 mini-batches already done (0 failed)" in proc.stdout
    check_rows(job)
    assert job.summary()["mini_batches"] == {"total": 20, "succeeded": 20, "failed": 0, "unconfirmed": 0}


# The second run() removes the output (and, replacing it, puts another file there) once the first mini-batch's
# rows are in it: its worker has the file open then (it opens it at its first commit).
REMOVES_OUTPUT = SCRIPT.replace("    def run(mini_batch):\n", """    def run(mini_batch):
        out = os.environ["PRS_TEST_OUTPUT"]
        if not os.path.exists(out + ".removed"):  # once, in the first run of the job
            if os.path.exists(out + ".first"):
                while os.path.getsize(out) < 128:
                    time.sleep(0.01)
                os.remove(out)
                open(out + ".removed", "w").close()
                if os.environ["PRS_TEST_REPLACE"] == "1":
                    open(out, "w").close()
            open(out + ".first", "w").close()
""")


@pytest.mark.parametrize("replace", [False, True], ids=["removed", "replaced"])
def test_an_output_removed_while_the_job_runs_fails_the_job_and_resume_writes_its_rows(make_job, replace):
    # The workers' handles write into the removed file: the job must not end "succeeded" without the rows.
    job = make_job("removed", REMOVES_OUTPUT, items=8, batch=2)
    env = {"PRS_TEST_OUTPUT": job.path(OUTPUT), "PRS_TEST_REPLACE": "1" if replace else "0"}
    proc = job.run(np=2, env=env, timeout=120)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    what = "was replaced by another file" if replace else "was removed"
    line = (f"prs_mpi: error: {job.path(OUTPUT)} {what} while the job ran: rows its workers wrote went into the file "
            "that was there; --resume checks the rows written and writes the missing ones again")
    assert line in proc.stderr.splitlines(), proc.stderr
    assert job.summary()["status"] == "failed"
    assert os.path.exists(job.path(OUTPUT)) == replace and (not replace or os.path.getsize(job.path(OUTPUT)) == 0)
    resumed = job.run(np=2, args=["--resume"], env=env, timeout=120)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "prs_mpi: resuming: 0 of 4 mini-batches already done (0 failed)" in resumed.stdout, resumed.stdout
    check_rows(job)
    assert job.summary()["mini_batches"] == {"total": 4, "succeeded": 4, "failed": 0, "unconfirmed": 0}


def test_a_truncated_output_loses_only_the_ranges_cut(make_job):
    job, committed = interrupted(make_job, "truncated")
    os.truncate(job.path(OUTPUT), committed * BATCH_BYTES - BATCH_BYTES // 2)  # half of the last range
    proc = resume(job)
    assert lost_line(1) in proc.stdout.splitlines(), proc.stdout
    assert f"prs_mpi: resuming: {committed - 1} of 20 mini-batches already done (0 failed)" in proc.stdout
    check_rows(job)


def test_an_overwritten_range_is_redone_and_the_output_holds_each_row_once(make_job):
    job, committed = interrupted(make_job, "overwritten")
    with open(job.path(OUTPUT), "r+b") as f:
        f.seek(20)  # inside the first range: same length, other bytes
        f.write(b"y" * 10)
    proc = resume(job)
    assert lost_line(1) in proc.stdout.splitlines(), proc.stdout
    assert f"prs_mpi: resuming: {committed - 1} of 20 mini-batches already done (0 failed)" in proc.stdout
    check_rows(job)
    again = resume(job)  # the repaired output passes the check: nothing left to do, nothing lost
    assert "nothing to resume: every mini-batch of this job already ended" in again.stdout
    assert "lost the rows" not in again.stdout


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def test_a_damaged_journal_header_is_refused_not_a_crash(make_job):
    job = make_job("damaged", SCRIPT, items=10, batch=2)
    assert job.run(np=3, timeout=60).returncode == 0  # the journal is read (and refused) before anything else
    original = open(job.path(JOURNAL), "rb").read()
    length = struct.unpack_from("<I", original, 8)[0]
    body = bytearray(original[16:16 + length])
    journal = job.path(JOURNAL)

    def resume_with(header, expected):
        with open(journal, "wb") as f:
            f.write(header + original[16 + length:])
        proc = job.run(np=3, args=["--resume"], timeout=60)
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert first_line(proc.stderr) == f"prs_mpi: error: {journal}: {expected}"

    struct.pack_into("<Q", body, 0, 1 << 40)  # a huge batch count, with a checksum that matches
    resume_with(original[:8] + struct.pack("<II", length, crc32c(body)) + body,
                "the journal is damaged (it names 1099511627776 mini-batches, the job has 5); remove it with "
                "--overwrite to start again")
    resume_with(original[:8] + struct.pack("<II", 0xFFFFFFF0, 0) + original[16:16 + length],
                "the journal is damaged (the header says 4294967280 bytes, more than a header holds); remove it "
                "with --overwrite to start again")
    resume_with(b"PRSJRNL1" + original[8:16 + length],
                "the journal was written by an older prs_mpi; resume it with that version or use --overwrite")


def test_a_job_refused_for_an_output_another_job_wrote_meanwhile_leaves_that_output(make_job):
    """Two jobs started together on one output: this one made out/, the other took the lock first, ran and let it
    go, and this one then refuses the output the other wrote. It must leave that output and the other's logs (here
    written while this job waits before its listing, after it made the folders and took the lock)."""
    job = make_job("left_alone", SCRIPT, items=4, batch=2)
    env = dict(os.environ, PRS_TEST_LISTING_GATE=job.path("gate"))
    proc = subprocess.Popen([MPIEXEC, "--oversubscribe", "-np", "3", PRS_MPI, "job.yml"], cwd=job.dir,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True, env=env)
    deadline = time.time() + 60
    while not job.exists(LOCK) and time.time() < deadline:  # step 1 done: out/ made by this job, the lock its own
        time.sleep(0.02)
    assert job.exists(LOCK)
    with open(job.path(OUTPUT), "w") as f:
        f.write("the other job's rows\n")
    with open(job.path("out/logs/job_summary.json"), "w") as f:
        f.write("{}\n")
    open(job.path("gate"), "w").close()
    result = finish(proc)
    assert result.returncode == 2, result.stderr
    assert "already exists" in first_line(result.stderr), result.stderr
    with open(job.path(OUTPUT)) as f:
        assert f.read() == "the other job's rows\n"
    assert job.exists("out/logs/job_summary.json")
    assert not job.exists(LOCK), "this job's own lock file goes"
