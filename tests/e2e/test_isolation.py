"""A worker survives its Python: the entry script runs in a process of its own, supervised by its worker rank.
A crash, an exit, a hang in C, a fork or a pool inside run(), a thread that never ends, a memory limit: the job
goes on, reports each failed attempt with its cause, and ends with every row exactly once."""
import contextlib
import glob
import os
import random
import re
import signal
import subprocess
import time

import pytest

from prs_e2e import MPIEXEC, PRS_MPI, expect, expect_equal

ROWS = "[os.path.basename(p) for p in mini_batch]"


def crash_once_script(how):
    # The first attempt at item 4 dies; the retry succeeds.
    return f"""
        import ctypes, os, time
        def run(mini_batch):
            for p in mini_batch:
                if p.endswith("item_004.txt") and not os.path.exists(p + ".seen"):
                    open(p + ".seen", "w").close()
                    time.sleep(0.2)
                    {how}
            return {ROWS}
    """


@pytest.mark.parametrize("how, cause", [
    ("ctypes.string_at(0)", "killed by signal 11 (SIGSEGV)"),
    ("os._exit(3)", "exited with code 3"),
    ("os.kill(os.getpid(), 9)", "killed by signal 9 (SIGKILL"),
    ("import sys; sys.stdout.flush(); os.abort()", "killed by signal 6 (SIGABRT)"),
], ids=["segfault", "os_exit", "sigkill", "abort"])
def test_a_dying_run_is_one_failed_attempt_and_the_job_goes_on(make_job, how, cause):
    job = make_job("crash", crash_once_script(how), items=12, batch=2, retries=1)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), job.items, "every row exactly once", proc)
    s = job.summary()
    expect_equal(s["workers"]["python_restarts"], 1, "one fresh Python process", proc)
    expect_equal(s["attempts"]["retried"], 1, "the crashed attempt was retried", proc)
    errors = job.read("out/logs/user/error.txt")
    expect("the entry script's process" in errors and cause in errors and "in mini-batch 2, attempt 1" in errors,
           f"the cause and the mini-batch in error.txt:\n{errors}", proc)
    expect(re.search(r"prs_mpi: rank \d \(.*\): mini-batch 2, attempt 1 failed: .*" + re.escape(cause), proc.stderr),
           "one console line with the cause", proc)
    expect(cause in job.read("out/logs/sys/master_role.txt"), "the restart is noted", proc)


def test_a_batch_that_always_crashes_ends_failed_and_only_it(make_job):
    script = """
        import ctypes, os
        def run(mini_batch):
            if any(p.endswith("item_004.txt") for p in mini_batch):
                ctypes.string_at(0)
            return [os.path.basename(p) for p in mini_batch]
    """
    job = make_job("always_crash", script, items=12, batch=2, retries=2,
                   extra="mini_batch_error_threshold: 0\n")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 1, "exit code: the threshold of 0 failed mini-batches", proc)
    expect("mini_batch_error_threshold exceeded: 1 mini-batches failed" in proc.stderr, "reason", proc)
    s = job.summary()
    expect_equal(s["mini_batches"]["failed"], 1, "one failed mini-batch", proc)
    expect_equal(s["workers"]["python_restarts"], 3, "one restart per attempt", proc)
    rows = job.rows()
    expect("item_004.txt" not in rows and len(rows) == len(set(rows)), "no row of the failed batch, none twice", proc)


POOL_SCRIPT = """
    import multiprocessing, os
    def square(x):
        return x * x
    def run(mini_batch):
        ctx = multiprocessing.get_context("{method}")
        with ctx.Pool(2) as pool:
            squares = pool.map(square, range(len(mini_batch)))
        return [os.path.basename(p) + " " + str(s) for p, s in zip(mini_batch, squares)]
"""


