"""A uri_folder listed while the master dispatches: the first run() comes before the listing ends, in a tree of
folders and in one flat folder (released every 256 entries while the rest are stat()ed); kill -9 during the listing
(of both) and --resume give every row once; a changed input in the listed part is refused, one in the part not
yet listed is not; a path the listing cannot read after mini-batches ran ends the job with exit 2 and the same
error, resumable once fixed.

The listing is held on purpose (PRS_TEST_LISTING_HOLD: rank 0's listing pauses after its first mini-batch until
the file exists, at most 60 s), so the order of events is forced, not timed: the entry script's run() creates the
file (RELEASE_LISTING names it), which only a run() that starts before the listing ended can do.
"""
import os
import re
import signal
import subprocess
import time

from prs_e2e import PRS_MPI, expect, expect_equal, resume_until_done

SCRIPT = """
    import os
    def run(mini_batch):
        gate = os.environ.get("RELEASE_LISTING", "")
        if gate:
            open(gate, "w").close()
        return [f"{os.path.basename(p)} {open(p).read().strip()}" for p in mini_batch]
"""
FOLDERS, PER_FOLDER = 10, 4
HINT = "; fix it, or set skip_unreadable_inputs: true to skip what cannot be read"


def folder_job(make_job, name, script=SCRIPT, **settings):
    """A job whose data/ holds FOLDERS folders of PER_FOLDER files: the listing releases them folder by folder."""
    job = make_job(name, script, items=0, batch=2, **settings)
    job.items = []
    for f in range(FOLDERS):
        for i in range(PER_FOLDER):
            item = f"item_{f * PER_FOLDER + i:03d}.txt"
            job.write(f"data/d{f:02d}/{item}", f"{f * PER_FOLDER + i}\n")
            job.items.append(item)
    return job


def hold_until_run(job):
    """The environment that holds the listing after its first mini-batch until a run() releases it."""
    return {"PRS_TEST_LISTING_HOLD": job.path("gate"), "RELEASE_LISTING": job.path("gate")}


def expected_rows(job):
    return sorted(f"{item} {int(item[5:8])}" for item in job.items)


def master_notes(job):
    return job.read("out/logs/sys/master_role.txt")


def wait_for_rows(job, count, proc):
    """Waits until the output holds `count` rows (committed rows of the first mini-batches)."""
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if job.exists("out/predictions.txt") and len(job.rows()) >= count:
            return
        time.sleep(0.05)
    expect(False, f"the output never held {count} rows")


def test_the_first_run_starts_before_the_listing_ends(make_job):
    job = folder_job(make_job, "early")
    proc = job.run(np=3, env=hold_until_run(job))
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), expected_rows(job), "every row once", proc)
    notes = master_notes(job)
    ended = re.search(r"listing ended: 40 files, 20 mini-batches, in [0-9.]+ s; (\d+) attempts were dispatched "
                      r"before it ended", notes)
    expect(ended is not None, "the listing ended while the master dispatched:\n" + notes, proc)
    expect(int(ended.group(1)) >= 1, "a mini-batch was dispatched before the listing ended:\n" + notes, proc)
    expect(job.exists("gate"), "a run() released the held listing", proc)
    expect_equal(job.summary()["mini_batches"], {"total": 20, "succeeded": 20, "failed": 0, "unconfirmed": 0}, "counts", proc)


