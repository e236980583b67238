"""A worker's Python process started before MPI_Init (src/worker/prestart.cpp): the entry script sees what a process
started after MPI_Init sees (os.environ and the C environment, sys.path, sys.flags, the streams), the job's
environment_variables and python_env are honoured, a process whose interpreter is not the final one (rank 0's
VIRTUAL_ENV) or that died is replaced, and a job refused by rank 0 leaves no process, no file and no output."""
import json
import os
import re
import subprocess
import time
import uuid

import pytest

from prs_e2e import MPIEXEC, PRS_MPI, expect, expect_equal
from test_python_env import make_venv

# On this machine's 2 cores the automatic rule leaves the prestart off (prestart.hpp, prestart_wanted): these tests
# ask for it, as a user of a node with cores to spare gets it by default.
os.environ["PRS_PRESTART"] = "on"

# At its import the script writes what its process sees to $PRS_TEST_DUMPS/<pid>.json; run() returns the item.
DUMP_SCRIPT = """
    import ctypes, json, locale, os, sys
    import helper  # from environment_variables' PYTHONPATH

    libc = ctypes.CDLL(None)
    libc.getenv.restype = ctypes.c_char_p

    def c_environ():
        env = ctypes.POINTER(ctypes.c_char_p).in_dll(libc, "environ")
        out, i = [], 0
        while env[i] is not None:
            out.append(env[i].decode("utf-8", "surrogateescape"))
            i += 1
        return out

    def fd_target(fd):
        return os.readlink(f"/proc/self/fd/{fd}")

    with open("/proc/self/cmdline", "rb") as f:
        cmdline = f.read().split(b"\\0")
    seen = {
        "prestarted": b"--prestart" in cmdline,
        "os_environ": [f"{k}={v}" for k, v in os.environ.items()],
        "c_environ": c_environ(),
        "getenv": {name: (libc.getenv(name.encode()) or b"(unset)").decode()
                   for name in ("PRS_RANK", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS", "PYTHONPATH")},
        "sys_path": sys.path, "flags": list(sys.flags), "executable": sys.executable, "prefix": sys.prefix,
        "pycache_prefix": sys.pycache_prefix, "fs_encoding": sys.getfilesystemencoding(),
        "stdout": [sys.stdout.encoding, sys.stdout.errors, sys.stdout.line_buffering, fd_target(1)],
        "stderr": [sys.stderr.encoding, sys.stderr.errors, sys.stderr.line_buffering, fd_target(2)],
        "stdin": fd_target(0), "ctype": locale.setlocale(locale.LC_CTYPE), "cwd": os.getcwd(),
        "scheduling": [os.sched_getscheduler(0), os.getpriority(os.PRIO_PROCESS, 0), sorted(os.sched_getaffinity(0))],
        "helper": helper.VALUE, "modules": sorted(sys.modules),
    }
    with open(os.path.join(os.environ["PRS_TEST_DUMPS"], f"{os.getpid()}.json"), "w") as f:
        json.dump(seen, f)

    def run(mini_batch):
        return [os.path.basename(p) for p in mini_batch]
"""

ADOPTED = re.compile(r"rank (\d+): adopted the Python process started before MPI_Init \(pid (\d+)\)$", re.M)


def sys_log(job, rank):
    host = os.listdir(job.path("out/logs/sys/node"))[0]
    return job.read(f"out/logs/sys/node/{host}/process{rank:03d}.txt")


def dumps(folder):
    out = {}
    for name in os.listdir(folder):
        with open(os.path.join(folder, name)) as f:
            out[int(name.split(".")[0])] = json.load(f)
    return out


def test_an_adopted_process_sees_what_a_fresh_one_sees(make_job):
    # One worker, a fresh process per mini-batch (max_tasks_per_child: 1): the first is the prestarted one, the
    # others are started after MPI_Init as without it. Every one of them must see the very same.
    job = make_job("same", DUMP_SCRIPT, items=3, batch=1,
                   extra="max_tasks_per_child: 1\nlogging_level: DEBUG\n"
                         "environment_variables: {PYTHONPATH: ./lib, PRS_TEST_DUMPS: ./dumps, OMP_NUM_THREADS: '3'}\n")
    job.write("lib/helper.py", 'VALUE = "from-lib"\n')
    os.makedirs(job.path("dumps"))
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), job.items, "rows", proc)
    adopted = ADOPTED.findall(sys_log(job, 1))
    expect_equal(len(adopted), 1, "adopted once (rank 1's sys log)", proc)
    seen = dumps(job.path("dumps"))
    expect_equal(len(seen), 3, "processes", proc)
    first = seen.pop(int(adopted[0][1]))
    expect_equal(first["prestarted"], True, "the adopted process is the prestarted one")
    expect_equal(first["scheduling"][0], os.SCHED_OTHER, "scheduling policy (SCHED_BATCH only until adopted)")
    expect_equal(first["os_environ"], first["c_environ"], "os.environ and the C environment")
    for pid, other in seen.items():
        expect_equal(other["prestarted"], False, f"process {pid} started after MPI_Init")
        for key in first:
            if key != "prestarted":
                expect_equal(first[key], other[key], f"{key}: the adopted process and the fresh {pid}")
    env = dict(entry.split("=", 1) for entry in first["os_environ"])
    expect_equal((env["PYTHONPATH"], env["PRS_RANK"], env["OMP_NUM_THREADS"], first["helper"]),
                 ("./lib", "1", "3", "from-lib"), "environment_variables and PRS_RANK")
    expect(not any(name.startswith(("PMIX_", "OMPI_COMM_WORLD_")) for name in env), "no launcher variables")
    expect_equal(first["stdout"][3], job.path(f"out/logs/user/stdout/{os.listdir(job.path('out/logs/user/stdout'))[0]}"
                                              "/process001.stdout.txt"), "fd 1: the log file")
    expect_equal(first["getenv"], {"PRS_RANK": "1", "CUDA_VISIBLE_DEVICES": env.get("CUDA_VISIBLE_DEVICES", "(unset)"),
                                   "OMP_NUM_THREADS": "3", "PYTHONPATH": "./lib"}, "getenv() in C")