@pytest.mark.parametrize("method", ["fork", "spawn", "forkserver"])
def test_multiprocessing_pool_inside_run(make_job, method):
    job = make_job(f"pool_{method}", POOL_SCRIPT.format(method=method), items=9, batch=3)
    proc = job.run(np=3, timeout=180)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expected = sorted(f"{item} {(i % 3) ** 2}" for i, item in enumerate(job.items))
    expect_equal(sorted(job.rows()), expected, "the pool's results", proc)
    expect_equal(job.summary()["workers"]["python_restarts"], 0, "no process died", proc)


def test_pool_terminate_stops_its_children(make_job):
    script = """
        import multiprocessing, os, time
        def nap(x):
            time.sleep(60)
        def run(mini_batch):
            pool = multiprocessing.Pool(2)
            pool.map_async(nap, range(2))
            time.sleep(0.3)
            pool.terminate()
            pool.join()
            return [os.path.basename(p) for p in mini_batch]
    """
    job = make_job("pool_terminate", script, items=4, batch=2)
    start = time.time()
    proc = job.run(np=2, timeout=120)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect(time.time() - start < 30, "terminate() ended the sleeping children at once", proc)
    expect_equal(sorted(job.rows()), job.items, "every row", proc)


def test_a_forked_child_that_returns_from_run_is_not_a_worker(make_job):
    script = """
        import os
        def run(mini_batch):
            pid = os.fork()  # the child returns from run() too, as careless code does
            if pid:
                os.waitpid(pid, 0)
            return [os.path.basename(p) for p in mini_batch]
    """
    job = make_job("fork_return", script, items=6, batch=2)
    proc = job.run(np=2, timeout=120)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), job.items, "every row exactly once: the child's return is dropped", proc)
    expect_equal(job.summary()["attempts"]["run_calls"], 3, "three run() calls counted, not six", proc)


def test_a_thread_that_never_ends_does_not_keep_the_job_alive(make_job):
    script = """
        import os, threading, time
        def init():
            threading.Thread(target=time.sleep, args=(3600,)).start()  # not a daemon
        def run(mini_batch):
            threading.Thread(target=time.sleep, args=(3600,)).start()
            return [os.path.basename(p) for p in mini_batch]
    """
    job = make_job("threads", script, items=4, batch=2)
    start = time.time()
    proc = job.run(np=3, timeout=120)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect(time.time() - start < 30, "the job ended without waiting for the threads", proc)
    expect_equal(sorted(job.rows()), job.items, "every row", proc)


