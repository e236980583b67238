"""Inputs that would hang the job, lose a row or leave a false report: symlink loops, unreadable folders (as a
normal user), the output among the inputs or over the entry script, a job file that never ends, sizes that
overflow. Each ends with an exact outcome: the rows once each, or exit 2 with one clear line and nothing harmed.

    PRS_MPI=$PWD/build/prs_mpi PRS_MPIEXEC=mpiexec /usr/bin/python3 -m pytest -q tests/e2e/test_input_safety.py
"""
import os
import shutil
import subprocess
import tempfile

import pytest

from prs_e2e import MPIEXEC, PRS_MPI, Job, expect, expect_equal

SCRIPT = """
    import os
    def run(mini_batch):
        return [f"{os.path.relpath(p, 'data')} {open(p).read().strip()}" for p in mini_batch]
"""

HINT = "; fix it, or set skip_unreadable_inputs: true to skip what cannot be read"


def error_lines(proc):
    return [line for line in proc.stderr.splitlines() if line.startswith("prs_mpi:")]


def item_rows(items):
    return sorted(f"item_{i:03d}.txt {i}" for i in range(items))


# ---- as a normal user: root reads every folder, so these run as nobody (setpriv) when the tests run as root ----

AS_NOBODY = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if os.geteuid() == 0 else []