VENV_SCRIPT = """
    import os, sys

    def run(mini_batch):
        return [f"{os.path.basename(p)} {sys.prefix} {os.environ.get('VIRTUAL_ENV')} {os.environ.get('PYTHONHOME')}"
                for p in mini_batch]
"""


def test_python_env_is_the_prestarted_interpreter(make_job, tmp_path):
    venv = make_venv(str(tmp_path / "env"))
    job = make_job("venv", VENV_SCRIPT, items=4, batch=2, extra=f"python_env: {venv}\nlogging_level: DEBUG\n")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} {venv} {venv} None" for item in job.items], "rows", proc)
    for rank in (1, 2):
        expect_equal(len(ADOPTED.findall(sys_log(job, rank))), 1, f"rank {rank} adopted its process", proc)


def test_rank_0_s_virtual_env_replaces_the_workers_guess(make_job, tmp_path):
    # Only rank 0 has VIRTUAL_ENV (a remote rank need not): the workers guessed Debian's python3 (with a PYTHONHOME,
    # which the venv's activation drops): their prestarted processes are replaced, the venv is used.
    venv = make_venv(str(tmp_path / "venv"))
    job = make_job("guess", VENV_SCRIPT, items=4, batch=2, extra="logging_level: DEBUG\n")
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    cmd = [MPIEXEC, "--oversubscribe", "-np", "1", "env", f"VIRTUAL_ENV={venv}", PRS_MPI, "job.yml", ":",
           "-np", "2", "env", "PYTHONHOME=/usr", PRS_MPI, "job.yml"]
    proc = subprocess.run(cmd, cwd=job.dir, capture_output=True, text=True, timeout=300, env=env)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} {venv} {venv} None" for item in job.items], "rows", proc)
    for rank in (1, 2):
        expect(f"rank {rank}: the Python process started before MPI_Init was ended (the interpreter is "
               f"{venv}/bin/python3, not /usr/bin/python3); a fresh one starts" in sys_log(job, rank),
               f"rank {rank} replaced its process", proc)


def test_a_prestarted_process_that_died_is_replaced(make_job):
    # A sitecustomize on PYTHONPATH kills the prestarted process while its interpreter starts (its command line
    # says --prestart); the processes started after MPI_Init live. Either the rank finds it dead (and starts a
    # fresh one) or it dies after the rank adopted it (a start failure: trying again); the job is whole either way.
    job = make_job("died", VENV_SCRIPT.replace("sys.prefix", "os.getpid()"), items=4, batch=2,
                   extra="logging_level: DEBUG\nenvironment_variables: {PYTHONPATH: ./site}\n")
    job.write("site/sitecustomize.py", "import os, signal\nif b'--prestart' in open('/proc/self/cmdline', 'rb').read():\n"
                                       "    os.kill(os.getpid(), signal.SIGKILL)\n")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(len(job.rows()), 4, "rows", proc)
    log = sys_log(job, 1)
    ended = ("rank 1: the Python process started before MPI_Init was ended (it ended: killed by signal 9 (SIGKILL, "
             "from the kernel's out-of-memory killer or another process)); a fresh one starts")
    retried = "restarting: the entry script's process killed by signal 9"
    expect((ended in log) != (retried in log), "one of the two outcomes, in rank 1's sys log:\n" + log, proc)
    expect(ADOPTED.search(log) is None or retried in log, "a dead process is not served", proc)


