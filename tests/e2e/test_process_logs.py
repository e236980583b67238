"""The per-process logs (issue 10): every worker's prints, logging, fds 1/2, tracebacks and attempt lines land in
logs/user/... and logs/sys/node/..., not on the console; EntryScript scripts run unchanged; logging_level; GPUs."""
import glob
import os
import re
import stat
import subprocess

from prs_e2e import expect, expect_equal, prs_mpi_command

LOGS = "out/logs"

# Fails every attempt of the mini-batch holding item_004.txt; prints, logs and writes to fds 1 and 2.
NOISY_SCRIPT = """
    import logging, os, sys
    from azureml_user.parallel_run import EntryScript
    logging.basicConfig(level=logging.INFO, format="%(levelname)s:%(name)s:%(message)s")
    log = logging.getLogger("score")

    def init():
        EntryScript().logger.info("init done in %s", EntryScript().agent_name)

    def run(mini_batch):
        print(f"PRINT {os.path.basename(mini_batch[0])}", flush=True)
        log.info("ROOTLOG %s", os.path.basename(mini_batch[0]))
        os.write(1, b"FD1 raw\\n")
        os.write(2, b"FD2 raw\\n")
        EntryScript().logger.warning("ESLOG %d items", len(mini_batch))
        if any(p.endswith("item_004.txt") for p in mini_batch):
            raise ValueError("item 4 is bad")
        return [os.path.basename(p) for p in mini_batch]
"""


def node_dir(job, sub):
    """The one <node> folder under logs/<sub> (the job runs on one host)."""
    nodes = os.listdir(job.path(f"{LOGS}/{sub}"))
    expect_equal(len(nodes), 1, f"node folders under {sub}")
    return nodes[0]


def process_files(job, sub):
    host = node_dir(job, sub)
    folder = job.path(f"{LOGS}/{sub}/{host}")
    return host, {name: open(os.path.join(folder, name), encoding="utf-8").read() for name in sorted(os.listdir(folder))}