def killed_while_listing(job):
    """Runs the job with its listing held after the first mini-batch and kills it (-9, every rank) once that
    mini-batch's rows are in the output: the listing never ended."""
    proc = job.start(np=3, env={"PRS_TEST_LISTING_HOLD": job.path("never")})
    wait_for_rows(job, 2, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    expect("listing ended" not in master_notes(job), "killed while the listing went on")


def test_kill_9_during_the_listing_then_resume_gives_every_row_once(make_job):
    job = folder_job(make_job, "killed")
    killed_while_listing(job)
    runs, final = resume_until_done(job, limit=4)
    expect("prs_mpi: resuming:" in final.stdout, "resumed", final)
    expect_equal(sorted(job.rows()), expected_rows(job), "every row once", final)
    expect_equal(job.summary()["mini_batches"], {"total": 20, "succeeded": 20, "failed": 0, "unconfirmed": 0}, "counts", final)


def test_resume_after_a_crash_during_the_listing_refuses_a_change_in_what_was_listed(make_job):
    job = folder_job(make_job, "changed")
    killed_while_listing(job)
    job.write("data/d07/item_028.txt", "28 new\n")  # not listed before the crash: not part of the recorded plan
    first = job.path("data/d00/item_000.txt")  # in the first mini-batch, listed and journaled
    listed = os.stat(first)
    job.write("data/d00/item_000.txt", "0 changed\n")
    proc = job.run(np=3, args=["--resume"])
    expect_equal(proc.returncode, 2, "exit code", proc)
    refused = ("cannot --resume: the input files (added, removed or modified) changed since the interrupted run; "
               "use --overwrite to start over")
    expect(refused in proc.stderr, "names what changed", proc)
    job.write("data/d00/item_000.txt", "0\n")  # the same bytes, another modification time: still a change
    proc = job.run(np=3, args=["--resume"])
    expect(proc.returncode == 2 and refused in proc.stderr, "a new modification time is refused too", proc)
    os.utime(first, ns=(listed.st_atime_ns, listed.st_mtime_ns))  # the file as it was listed
    _, final = resume_until_done(job, limit=3)
    rows = [row if row != "item_028.txt 28" else "item_028.txt 28 new" for row in expected_rows(job)]
    expect_equal(sorted(job.rows()), sorted(rows), "every row once, the file listed after the crash as it is now",
                 final)


def test_an_unreadable_path_after_mini_batches_ran_exits_2_and_resumes_once_fixed(make_job):
    job = folder_job(make_job, "unreadable")
    os.symlink("nowhere", job.path("data/d05/broken"))
    proc = job.run(np=3, env=hold_until_run(job))
    expect_equal(proc.returncode, 2, "exit code", proc)
    error = f"prs_mpi: error: {job.path('data/d05/broken')}: cannot follow the symlink: No such file or directory{HINT}"
    expect(error in proc.stderr.splitlines(), "the listing's error, as before any mini-batch ran", proc)
    expect(job.exists("gate"), "mini-batches ran before the listing failed", proc)
    rows = job.rows()
    expect(0 < len(rows) < 40 and len(rows) == len(set(rows)), f"the rows of some mini-batches once: {rows}", proc)
    os.remove(job.path("data/d05/broken"))
    _, final = resume_until_done(job, limit=3)
    expect_equal(sorted(job.rows()), expected_rows(job), "every row once", final)


def test_skip_unreadable_inputs_warns_once_the_streamed_listing_ended(make_job):
    job = folder_job(make_job, "skip", extra="skip_unreadable_inputs: true\n")
    os.symlink("nowhere", job.path("data/d05/broken"))
    proc = job.run(np=3, env=hold_until_run(job))
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect(f"prs_mpi: warning: skipped 1 unreadable path: {job.path('data/d05/broken')} (cannot follow the "
           "symlink: No such file or directory)" in proc.stderr.splitlines(), "the warning", proc)
    expect_equal(sorted(job.rows()), expected_rows(job), "every row once", proc)
    expect("attempts were dispatched before it ended" in master_notes(job), "streamed", proc)


def test_a_resume_of_a_listing_that_never_ended_lists_while_it_dispatches_too(make_job):
    job = folder_job(make_job, "resumed")
    killed_while_listing(job)  # the journal names the first folder's 2 mini-batches, its listing open
    # the resumed listing holds once one mini-batch more than the journal names is out, until a run() releases it
    proc = job.run(np=3, args=["--resume"], env=hold_until_run(job))
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect("prs_mpi: resuming:" in proc.stdout, "resumed", proc)
    ended = re.findall(r"listing ended: 40 files, 20 mini-batches, in [0-9.]+ s; (\d+) attempts were dispatched "
                       r"before it ended", master_notes(job))
    expect(len(ended) == 1 and int(ended[0]) >= 1, "the resumed run dispatched before its listing ended", proc)
    expect_equal(sorted(job.rows()), expected_rows(job), "every row once", proc)


def test_kill_9_during_a_resumed_listing_then_resume_gives_every_row_once(make_job):
    job = folder_job(make_job, "rekilled")
    killed_while_listing(job)
    proc = job.start(np=3, args=["--resume"], env={"PRS_TEST_LISTING_HOLD": job.path("never")})
    deadline = time.time() + 60  # the second folder's first mini-batch, dispatched by the resumed run
    while time.time() < deadline and proc.poll() is None and not any(r.startswith("item_004.txt ") for r in job.rows()):
        time.sleep(0.05)
    expect(proc.poll() is None and any(r.startswith("item_004.txt ") for r in job.rows()),
           "the resumed run dispatched the next folder's mini-batch and still lists")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    expect("listing ended" not in master_notes(job), "killed while its listing went on")
    _, final = resume_until_done(job, limit=3)
    expect_equal(sorted(job.rows()), expected_rows(job), "every row once", final)
    expect_equal(job.summary()["mini_batches"], {"total": 20, "succeeded": 20, "failed": 0, "unconfirmed": 0}, "counts", final)


FLAT = 1000  # files in one folder: the listing releases them 256 at a time, in name order


def flat_job(make_job, name):
    """A job whose data/ is one flat folder of FLAT files, mini-batches of 50."""
    job = make_job(name, SCRIPT, items=0, batch=50)
    job.items = []
    for i in reversed(range(FLAT)):  # created in another order than their names'
        job.write(f"data/item_{i:04d}.txt", f"{i}\n")
        job.items.append(f"item_{i:04d}.txt")
    return job


def flat_rows(job):
    return sorted(f"{item} {int(item[5:9])}" for item in job.items)


def test_a_flat_folder_starts_its_first_run_before_its_listing_ends(make_job):
    job = flat_job(make_job, "flat")
    proc = job.run(np=3, env=hold_until_run(job))
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), flat_rows(job), "every row once", proc)
    ended = re.search(r"listing ended: 1000 files, 20 mini-batches, in [0-9.]+ s; (\d+) attempts were dispatched "
                      r"before it ended", master_notes(job))
    expect(ended is not None and int(ended.group(1)) >= 1,
           "a mini-batch was dispatched before the flat folder's listing ended:\n" + master_notes(job), proc)
    expect(job.exists("gate"), "a run() released the held listing", proc)
    expect_equal(job.summary()["mini_batches"], {"total": 20, "succeeded": 20, "failed": 0, "unconfirmed": 0}, "counts", proc)