def processes_tagged(tag):
    """The processes whose environment holds PRS_TEST_TAG=tag."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if f"PRS_TEST_TAG={tag}".encode() in f.read().split(b"\0"):
                    found.append(pid)
        except OSError:
            pass
    return found


def test_a_refused_job_leaves_no_prestarted_process_file_or_output(make_job):
    job = make_job("refused", "def run(mini_batch):\n    return mini_batch\n")
    os.remove(job.path("src/score.py"))  # rank 0's first checks refuse the job: exit 2, nothing written
    before = sorted(os.listdir(job.dir))
    tag = uuid.uuid4().hex
    proc = job.run(np=4, env={"PRS_TEST_TAG": tag})
    expect_equal(proc.returncode, 2, "exit code", proc)
    expect_equal([line for line in proc.stdout.splitlines() if not line.startswith("prs_mpi: note: MPI_Init took")],
                 [], "stdout (but rank 0's note on a slow MPI_Init)", proc)
    expect_equal([line for line in proc.stderr.splitlines() if line.startswith("prs_mpi:")],
                 [f"prs_mpi: error: job.yml:12: task.entry_script: {job.path('src/score.py')} does not exist"],
                 "prs_mpi's one error line", proc)
    expect_equal(processes_tagged(tag), [], "processes left behind", proc)
    expect_equal(sorted(os.listdir(job.dir)), before, "the job folder", proc)
    expect_equal(sorted(os.listdir(job.path("src"))), [], "the code folder", proc)


IDLE_SCRIPT = """
    import os, time

    def prestarted_processes():
        tag = os.environ["PRS_TEST_TAG"].encode()
        found = 0
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read().split(b"\\0")
                with open(f"/proc/{pid}/environ", "rb") as f:
                    mine = b"PRS_TEST_TAG=" + tag in f.read().split(b"\\0")
            except OSError:
                continue
            found += mine and b"--python-process" in cmdline
        return found

    def run(mini_batch):
        for _ in range(3000):  # the idle workers' prestarted processes end before their ranks say ready
            if prestarted_processes() == 1:
                break
            time.sleep(0.01)
        return [f"{os.path.basename(p)} {prestarted_processes()}" for p in mini_batch]
"""


@pytest.mark.parametrize("local_rank", ["known", "hidden"])
def test_idle_workers_end_their_prestarted_processes(make_job, local_rank):
    # Ranks 2 and 3 are idle (max_concurrency_per_instance: 1). With the launcher's local rank they know it before
    # MPI_Init and start no Python at all; without it they start one and end it once node discovery tells them.
    job = make_job("idle", IDLE_SCRIPT, items=2, batch=1, extra="max_concurrency_per_instance: 1\n")
    tag = uuid.uuid4().hex
    if local_rank == "known":
        proc = job.run(np=4, env={"PRS_TEST_TAG": tag})
    else:
        cmd = [MPIEXEC, "--oversubscribe", "-np", "4", "env", "-u", "OMPI_COMM_WORLD_LOCAL_RANK", PRS_MPI, "job.yml"]
        proc = subprocess.run(cmd, cwd=job.dir, capture_output=True, text=True, timeout=300,
                              env=dict(os.environ, PRS_TEST_TAG=tag))
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} 1" for item in job.items], "Python processes of the job", proc)
    expect_equal(processes_tagged(tag), [], "processes left behind", proc)


def test_a_code_folder_s_own_logging_module_still_shadows_the_standard_one(make_job):
    # The runner imports logging after task.code went first on sys.path (for logging_level), so a logging.py there
    # is the one the script gets, as without a prestarted process (which then does not import logging ahead).
    script = """
        import logging, os

        def run(mini_batch):
            return [f"{os.path.basename(p)} {getattr(logging, 'MARK', 'standard')}" for p in mini_batch]
    """
    job = make_job("shadow", script, items=2, batch=1, extra="logging_level: DEBUG\n")
    job.write("src/logging.py", 'MARK = "the-code-folder-s"\n\n\nclass _Root:\n    def setLevel(self, level):\n'
                                '        pass\n\n\ndef getLogger(name=None):\n    return _Root()\n')
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} the-code-folder-s" for item in job.items], "rows", proc)
    expect_equal(len(ADOPTED.findall(sys_log(job, 1))), 1, "adopted", proc)


def prestarted_children(tag):
    """(pid, parent pid) of the prestarted Python processes whose environment holds PRS_TEST_TAG=tag."""
    found = []
    for pid in processes_tagged(tag):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().split(b"\0")
            with open(f"/proc/{pid}/stat") as f:
                parent = int(f.read().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if b"--prestart" in cmdline:
            found.append((int(pid), parent))
    return found


def test_a_worker_rank_killed_at_start_up_leaves_no_python_process(make_job):
    # A worker rank is SIGKILLed as soon as its prestarted process shows (it may be in MPI_Init still, or have
    # adopted it already): the process dies with it (PR_SET_PDEATHSIG), mpirun ends the job, nothing is left.
    job = make_job("killed", "def run(mini_batch):\n    return mini_batch\n")
    tag = uuid.uuid4().hex
    proc = job.start(np=3, env={"PRS_TEST_TAG": tag})
    try:
        victims = []
        for _ in range(20000):  # until the first prestarted process shows (its rank spawned it before MPI_Init)
            victims = prestarted_children(tag)
            if victims or proc.poll() is not None:
                break
        expect(victims, "a prestarted process was seen")
        os.kill(victims[0][1], 9)
        proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, 9)
            proc.wait()
    expect(proc.returncode != 0, f"the job failed (exit {proc.returncode})")
    for _ in range(2000):  # the kernel ends the orphans at once; give it a moment to reap
        if not processes_tagged(tag):
            break
        time.sleep(0.005)
    expect_equal(processes_tagged(tag), [], "processes left behind")