def test_a_job_with_failures_writes_every_log_file(make_job):
    job = make_job("noisy", NOISY_SCRIPT, items=9, batch=3, retries=1,
                   extra="mini_batch_error_threshold: 5\n")
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    console = proc.stdout + proc.stderr
    for marker in ("PRINT", "ROOTLOG", "FD1", "FD2", "ESLOG", "init done"):
        expect(marker not in console, f"{marker} stays off the console", proc)

    readme = job.read(f"{LOGS}/readme.txt")
    for name in ("job_result.txt", "job_summary.json", "sys/master_role.txt", "sys/node/<node>/processNNN.txt",
                 "user/error.txt", "user/error/<node>/processNNN.txt", "user/stdout/<node>/processNNN.stdout.txt",
                 "user/stderr/<node>/processNNN.stderr.txt", "user/entry_script_log/<node>/processNNN.log.txt",
                 "MPI rank"):
        expect(name in readme, f"readme.txt explains {name}:\n{readme}")

    expected_names = {"process001.txt", "process002.txt"}
    host, sys_files = process_files(job, "sys/node")
    expect_equal(set(sys_files), expected_names, "sys/node files")
    lines = [line for text in sys_files.values() for line in text.splitlines() if " mini-batch " in line]
    line_re = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d rank (\d) mini-batch (\d) attempt (\d): (ok|failed), "
                         r"items 3 succeeded (\d) failed (\d), \d+\.\d{3} s \(run\(\) \d+\.\d{3} s\)$")
    parsed = sorted((m.group(2), m.group(3), m.group(4), m.group(5), m.group(6))
                    for m in map(line_re.match, lines) if m)
    expect_equal(len(parsed), len(lines), f"every attempt line has the format:\n{lines}")
    expect_equal(parsed, [("0", "1", "ok", "3", "0"), ("1", "1", "failed", "0", "3"), ("1", "2", "failed", "0", "3"),
                          ("2", "1", "ok", "3", "0")], "one line per attempt")
    for name, text in sys_files.items():  # each rank wrote only its own attempts
        rank = str(int(name[len("process"):-len(".txt")]))
        expect(all(line.split(" rank ")[1].startswith(rank + " ") for line in text.splitlines()), name)

    _, errors = process_files(job, "user/error")
    all_errors = "".join(errors.values())
    for attempt in (1, 2):
        expect(re.search(rf"=== .* rank \d \({re.escape(host)}\): mini-batch 1, attempt {attempt} failed\n"
                         r"items \(3\): \S+/item_003.txt \S+/item_004.txt \S+/item_005.txt\n"
                         r"Traceback \(most recent call last\):\n(.*\n)*?ValueError: item 4 is bad\n", all_errors),
               f"attempt {attempt}'s traceback with its id, attempt and items:\n{all_errors}")
    for m in re.finditer(r"mini-batch 1, attempt (\d) failed: ValueError: item 4 is bad \(traceback: (\S+)\)", console):
        with open(m.group(2), encoding="utf-8") as f:
            expect(f"mini-batch 1, attempt {m.group(1)} failed" in f.read(), f"{m.group(2)} holds that attempt")
    expect_equal(len(re.findall(r"failed: ValueError: item 4 is bad \(traceback: .*/user/error/", console)), 2,
                 "one console line per failed attempt, naming its file", proc)
    expect("ValueError: item 4 is bad" in job.read(f"{LOGS}/user/error.txt"), "user/error.txt summarises it")

    _, stdouts = process_files(job, "user/stdout")
    _, stderrs = process_files(job, "user/stderr")
    expect_equal(set(stdouts), {"process001.stdout.txt", "process002.stdout.txt"}, "stdout files")
    expect_equal(set(stderrs), {"process001.stderr.txt", "process002.stderr.txt"}, "stderr files")
    out, err = "".join(stdouts.values()), "".join(stderrs.values())
    expect_equal(sorted(re.findall(r"^PRINT (\S+)$", out, re.M)),
                 ["item_000.txt", "item_003.txt", "item_003.txt", "item_006.txt"], f"prints:\n{out}")
    expect_equal(out.count("FD1 raw\n"), 4, "fd 1 writes in stdout")
    expect_equal(err.count("FD2 raw\n"), 4, "fd 2 writes in stderr")
    expect_equal(len(re.findall(r"^INFO:score:ROOTLOG item_\d+\.txt$", err, re.M)), 4, f"root logging:\n{err}")
    expect("PRINT" not in err and "ROOTLOG" not in out, "each stream in its own file")
    for name, text in sys_files.items():  # a process's prints are those of the mini-batches its rank ran
        ran = sorted(f"item_{3 * int(b):03d}.txt" for b in re.findall(r" mini-batch (\d) attempt", text))
        printed = sorted(re.findall(r"^PRINT (\S+)$", stdouts[name.replace(".txt", ".stdout.txt")], re.M))
        expect_equal(printed, ran, f"{name}'s prints")
        logged = sorted(re.findall(r"^INFO:score:ROOTLOG (\S+)$", stderrs[name.replace(".txt", ".stderr.txt")], re.M))
        expect_equal(logged, ran, f"{name}'s logging")
    for text in list(stdouts.values()) + list(stderrs.values()):
        expect(re.match(r"=== \d{4}-\d\d-\d\d \d\d:\d\d:\d\d pid \d+: Python process started, init\(\)\n", text),
               f"a start line opens each file:\n{text}")

    _, es_logs = process_files(job, "user/entry_script_log")
    expect_equal(set(es_logs), {"process001.log.txt", "process002.log.txt"}, "entry_script_log files")
    for name, text in es_logs.items():
        expect(re.search(r"\|INFO\|\d+\|MainThread\|ParallelRunStep.EntryScript\|init done in "
                         + name[:len("process001")] + "\n", text), f"{name}: the init line in the service's format:\n{text}")
    expect_equal("".join(es_logs.values()).count("|WARNING|"), 4, "one ESLOG line per run() call")


ENTRY_SCRIPT_SCRIPT = """
    import os
    from azureml_user.parallel_run import EntryScript

    def init():
        global entry
        entry = EntryScript()
        entry.logger.info("starting in %s", entry.working_dir)
        with open(os.path.join(entry.log_dir, "own.txt"), "a") as f:
            f.write("written by init\\n")

    def run(mini_batch):
        entry.logger.info("batch of %d", len(mini_batch))
        return [f"{os.path.basename(p)} {entry.output_dir} {entry.working_dir} {entry.agent_name}" for p in mini_batch]
"""