def test_python_uses_utf8_in_a_c_locale(make_job):
    script = """
        import locale, os, sys
        def run(mini_batch):
            path = os.path.join(os.path.dirname(mini_batch[0]), "..", "text.txt")
            with open(path) as f:
                text = f.read().strip()
            print("héllo wörld ✓", flush=True)
            return [f"{text} {sys.stdout.encoding} {locale.getpreferredencoding(False)} {sys.flags.utf8_mode}"
                    for p in mini_batch]
    """
    job = make_job("utf8", script, items=2, batch=2)
    job.write("text.txt", "日本語 ✓\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    env.update(LC_ALL="C", LANG="C")
    proc = subprocess.run([MPIEXEC, "--oversubscribe", "-np", "2", PRS_MPI, "job.yml"], cwd=job.dir, env=env,
                          capture_output=True, timeout=120)
    expect_equal(proc.returncode, 0, "exit code", proc)
    [stdout_file] = glob.glob(job.path("out/logs/user/stdout/*/process001.stdout.txt"))
    with open(stdout_file, encoding="utf-8") as f:
        out = f.read()
    expect("héllo wörld ✓" in out, f"non-ASCII print reaches the process's stdout file:\n{out}")
    python3 = subprocess.run(["/usr/bin/python3", "-c", "import locale, sys; print(sys.stdout.encoding, "
                              "locale.getpreferredencoding(False), sys.flags.utf8_mode)"],
                             env=env, capture_output=True, text=True).stdout.strip()
    expect_equal(python3, "utf-8 utf-8 1", "/usr/bin/python3 in the C locale: UTF-8 mode")
    expect_equal(job.rows(), ["日本語 ✓ " + python3] * 2, "open() and the streams as /usr/bin/python3 has them", proc)


def test_pythonutf8_from_environment_variables_is_honoured(make_job):
    script = """
        import sys
        def run(mini_batch):
            return [str(sys.flags.utf8_mode) for p in mini_batch]
    """
    job = make_job("utf8_off", script, items=1, batch=1,
                   extra='environment_variables: {PYTHONUTF8: "0", LC_ALL: "C.UTF-8"}\n')
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(job.rows(), ["0"], "PYTHONUTF8=0 turns UTF-8 mode off, as for python3", proc)


def test_max_tasks_per_child_recycles_the_process(make_job):
    script = """
        import os
        def run(mini_batch):
            return [os.path.basename(p) + " " + str(os.getpid()) for p in mini_batch]
    """
    job = make_job("recycle", script, items=6, batch=1, extra="max_tasks_per_child: 2\n")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    rows = job.rows()
    expect_equal(sorted(r.split()[0] for r in rows), job.items, "every row", proc)
    pids = [r.split()[1] for r in rows]
    expect_equal(len(set(pids)), 3, "three processes served two mini-batches each", proc)
    expect_equal(job.summary()["workers"]["python_restarts"], 3, "each recycling counted", proc)
    expect_equal(job.read("out/logs/sys/master_role.txt").count("(max_tasks_per_child); recycled"), 3, "noted", proc)


def test_max_memory_per_child_kills_and_restarts_a_process_that_grows(make_job):
    script = """
        import os, time
        hog = []
        def run(mini_batch):
            for p in mini_batch:
                if p.endswith("item_001.txt") and not os.path.exists(p + ".seen"):
                    open(p + ".seen", "w").close()
                    hog.append(bytearray(200 * 1024 * 1024))
                    time.sleep(5)
            return [os.path.basename(p) for p in mini_batch]
    """
    job = make_job("memory", script, items=4, batch=1, extra='max_memory_per_child: "100MB"\n')
    proc = job.run(np=2, timeout=120)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), job.items, "every row; the killed attempt ran again", proc)
    errors = job.read("out/logs/user/error.txt")
    expect("more than max_memory_per_child (0.10 GiB) in mini-batch 1, attempt 1; it was killed" in errors, errors, proc)


def test_a_short_return_says_why_it_failed(make_job):
    script = """
        def run(mini_batch):
            return []
    """
    job = make_job("short", script, items=2, batch=2, retries=0)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code (no threshold set)", proc)
    expect(re.search(r"prs_mpi: rank 1 \(.*\): mini-batch 0, attempt 1 failed: run\(\) returned 0 rows for 2 items",
                     proc.stderr), "a console line", proc)
    expect("run() returned 0 rows for 2 items" in job.read("out/logs/user/error.txt"), "and a log record", proc)


def test_a_bad_worker_is_quarantined_and_retries_go_elsewhere(make_job):
    script = """
        import os, time
        def init():
            time.sleep(0.3 if os.environ["PRS_RANK"] != "1" else 0)  # the bad worker is ready first
        def run(mini_batch):
            if os.environ["PRS_RANK"] == "1":
                raise RuntimeError("this node's GPU is broken")
            time.sleep(0.05)  # long enough for every worker to take its share
            return [os.path.basename(p) for p in mini_batch]
    """
    job = make_job("bad_worker", script, items=20, batch=1, retries=1, extra="quarantine_after_failures: 3\n")
    proc = job.run(np=4)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), job.items, "every mini-batch succeeded elsewhere", proc)
    s = job.summary()
    expect_equal(s["mini_batches"]["failed"], 0, "no batch used its attempts on the bad worker", proc)
    expect_equal(s["workers"]["quarantined"], 1, "the bad worker quarantined", proc)
    # Three failures quarantine it; the one prefetched behind them may already run when the cancel arrives.
    expect(s["attempts"]["failed"] in (3, 4), f"three failures, then no more work: {s['attempts']}", proc)
    expect(re.search(r"prs_mpi: rank 1 \(.*\) quarantined: its last [34] mini-batches failed while other workers "
                     r"succeeded", proc.stderr), "console line", proc)