def test_a_flat_folder_released_per_folder_only_is_listed_whole_first(make_job):
    job = flat_job(make_job, "flat_whole")  # the comparison the benchmarks make: the folder goes out whole
    proc = job.run(np=3, env=dict(hold_until_run(job), PRS_TEST_LISTING_PER_FOLDER="1"))
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), flat_rows(job), "every row once", proc)
    expect("listing ended" not in master_notes(job), "listed whole before the master started", proc)


def test_kill_9_while_listing_a_flat_folder_then_resume_gives_every_row_once(make_job):
    job = flat_job(make_job, "flat_killed")
    proc = job.start(np=3, env={"PRS_TEST_LISTING_HOLD": job.path("never")})  # held after the first 256 files
    wait_for_rows(job, 50, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    expect("listing ended" not in master_notes(job), "killed while the flat folder's listing went on")
    expect(len(job.rows()) < FLAT, "killed before every row was written")
    deadline = time.time() + 30
    while True:  # the ranks outlive mpirun's process group for a moment, holding the job lock
        shown = subprocess.run([PRS_MPI, "status", "job.yml"], cwd=job.dir, capture_output=True, text=True, timeout=60)
        if "state: running" not in shown.stdout or time.time() > deadline:
            break
        time.sleep(0.2)
    expect_equal(shown.returncode, 0, "status exit code", shown)
    expect("state: interrupted" in shown.stdout, "the killed job is interrupted", shown)
    counts = re.search(r"^mini-batches: (\d+) listed so far \(the input's listing had not ended\), (\d+) done "
                       r"\((\d+) succeeded, 0 failed\), 0 in flight, (\d+) left of those$", shown.stdout, re.M)
    expect(counts is not None, "status: the mini-batches listed so far, not a total", shown)
    listed, done, succeeded, left = map(int, counts.groups())
    expect(0 < listed < 20 and done == succeeded and done + left == listed, f"counts {counts.groups()}", shown)
    expect(f"--resume: would skip the {done} mini-batches that ended (0 failed; --retry-failed runs those again), "
           f"run the other {left} and list the rest of the input" in shown.stdout, "status: what --resume does", shown)
    runs, final = resume_until_done(job, limit=4)
    expect("prs_mpi: resuming:" in final.stdout, "resumed", final)
    expect_equal(sorted(job.rows()), flat_rows(job), "every row once", final)
    expect_equal(job.summary()["mini_batches"], {"total": 20, "succeeded": 20, "failed": 0, "unconfirmed": 0}, "counts", final)