def test_a_script_written_against_entry_script_runs_unchanged(make_job):
    job = make_job("entry", ENTRY_SCRIPT_SCRIPT, items=4, batch=2)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"item_00{i}.txt {job.path('out')} {job.dir} process001" for i in range(4)],
                 "output_dir, working_dir and agent_name", proc)
    host = node_dir(job, "user/entry_script_log")
    folder = f"{LOGS}/user/entry_script_log/{host}"
    expect_equal(job.read(f"{folder}/own.txt"), "written by init\n", "log_dir is the node's entry_script_log folder")
    lines = job.read(f"{folder}/process001.log.txt").splitlines()
    expect_equal([line.split("|", 4)[4] for line in lines],
                 [f"ParallelRunStep.EntryScript|starting in {job.dir}", "ParallelRunStep.EntryScript|batch of 2",
                  "ParallelRunStep.EntryScript|batch of 2"], "the logger's lines")


def test_the_prs_module_names_rank_node_and_the_current_call(make_job):
    script = """
        import os, prs

        def run(mini_batch):
            if prs.mini_batch_id == 1 and prs.attempt == 1:
                raise RuntimeError("first try of batch 1")
            return [f"{os.path.basename(p)} {prs.rank} {prs.local_rank} {prs.node == os.environ['PRS_NODE']} "
                    f"{prs.mini_batch_id} {prs.attempt}" for p in mini_batch]
    """
    job = make_job("prs", script, items=4, batch=2, extra="mini_batch_error_threshold: 5\n")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), ["item_000.txt 1 0 True 0 1", "item_001.txt 1 0 True 0 1",
                                      "item_002.txt 1 0 True 1 2", "item_003.txt 1 0 True 1 2"], "prs's view", proc)


def test_logging_level_applies_to_the_root_logger_entry_script_and_sys_lines(make_job):
    script = """
        import logging, os
        from azureml_user.parallel_run import EntryScript
        logging.getLogger().addHandler(logging.StreamHandler())  # no level of its own: the root logger's applies

        def run(mini_batch):
            for level in ("debug", "info", "warning", "error"):
                getattr(logging.getLogger("score"), level)(f"ROOT {level}")
                getattr(EntryScript().logger, level)(f"ES {level}")
            if any(p.endswith("item_002.txt") for p in mini_batch):
                raise ValueError("bad")
            return mini_batch
    """
    seen = {}
    for level in ("DEBUG", "WARNING", "ERROR"):
        job = make_job(f"level_{level}", script, items=4, batch=2, retries=0,
                       extra=f"logging_level: {level}\nmini_batch_error_threshold: 5\n")
        proc = job.run(np=2)
        expect_equal(proc.returncode, 0, "exit code", proc)
        _, err = process_files(job, "user/stderr")
        _, es = process_files(job, "user/entry_script_log")
        _, sys_lines = process_files(job, "sys/node")
        seen[level] = (re.findall(r"^ROOT (\w+)$", err["process001.stderr.txt"], re.M),
                       re.findall(r"\|ES (\w+)$", es["process001.log.txt"], re.M),
                       re.findall(r"mini-batch (\d) attempt 1: (\w+)", sys_lines["process001.txt"]))
    expect_equal(seen["DEBUG"], (["debug", "info", "warning", "error"] * 2, ["debug", "info", "warning", "error"] * 2,
                                 [("0", "ok"), ("1", "failed")]), "DEBUG")
    expect_equal(seen["WARNING"], (["warning", "error"] * 2, ["warning", "error"] * 2, [("1", "failed")]), "WARNING")
    expect_equal(seen["ERROR"], (["error"] * 2, ["error"] * 2, []), "ERROR")


def test_a_retired_worker_s_init_traceback_is_in_its_error_file(make_job):
    script = """
        import os
        def init():
            if os.environ["PRS_RANK"] == "1":
                raise OSError("no model on this worker")
        def run(mini_batch):
            return mini_batch
    """
    job = make_job("initfail", script, items=4, batch=2)
    proc = job.run(np=3)
    expect_equal(proc.returncode, 0, "exit code", proc)
    host = node_dir(job, "user/error")
    path = job.path(f"{LOGS}/user/error/{host}/process001.txt")
    expect(f"init() failed, worker retired: OSError: no model on this worker (traceback: {path})" in proc.stderr,
           "the console names the file", proc)
    text = job.read(f"{LOGS}/user/error/{host}/process001.txt")
    expect(re.search(r"rank 1 \(.*\): init\(\) failed; the worker is retired\nTraceback .*\n(.*\n)*OSError: no model",
                     text), f"the traceback:\n{text}")
    expect("init() failed; the worker is retired" in job.read(f"{LOGS}/sys/node/{host}/process001.txt"), "sys line")