def session_pids(sid):
    out = subprocess.run(["ps", "-o", "pid=,sid=,args=", "-e"], capture_output=True, text=True).stdout
    return [(int(pid), args) for pid, s, args in (line.split(None, 2) for line in out.splitlines() if line.strip())
            if int(s) == sid]


@contextlib.contextmanager
def started(job, np=3):
    """The job under mpiexec in a session of its own; if the test leaves before it ended, every process of the
    session goes (Open MPI gives each rank a process group of its own, so killing mpirun's is not enough)."""
    p = job.start(np=np)
    try:
        yield p
    finally:
        if p.poll() is None:
            for pid, _ in session_pids(p.pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            p.wait()


def finished(p, timeout):
    out, err = p.communicate(timeout=timeout)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)


def test_a_frozen_worker_rank_is_lost_and_its_work_goes_elsewhere(make_job):
    script = """
        import os, time
        def run(mini_batch):
            time.sleep(0.2)
            return [os.path.basename(p) for p in mini_batch]
    """
    job = make_job("frozen", script, items=30, batch=1, timeout=2)
    with started(job) as p:
        deadline = time.time() + 60
        rank = None
        while rank is None and time.time() < deadline:  # a worker rank that has a Python process: it took work
            procs = session_pids(p.pid)
            ranks = [pid for pid, args in procs if args.startswith(PRS_MPI) and "--python-process" not in args]
            if len(ranks) == 3 and os.path.exists(job.path("out/logs/journal.bin")) and \
                    os.path.getsize(job.path("out/logs/journal.bin")) > 600:
                rank = sorted(ranks)[-1]
            time.sleep(0.1)
        expect(rank is not None, "the job started")
        os.kill(rank, signal.SIGSTOP)
        proc = finished(p, 120)
    err = proc.stderr
    expect("sent nothing for" in err and "its mini-batches go to other workers and the job ends without it" in err,
           "the lost rank is named", proc)
    s = job.summary()
    expect_equal(s["workers"]["lost"], 1, "one lost worker", proc)
    # Frozen between a commit and its acknowledgement, the rank may hold rows nobody can confirm: then the job ends
    # interrupted and --resume redoes that mini-batch; otherwise it succeeds without the rank.
    if proc.returncode == 3:
        expect("committed mini-batches were never confirmed written by a worker that was lost" in s["reason"],
               "the reason says why it is only resumable", proc)
        expect(s["mini_batches"]["unconfirmed"] >= 1 and
               s["mini_batches"]["succeeded"] + s["mini_batches"]["unconfirmed"] == len(job.items),
               f"the unconfirmed ones are not counted as succeeded: {s['mini_batches']}", proc)
        expect("ending every rank with MPI_Abort and exit code 3" in err, "the end says how it ends", proc)
        proc = job.run(np=3, args=["--resume"])
    else:
        expect("ending every rank with MPI_Abort and exit code 0" in err, "the end says how it ends", proc)
        expect_equal(s["status"], "succeeded", "the report", proc)
    expect_equal(proc.returncode, 0, "exit code: every mini-batch succeeded without the frozen rank", proc)
    expect_equal(sorted(job.rows()), job.items, "every row exactly once", proc)