class NobodyJob(Job):
    """A job in a folder nobody owns, run by nobody with a prs_mpi that nobody can execute."""

    def __init__(self, root, prs_mpi, *args, **settings):
        super().__init__(root, *args, **settings)
        self.prs_mpi = prs_mpi
        if AS_NOBODY:
            for folder, dirs, files in os.walk(self.dir):
                for name in [folder] + [os.path.join(folder, n) for n in dirs + files]:
                    os.chown(name, 65534, 65534, follow_symlinks=False)

    def run(self, np=3, args=(), timeout=300, job="job.yml"):
        cmd = [self.prs_mpi, job, *args]
        if np:
            cmd = [MPIEXEC, "--oversubscribe", "-np", str(np), *cmd]
        env = {k: v for k, v in os.environ.items() if not k.startswith("OMPI_ALLOW_RUN_AS_ROOT")}
        env["HOME"] = self.dir
        return subprocess.run(AS_NOBODY + cmd, cwd=self.dir, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture
def make_nobody_job():
    """make_nobody_job(name, script, **settings): a Job under a folder of /tmp that nobody can reach (pytest's
    tmp_path is private to root). prs_mpi is copied there when nobody cannot execute it where it was built."""
    root = tempfile.mkdtemp(prefix="prs_e2e_nobody_")
    os.chmod(root, 0o755)
    prs_mpi = PRS_MPI
    if AS_NOBODY and subprocess.run(AS_NOBODY + ["test", "-x", PRS_MPI]).returncode != 0:
        prs_mpi = os.path.join(root, "prs_mpi")
        shutil.copy2(PRS_MPI, prs_mpi)
        os.chmod(prs_mpi, 0o755)
    yield lambda name, script, **settings: NobodyJob(root, prs_mpi, name, script, **settings)
    for folder, dirs, _ in os.walk(root):
        for name in dirs:
            os.chmod(os.path.join(folder, name), 0o755)
    shutil.rmtree(root, ignore_errors=True)


def with_locked_folder(job):
    """Puts 4 of the job's items into data/a_locked and makes it unreadable (mode 000). Its name sorts before the
    other items: the listing meets it before any mini-batch is final, so the job ends before any worker ran (one met
    after mini-batches ran: test_streamed_listing.py)."""
    os.makedirs(job.path("data/a_locked"))
    for i in range(4):
        os.rename(job.path(f"data/item_{i:03d}.txt"), job.path(f"data/a_locked/item_{i:03d}.txt"))
    if AS_NOBODY:
        os.chown(job.path("data/a_locked"), 65534, 65534)
    os.chmod(job.path("data/a_locked"), 0)


def test_an_unreadable_folder_fails_the_job_naming_it(make_nobody_job):
    job = make_nobody_job("locked", SCRIPT, items=12, batch=3)
    with_locked_folder(job)
    proc = job.run(np=3)
    assert proc.returncode == 2, proc.stderr
    assert error_lines(proc) == [
        f"prs_mpi: error: {job.path('data/a_locked')}: cannot list the input folder: Permission denied{HINT}"]
    assert not job.exists("out"), "nothing written"


def test_skip_mode_runs_the_rest_and_names_what_it_skipped(make_nobody_job):
    job = make_nobody_job("skip", SCRIPT, items=12, batch=3, extra="skip_unreadable_inputs: true\n")
    with_locked_folder(job)
    proc = job.run(np=3)
    assert proc.returncode == 0, proc.stderr
    assert (f"prs_mpi: warning: skipped 1 unreadable path: {job.path('data/a_locked')} (cannot list the input "
            "folder: Permission denied)") in error_lines(proc)
    assert sorted(job.rows()) == sorted(f"item_{i:03d}.txt {i}" for i in range(4, 12))
    assert job.summary()["items"]["total"] == 8
    dry = job.run(np=0, args=["--dry-run"])
    assert dry.returncode == 0, dry.stderr
    assert (f"skipped (skip_unreadable_inputs): 1 unreadable path\n  {job.path('data/a_locked')}: cannot list the "
            "input folder: Permission denied\n") in dry.stdout


# ---- symlinks ----

def test_symlink_loops_end_with_each_row_once(make_job):
    job = make_job("loops", SCRIPT, items=9, batch=2)
    for i in range(3, 9):
        sub = "a" if i < 6 else "a/b"
        os.makedirs(job.path(f"data/{sub}"), exist_ok=True)
        os.rename(job.path(f"data/item_{i:03d}.txt"), job.path(f"data/{sub}/item_{i:03d}.txt"))
    os.symlink("..", job.path("data/a/up"))        # two links back up the tree
    os.symlink("../..", job.path("data/a/b/up"))
    os.symlink(".", job.path("data/self"))         # a link to its own folder
    os.symlink("a/b", job.path("data/sibling"))    # a second path to a folder of the tree
    proc = job.run(np=3, timeout=120)
    assert proc.returncode == 0, proc.stderr
    expected = [f"item_{i:03d}.txt {i}" for i in range(3)] + [f"a/item_{i:03d}.txt {i}" for i in range(3, 6)] + \
               [f"a/b/item_{i:03d}.txt {i}" for i in range(6, 9)]
    assert sorted(job.rows()) == sorted(expected)
    assert job.summary()["items"]["total"] == 9


# ---- the output is never an input, never the entry script, and --overwrite deletes nothing else ----

def test_an_output_that_is_the_entry_script_is_refused_and_the_script_kept(make_job):
    job = make_job("over_script", SCRIPT, items=4, batch=2)
    job.write("job.yml", job.read("job.yml").replace("${{outputs.job_output_file}}", "./src/score.py"))
    script = job.read("src/score.py")
    proc = job.run(np=2, args=["--overwrite"])
    assert proc.returncode == 2, proc.stderr
    assert error_lines(proc) == [
        f"prs_mpi: error: job.yml:14: task.append_row_to: {job.path('src/score.py')} is the entry script "
        f"(task.entry_script: {job.path('src/score.py')}); the rows would overwrite it: write them to another file"]
    assert job.read("src/score.py") == script


def test_an_output_that_is_an_input_file_is_refused_and_the_data_kept(make_job):
    job = make_job("over_input", SCRIPT, items=4, batch=2)
    job.write("job.yml", job.read("job.yml").replace("path: ./out/predictions.txt", "path: ./data/item_002.txt"))
    proc = job.run(np=2, args=["--overwrite"])
    assert proc.returncode == 2, proc.stderr
    assert error_lines(proc) == [
        f"prs_mpi: error: job.yml:14: task.append_row_to: {job.path('data/item_002.txt')} is one of the input files "
        f"(input_data: {job.path('data')}); the rows would overwrite it: write them to a file outside the input"]
    assert job.read("data/item_002.txt") == "2\n"


def test_overwrite_keeps_a_file_no_earlier_run_wrote(make_job):
    job = make_job("over_user", SCRIPT, items=4, batch=2)
    job.write("out/predictions.txt", "the user's own\n")
    proc = job.run(np=2, args=["--overwrite"])
    assert proc.returncode == 2, proc.stderr
    assert error_lines(proc) == [
        f"prs_mpi: error: job.yml:14: task.append_row_to: {job.path('out/predictions.txt')} already exists and is "
        f"not an output of an earlier run of this job: no journal of an earlier run is at "
        f"{job.path('out/logs/journal.bin')}; prs_mpi replaces only its own earlier output: move the file away or "
        "write the rows to another file"]
    assert job.read("out/predictions.txt") == "the user's own\n"


def test_an_output_inside_the_input_folder_is_not_read_back_as_input(make_job):
    job = make_job("inside", SCRIPT, items=10, batch=3)
    job.write("job.yml", job.read("job.yml").replace("path: ./out/predictions.txt", "path: ./data/out/rows.txt"))
    for attempt in ([], ["--overwrite"]):
        proc = job.run(np=3, args=attempt)
        assert proc.returncode == 0, proc.stderr
        assert sorted(job.rows("data/out/rows.txt")) == item_rows(10), attempt
        assert job.summary("data/out/logs")["items"]["total"] == 10, attempt


# ---- bounded input ----

def test_dev_zero_as_the_job_file_is_refused_at_once(make_job):
    job = make_job("zero", SCRIPT, items=1)
    proc = job.run(np=0, job="/dev/zero", args=["--dry-run"], timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert error_lines(proc) == ["prs_mpi: error: /dev/zero: the job file must be a regular file, got a character device"]


def test_a_fifo_as_the_job_file_is_refused_without_waiting_for_a_writer(make_job):
    job = make_job("fifo", SCRIPT, items=1)
    os.mkfifo(job.path("pipe.yml"))
    proc = job.run(np=0, job="pipe.yml", args=["--dry-run"], timeout=30)
    assert proc.returncode == 2, proc.stderr
    assert error_lines(proc) == ["prs_mpi: error: pipe.yml: the job file must be a regular file, got a FIFO (named pipe)"]


def test_a_mini_batch_size_that_overflows_is_refused(make_job):
    job = make_job("overflow", SCRIPT, items=3)
    job.write("job.yml", job.read("job.yml").replace('mini_batch_size: "3"', "mini_batch_size: 18446744073709551615"))
    proc = job.run(np=2)
    assert proc.returncode == 2, proc.stderr
    assert error_lines(proc) == [
        "prs_mpi: error: job.yml:7: mini_batch_size: must be in [1, 2147483647], got 18446744073709551615"]
    assert not job.exists("out")


# ---- an input error found by the listing, which runs while the workers start Python and run init() ----

INIT_FIRST = """
    import os
    MARKS = os.environ["PRS_TEST_MARKS"]
    def init():
        open(os.path.join(MARKS, "init.%d" % os.getpid()), "w").close()
        if len([m for m in os.listdir(MARKS) if m.startswith("init.")]) == 2:  # both workers: let rank 0 list
            open(os.environ["PRS_TEST_LISTING_GATE"], "w").close()
    def run(mini_batch):
        return mini_batch
    def shutdown():
        open(os.path.join(MARKS, "shutdown.%d" % os.getpid()), "w").close()
"""


def test_an_input_error_found_after_init_ran_ends_the_job_as_before_with_nothing_left(make_job):
    job = make_job("late", INIT_FIRST, items=6, batch=2)
    os.symlink(job.path("nowhere"), job.path("data/broken"))
    os.makedirs(job.path("marks"))
    # rank 0 lists only once both workers' init() ran (a test hook): the listing fails after init(), not by chance
    proc = job.start(np=3, env={"PRS_TEST_MARKS": job.path("marks"), "PRS_TEST_LISTING_GATE": job.path("gate")})
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 2, err
    assert [line for line in err.splitlines() if line.startswith("prs_mpi:")] == [
        f"prs_mpi: error: {job.path('data/broken')}: cannot follow the symlink: No such file or directory{HINT}"]
    assert not job.exists("out"), "no output, no journal, no logs: the folders this job created are removed"
    marks = os.listdir(job.path("marks"))
    inits = {int(m.split(".")[1]) for m in marks if m.startswith("init.")}
    shutdowns = {int(m.split(".")[1]) for m in marks if m.startswith("shutdown.")}
    assert len(inits) == 2, marks
    assert shutdowns <= inits, marks  # shutdown() only after an init() (once its end reached the rank)
    for pid in inits:  # every Python process has ended
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


def ENV_WRITES_BYTECODE(home):  # noqa: N802 - a constant-like helper
    """An environment in which Python writes .pyc files (PYTHONDONTWRITEBYTECODE may be set where tests run)."""
    return {"HOME": home, "XDG_CACHE_HOME": "", "PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": ""}


def test_a_code_folder_inside_the_input_gains_no_files_while_it_is_listed(make_job):
    """Workers import the entry script while rank 0 lists the input: with the code inside the input, Python writes
    no compiled modules (PYTHONDONTWRITEBYTECODE), so the listing is the same in every run."""
    job = make_job("codeinside", SCRIPT, items=4, batch=2)
    job.write("data/src/helper.py", "def label(p):\n    return 'h'\n")
    job.write("data/src/score.py", "import os\nimport helper\n\ndef run(mini_batch):\n"
                                   "    return [f\"{os.path.relpath(p, 'data')} {helper.label(p)}\" for p in mini_batch]\n")
    job.write("job.yml", job.read("job.yml").replace("code: ./src", "code: ./data/src"))
    home = job.path("home")
    os.makedirs(home)
    proc = job.run(np=3, env=ENV_WRITES_BYTECODE(home))
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), sorted([f"{i} h" for i in job.items] + ["src/helper.py h"]), "rows")
    expect(not job.exists("data/src/__pycache__"), "no __pycache__ beside the code", proc)
    expect(not os.path.exists(os.path.join(home, ".cache")), "nor a cache folder elsewhere", proc)
    again = job.run(np=3, args=["--resume"], env=ENV_WRITES_BYTECODE(home))
    expect_equal(again.returncode, 0, "--resume of the ended job: the same listing", again)
    expect("nothing to resume" in again.stdout, "nothing to resume", again)


def test_code_outside_the_input_is_compiled_and_cached_as_python_does(make_job):
    """No cache prefix for every worker: Python reads the compiled modules Debian ships beside its packages and
    caches the entry script's own beside it, as python3 does (a prefix compiled pandas and scikit-learn at every
    start where it could not write: 2.5 s a worker)."""
    job = make_job("codeoutside", """
        import os, sys, json
        def run(mini_batch):
            return [json.dumps([sys.pycache_prefix, sys.dont_write_bytecode, json.__cached__]) for _ in mini_batch]
    """, items=2, batch=2)
    home = job.path("home")
    os.makedirs(home)
    proc = job.run(np=2, env=ENV_WRITES_BYTECODE(home))
    expect_equal(proc.returncode, 0, "exit code", proc)
    import json as stdlib_json
    prefix, dont_write, cached = stdlib_json.loads(job.rows()[0])
    expect_equal((prefix, dont_write), (None, False), "no prefix, bytecode written", proc)
    expect("/__pycache__/" in cached, f"the standard library's own compiled module: {cached}", proc)
    expect(job.exists("src/__pycache__"), "the entry script's compiled module beside it", proc)