def test_a_resumed_run_appends_to_the_same_files(make_job):
    script = """
        import os
        def run(mini_batch):
            print("RUN", os.path.basename(mini_batch[0]), flush=True)
            if os.path.exists(os.path.join(os.path.dirname(mini_batch[0]), "..", "fail")) and \\
                    any(p.endswith("item_000.txt") for p in mini_batch):
                raise ValueError("fail flag")
            return mini_batch
    """
    job = make_job("resume", script, items=6, batch=1, retries=0, extra="mini_batch_error_threshold: 0\n")
    job.write("fail", "")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 1, "first run fails on the threshold", proc)
    os.remove(job.path("fail"))
    proc = job.run(np=2, args=["--resume", "--retry-failed"])
    expect_equal(proc.returncode, 0, "the resumed run", proc)
    host = node_dir(job, "user/stdout")
    out = job.read(f"{LOGS}/user/stdout/{host}/process001.stdout.txt")
    expect_equal(len(re.findall(r"^=== .* Python process started, init\(\)$", out, re.M)), 2, f"two starts:\n{out}")
    runs = re.findall(r"^RUN (\S+)$", out, re.M)
    expect_equal((sorted(set(runs)), runs.count("item_000.txt")), ([f"item_00{i}.txt" for i in range(6)], 2),
                 f"both runs' prints in one file:\n{out}")
    for rel in ("user/error.txt", "sys/master_role.txt"):
        expect(re.search(r"^=== .* resumed run \(--resume\), pid \d+$", job.read(f"{LOGS}/{rel}"), re.M),
               f"{rel} marks the resume")
    expect("fail flag" in job.read(f"{LOGS}/user/error/{host}/process001.txt"), "the first run's traceback stays")


def run_with_env(job, np, env):
    return subprocess.run(prs_mpi_command(np, ["job.yml"]), cwd=job.dir, capture_output=True, text=True, timeout=300,
                          env=env)


def test_each_worker_gets_its_own_gpu(make_job, tmp_path):
    script = """
        import os
        def run(mini_batch):
            return [f"{os.environ['PRS_RANK']} {os.environ.get('CUDA_VISIBLE_DEVICES', 'unset')}"]
    """
    fake = tmp_path / "bin"
    fake.mkdir()
    smi = fake / "nvidia-smi"
    smi.write_text("#!/bin/sh\n[ \"$1\" = -L ] || exit 9\n"
                   "echo 'GPU 0: Fake GPU (UUID: GPU-0000)'\necho 'GPU 1: Fake GPU (UUID: GPU-1111)'\n")
    smi.chmod(smi.stat().st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=f"{fake}:{os.environ['PATH']}")
    env.pop("CUDA_VISIBLE_DEVICES", None)
    job = make_job("gpu", script, items=12, batch=1)
    proc = run_with_env(job, 4, env)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(len(job.rows()), 12, "rows", proc)
    expect_equal(set(job.rows()) - {"1 0", "2 1", "3 0"}, set(), "round-robin over nvidia-smi -L's GPUs", proc)

    env["CUDA_VISIBLE_DEVICES"] = "5,7"
    restricted = make_job("gpu_restricted", script, items=12, batch=1)
    proc = run_with_env(restricted, 4, env)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(set(restricted.rows()) - {"1 5", "2 7", "3 5"}, set(), "round-robin over CUDA_VISIBLE_DEVICES", proc)

    env["PATH"] = os.environ["PATH"]
    env.pop("CUDA_VISIBLE_DEVICES")
    plain = make_job("no_gpu", script, items=3, batch=1)
    proc = run_with_env(plain, 2, env)
    expect_equal(proc.returncode, 0, "exit code", proc)
    if not os.path.exists("/proc/driver/nvidia/gpus"):
        expect_equal(plain.rows(), ["1 unset"] * 3, "no GPU: CUDA_VISIBLE_DEVICES left alone", proc)