@pytest.mark.chaos
@pytest.mark.parametrize("seed", [11, 12])
def test_chaos_kills_of_the_entry_script_process_lose_and_duplicate_nothing(make_job, seed):
    """SIGKILL and SIGSEGV sent to the entry script's processes (not the ranks) at random moments: the job still
    ends 0 with every row exactly once. The seed is in the test id."""
    rng = random.Random(seed)
    script = """
        import os, time
        def init():
            time.sleep(0.1)
        def run(mini_batch):
            time.sleep(0.1)
            return [os.path.basename(p) + " " + "x" * 200 for p in mini_batch]
    """
    job = make_job(f"chaos_{seed}", script, items=160, batch=2, retries=6)
    kills = 0
    with started(job) as p:
        time.sleep(1.0)
        while p.poll() is None and kills < 8:
            targets = [pid for pid, args in session_pids(p.pid) if "--python-process" in args]
            if targets:
                os.kill(rng.choice(targets), rng.choice([signal.SIGKILL, signal.SIGSEGV]))
                kills += 1
            time.sleep(rng.uniform(0.2, 0.6))
        proc = finished(p, 180)
    expect(kills >= 3, f"the kills hit a running job ({kills})", proc)
    expect_equal(proc.returncode, 0, "exit code", proc)
    rows = job.rows()
    expect(all(re.fullmatch(r"item_\d{3}\.txt x{200}", r) for r in rows), "no torn or merged line", proc)
    expect_equal(sorted(r.split()[0] for r in rows), job.items, "every row exactly once", proc)
    expect(job.summary()["workers"]["python_restarts"] >= 1, "the processes were replaced", proc)


def test_mpi4py_in_the_entry_script_is_a_singleton_not_a_second_rank(make_job):
    script = """
        import os
        def run(mini_batch):
            from mpi4py import MPI
            return [f"{os.path.basename(p)} {MPI.COMM_WORLD.Get_size()} {MPI.COMM_WORLD.Get_rank()}"
                    for p in mini_batch]
    """
    job = make_job("mpi4py", script, items=2, batch=1)
    proc = job.run(np=2, timeout=120)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), ["item_000.txt 1 0", "item_001.txt 1 0"], "a world of one", proc)


def test_a_drain_signal_sent_to_every_process_spares_the_entry_script(make_job):
    """srun delivers a signal to every process of the step: the ranks drain, the entry script's processes keep
    running their mini-batch (they ignore SIGUSR1), and nothing is counted as failed."""
    script = """
        import os, time
        def run(mini_batch):
            time.sleep(0.3)
            return [os.path.basename(p) for p in mini_batch]
    """
    job = make_job("drain_all", script, items=40, batch=1)
    with started(job) as p:
        deadline = time.time() + 60
        while time.time() < deadline and len([1 for _, a in session_pids(p.pid) if "--python-process" in a]) < 2:
            time.sleep(0.1)
        time.sleep(1.0)
        for pid, args in session_pids(p.pid):
            if args.startswith(PRS_MPI):
                os.kill(pid, signal.SIGUSR1)
        proc = finished(p, 120)
    expect_equal(proc.returncode, 3, "interrupted, resumable", proc)
    s = job.summary()
    expect_equal((s["attempts"]["failed"], s["workers"]["python_restarts"]), (0, 0), "no process died", proc)
    proc = job.run(np=3, args=["--resume"])
    expect_equal(proc.returncode, 0, "the resume finishes", proc)
    expect_equal(sorted(job.rows()), job.items, "every row exactly once", proc)


def test_a_fresh_process_whose_init_never_returns_ends_the_job_clearly(make_job):
    script = """
        import ctypes, os, time
        def init():
            if os.path.exists("crashed.flag"):
                time.sleep(600)  # the fresh process hangs in init()
        def run(mini_batch):
            open("crashed.flag", "w").close()
            ctypes.string_at(0)
    """
    job = make_job("init_hangs", script, items=2, batch=1, arguments="--progress_update_timeout 3")
    proc = job.run(np=2, timeout=120)
    expect_equal(proc.returncode, 1, "exit code", proc)
    expect("no progress for 3 s (progress_update_timeout 3 s)" in proc.stderr, "the reason", proc)