def test_a_failing_shutdown_is_in_the_worker_s_error_file_not_on_the_console(make_job):
    script = """
        def run(mini_batch):
            return mini_batch
        def shutdown():
            raise RuntimeError("cannot close the model")
    """
    job = make_job("shutdown", script, items=2, batch=2)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect("cannot close the model" not in proc.stdout + proc.stderr, "off the console", proc)
    host = node_dir(job, "user/error")
    text = job.read(f"{LOGS}/user/error/{host}/process001.txt")
    expect(re.search(r"^=== .* rank 1 \(.*\): shutdown\(\) raised:\nTraceback .*\n(.*\n)*RuntimeError: cannot close",
                     text, re.M), f"the traceback:\n{text}")


def test_a_restarted_python_process_appends_to_the_same_files(make_job):
    script = """
        import os, prs
        def run(mini_batch):
            print("RUN", prs.mini_batch_id, prs.attempt, flush=True)
            if prs.mini_batch_id == 0 and prs.attempt == 1:
                os._exit(3)
            return mini_batch
    """
    job = make_job("restart", script, items=4, batch=2, extra="mini_batch_error_threshold: 5\n")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    host = node_dir(job, "user/stdout")
    out = job.read(f"{LOGS}/user/stdout/{host}/process001.stdout.txt")
    expect_equal(re.sub(r"=== .* pid \d+: ", "=== ", out).splitlines(),
                 ["=== Python process started, init()", "RUN 0 1", "=== Python process started, init()",
                  "RUN 1 1", "RUN 0 2"] if out.index("RUN 1 1") < out.index("RUN 0 2") else
                 ["=== Python process started, init()", "RUN 0 1", "=== Python process started, init()",
                  "RUN 0 2", "RUN 1 1"], "both processes' lines, each after its start line")
    sys_text = job.read(f"{LOGS}/sys/node/{host}/process001.txt")
    expect("restarting: its Python process exited with code 3 in mini-batch 0, attempt 1" in sys_text, sys_text)
    expect(re.search(r"mini-batch 0 attempt 1: failed, items 2 succeeded 0 failed 2", sys_text), sys_text)
    errors = job.read(f"{LOGS}/user/error/{host}/process001.txt")
    expect("the entry script's process exited with code 3 in mini-batch 0, attempt 1" in errors, errors)


def test_a_script_s_own_prs_module_wins_over_the_native_one(make_job):
    script = """
        import prs
        def run(mini_batch):
            return [prs.WHO for _ in mini_batch]
    """
    job = make_job("own_prs", script, items=2, batch=2)
    job.write("src/prs.py", "WHO = 'mine'\n")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(job.rows(), ["mine", "mine"], "the script's prs.py", proc)


def test_resource_monitor_writes_one_csv_per_worker_at_its_interval(make_job):
    script = """
        import os, time
        def run(mini_batch):
            time.sleep(0.5)
            return [os.path.basename(p) for p in mini_batch]
    """
    job = make_job("perf", script, items=8, batch=1, arguments="--resource_monitor_interval 1")
    proc = job.run(np=3, timeout=120)
    assert proc.returncode == 0, proc.stderr
    files = sorted(glob.glob(job.path("out/logs/sys/perf/*/process*.csv")))
    assert [os.path.basename(f) for f in files] == ["process001.csv", "process002.csv"], files
    for f in files:
        lines = open(f).read().splitlines()
        assert lines[0] == "time,rank,python_pid,cpu_percent,rss_bytes,load1,mem_available_bytes,disk_free_bytes"
        assert len(lines) >= 2, lines  # the job ran about 2 s: at least one sample after the first second
        rows = [line.split(",") for line in lines[1:]]
        rank = os.path.basename(f)[len("process"):-len(".csv")].lstrip("0")
        assert all(len(r) == 8 and r[1] == rank and int(r[2]) > 0 and int(r[4]) > 0 for r in rows), rows


def test_resource_monitor_is_off_with_0_and_quiet_in_short_jobs(make_job):
    job = make_job("perf_off", "def run(mini_batch):\n    return mini_batch\n", items=2, batch=1,
                   arguments="--resource_monitor_interval 0")
    proc = job.run(np=2)
    assert proc.returncode == 0, proc.stderr
    assert not job.exists("out/logs/sys/perf"), "no file with the monitor off"
