"""Watching a job (issue 10): `prs_mpi status` on a running, finished, failed, killed and drained job; the console
progress (plain lines in a file or pipe, a bar redrawn in place in a real terminal under tmux); the overview file;
--trace in the Chrome trace format with one span per executed attempt; the richer job_summary.json.

Jobs that must be caught running wait in run() for a file the test creates (no sleeps decide an outcome); polls
have generous deadlines and no timing is asserted.
"""
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import time

import pytest

from prs_e2e import PRS_MPI, SOURCE_DIR, expect, expect_equal, prs_mpi_command

# Items 0 and 1 end at once; every other item waits until the file "go" exists in the job folder.
GATED = """\
import os, time
def init():
    pass
def run(mini_batch):
    for path in mini_batch:
        if not path.endswith(("item_000.txt", "item_001.txt")):
            while not os.path.exists("go"):
                time.sleep(0.02)
        if path.endswith("item_006.txt") and os.path.exists("fail6"):
            os.remove("fail6")  # its first attempt only
            raise ValueError("item 6 is bad")
    return [os.path.basename(p) for p in mini_batch]
"""

ONE_BAD = """\
import os
def init():
    pass
def run(mini_batch):
    if any(p.endswith("item_001.txt") for p in mini_batch):
        raise ValueError("item 1 is bad")
    return [os.path.basename(p) for p in mini_batch]
"""


def status(job, target="job.yml", args=()):
    return subprocess.run([PRS_MPI, "status", target, *args], cwd=job.dir, capture_output=True, text=True, timeout=60)


def poll(what, check, deadline=120):
    """Calls check() until it returns something true; fails after deadline seconds, showing the last value."""
    __tracebackhide__ = True
    last = None
    end = time.monotonic() + deadline
    while time.monotonic() < end:
        last = check()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError(f"{what}: not seen in {deadline} s; last: {last!r}")


def status_shows(job, *lines):
    """A check for poll(): the status output when it holds every line given, else None."""
    def check():
        out = status(job).stdout
        return out if all(line in out.splitlines() for line in lines) else None
    return check


TWO_DONE = re.compile(r"^mini-batches: 8 in all, 2 done \(2 succeeded, 0 failed\), (\d) in flight, (\d) left$", re.M)


def two_done(job, *lines):
    """A check for poll(): the status once items 0 and 1 ended (the others wait for go), holding every line given.
    Each of the 2 workers holds at least 2 tasks (the running one and the next), more once its quick run() times
    deepen its prefetch: 4 to 6 in flight, the rest of the 6 left."""
    def check():
        out = status_shows(job, "state: running", *lines)()
        m = TWO_DONE.search(out or "")
        return out if m and int(m[1]) >= 4 and int(m[1]) + int(m[2]) == 6 else None
    return check


def wait(proc, timeout=120):
    out, err = proc.communicate(timeout=timeout)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def lock(job):
    return job.path("out/logs/job.lock")


def test_status_of_a_running_job_then_of_the_finished_one(make_job):
    job = make_job("running", GATED, items=8, batch=1)
    proc = job.start(np=3)
    try:
        out = poll("status of the running job",
                   two_done(job, f"--resume: refused while this job runs (it holds {lock(job)})"))
        lines = out.splitlines()
        expect_equal(lines[0], f"logs: {job.path('out/logs')}", "the logs folder", proc)
        expect(lines[2].startswith("job_result.txt: running: started "), f"the verdict line: {out}")
        expect(re.search(r"^rate: [0-9.]+ mini-batches/s; estimated remaining time \d+:\d\d:\d\d \(as of \d+ s ago\)$",
                         out, re.M), f"rate and ETA: {out}")
        running = re.findall(r"^  mini-batch (\d), attempt 1, on rank ([12]) \(.+\): running for [0-9.]+ s$", out, re.M)
        expect_equal(sorted(r for _, r in running), ["1", "2"], f"one running mini-batch per worker in {out}")
        expect(all(int(b) >= 2 for b, _ in running), f"the running ones wait for go: {out}")
        expect_equal(status(job, "out/logs").stdout, status(job).stdout, "the logs folder or the job file: same")
    finally:
        job.write("go", "")
    done = wait(proc)
    expect_equal(done.returncode, 0, "the job was not disturbed by status", done)
    expect_equal(sorted(job.rows()), [f"item_{i:03d}.txt" for i in range(8)], "every row once", done)
    out = status(job)
    expect_equal(out.returncode, 0, "status exit code", out)
    expect_equal(out.stdout, f"logs: {job.path('out/logs')}\n"
                             "state: succeeded\n"
                             "mini-batches: 8 in all, 8 done (8 succeeded, 0 failed), 0 in flight, 0 left\n"
                             "--resume: nothing to do: every mini-batch already ended\n", "status after the end", out)


def test_status_of_a_failed_job(make_job):
    job = make_job("failed", ONE_BAD, items=2, batch=1, retries=0, extra="mini_batch_error_threshold: 0\n")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 1, "the threshold fails the job", proc)
    out = status(job)
    verdict = job.read("out/logs/job_result.txt").splitlines()[0]
    expect(verdict.startswith("failed: "), "a failed verdict", proc)
    expect_equal(out.stdout, f"logs: {job.path('out/logs')}\n"
                             "state: failed\n"
                             f"job_result.txt: {verdict}\n"
                             "mini-batches: 2 in all, 2 done (1 succeeded, 1 failed), 0 in flight, 0 left\n"
                             "--resume: nothing to do: every mini-batch already ended (--resume --retry-failed runs "
                             "the 1 failed mini-batch again)\n", "status of a failed job", out)


def test_status_of_a_killed_job_and_of_a_drained_one(make_job):
    job = make_job("killed", GATED, items=8, batch=1)
    proc = job.start(np=3)
    poll("two mini-batches done", two_done(job))
    os.killpg(proc.pid, signal.SIGKILL)
    wait(proc)
    poll("the lock released", lambda: "state: interrupted" in status(job).stdout.splitlines()[1])
    out = status(job)
    expect_equal(out.stdout.splitlines()[1], "state: interrupted (killed: it ended without a verdict)", "killed", out)
    expect_equal(out.stdout.splitlines()[3:], [
        "mini-batches: 8 in all, 2 done (2 succeeded, 0 failed), 0 in flight, 6 left",
        "--resume: would skip the 2 mini-batches that ended (0 failed; --retry-failed runs those again) and run the "
        "other 6"], "a killed job's counts and what --resume does", out)

    proc = job.start(np=3, args=["--resume"])  # again, and this time drained with SIGUSR1 (Slurm's notice)
    poll("the resumed job running", status_shows(job, "state: running"))
    proc.send_signal(signal.SIGUSR1)
    poll("the drain", lambda: "stopping: interrupted by SIGUSR1" in job.read("out/logs/sys/master_role.txt"))
    job.write("go", "")
    done = wait(proc)
    expect_equal(done.returncode, 3, "a drain exits 3", done)
    out = status(job).stdout.splitlines()
    expect_equal(out[1:3], ["state: interrupted",
                            "job_result.txt: interrupted: interrupted by SIGUSR1; resumable with --resume"],
                 "a drained job", done)
    s = job.summary()
    ended = s["mini_batches"]["succeeded"] + s["mini_batches"]["failed"]
    expect_equal(out[3], f"mini-batches: 8 in all, {ended} done ({s['mini_batches']['succeeded']} succeeded, 0 failed),"
                         f" 0 in flight, {8 - ended} left", "the journal's counts are the summary's", done)
    expect(ended < 8, "the drain left work", done)
    expect_equal(out[4], f"--resume: would skip the {ended} mini-batches that ended (0 failed; --retry-failed runs "
                         f"those again) and run the other {8 - ended}", "what --resume does", done)
    done = job.run(np=3, args=["--resume"])
    expect_equal(done.returncode, 0, "resumed to the end", done)
    expect_equal(sorted(job.rows()), [f"item_{i:03d}.txt" for i in range(8)], "every row once", done)


def test_status_usage_errors(make_job):
    job = make_job("usage", ONE_BAD, items=2)
    out = status(job)
    expect_equal((out.returncode, out.stderr),
                 (2, f"prs_mpi: error: job.yml: no job has run here yet (no journal at {job.path('out/logs')}"
                     "/journal.bin)\n"), "no job yet", out)
    out = status(job, args=["--resume"])
    expect_equal((out.returncode, out.stderr),
                 (2, "prs_mpi: error: status: only --set, --job and --log-dir apply (it reads the logs of JOB.yml or "
                     "of LOGS_DIR)\n"), "run options refused", out)
    out = job.run(np=0, args=["--progress", "fancy"])
    expect_equal((out.returncode, out.stderr),
                 (2, "prs_mpi: error: --progress: expected auto, bar, lines or none, got fancy\n"), "bad mode", out)
    out = job.run(np=0, args=["--progress-every", "0"])
    expect_equal(out.returncode, 2, "bad interval", out)
    expect_equal(out.stderr.splitlines(), ["prs_mpi: error: --progress-every: must be a whole number of seconds in "
                                           "[1, 2147483647], got 0"], "bad interval", out)


OVERVIEW = re.compile(r"Processed 4 of 4 mini batches in \d+:\d\d:\d\d\. Estimated remaining time \d+:\d\d:\d\d\.\n"
                      r"Failed mini batches: 1\. Retried attempts: 1\. Running attempts: 0\.\n\Z")


def test_plain_progress_lines_in_a_file_and_the_overview(make_job, tmp_path):
    job = make_job("lines", ONE_BAD, items=4, batch=1, retries=1)
    log = tmp_path / "slurm-1.out"
    with open(log, "w") as out:  # as sbatch runs it: stdout is a file
        code = subprocess.run(prs_mpi_command(3, ["job.yml", "--progress-every", "1"]), cwd=job.dir, stdout=out,
                              stderr=subprocess.PIPE, text=True, timeout=120).returncode
    text = log.read_text()
    expect_equal(code, 0, f"the job: {text}")
    expect("\r" not in text and "\033" not in text, f"no bar codes in a file: {text!r}")
    expect("console progress: lines\n" in job.read("out/logs/sys/master_role.txt"), "auto chose lines for a file")
    final = re.findall(r"^prs_mpi: processed 4 of 4 mini-batches \(1 failed, 1 retried\) in \d+:\d\d:\d\d; "
                       r"[0-9.]+/s, 0:00:00 left$", text, re.M)
    expect_equal(len(final), 1, f"one final progress line in {text}")
    lines = [line for line in text.splitlines() if line.startswith("prs_mpi: processed")]
    expect_equal(lines[-1], final[0], f"the final line is the last progress line: {text}")
    overview = glob.glob(job.path("out/logs/job_progress_overview.*.txt"))
    expect_equal(len(overview), 1, "one overview file")
    expect(re.fullmatch(r".*/job_progress_overview\.\d{14}\.txt", overview[0]), overview[0])
    expect(OVERVIEW.match(open(overview[0]).read()), open(overview[0]).read())

    proc = job.run(np=3, args=["--overwrite", "--progress", "none"])
    expect_equal(proc.returncode, 0, "the job", proc)
    expect_equal([l for l in proc.stdout.splitlines() if "processed" in l], [], "--progress none: no line", proc)
    expect_equal(len(glob.glob(job.path("out/logs/job_progress_overview.*.txt"))) >= 1, True, "the file still")


def test_trace_has_one_complete_span_per_executed_attempt(make_job, tmp_path):
    job = make_job("trace", ONE_BAD, items=6, batch=1, retries=2)
    trace = tmp_path / "trace.json"
    proc = job.run(np=3, args=["--trace", str(trace)])
    expect_equal(proc.returncode, 0, "the job", proc)
    expect(f"prs_mpi: trace: {trace}" in proc.stdout.splitlines(), "the trace is named", proc)
    events = json.loads(trace.read_text())["traceEvents"]
    spans = [e for e in events if e["ph"] == "X"]
    expect(all(set(e) >= {"name", "cat", "ts", "dur", "pid", "tid"} and e["dur"] >= 0 for e in spans), "complete spans")
    attempts = [e for e in spans if e["cat"] in ("run", "failed")]
    s = job.summary()
    expect_equal(len(attempts), s["attempts"]["run_calls"], "one span per executed attempt", proc)
    keys = sorted((e["args"]["mini_batch"], e["args"]["attempt"]) for e in attempts)
    expect_equal(keys, sorted([(b, 1) for b in range(6)] + [(1, 2), (1, 3)]), "each attempt once", proc)
    expect_equal(sorted(e["args"]["status"] for e in attempts if e["args"]["mini_batch"] == 1), ["failed"] * 3,
                 "batch 1's attempts failed", proc)
    names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    rank = {tid: int(re.match(r"(?:rank (\d+) \(.+\)|master \(rank (0)\))$", n).group(1) or 0)
            for tid, n in names.items()}
    expect_equal(sorted(rank.values()), [0, 1, 2], f"a named track per rank: {names}")
    expect(all(rank[e["tid"]] in (1, 2) for e in attempts), "attempts on the workers' tracks", proc)
    expect_equal(sorted(rank[e["tid"]] for e in spans if e["cat"] == "init"), [1, 2], "an init() per worker", proc)
    expect_equal(sorted(rank[e["tid"]] for e in spans if e["cat"] == "shutdown"), [1, 2], "a shutdown per worker")
    expect_equal([e["name"] for e in spans if rank[e["tid"]] == 0 and e["cat"] == "master"],
                 ["start-up (workers in init())", "dispatch", "end of the workers (shutdown())"], "master phases")
    startup = [e for e in spans if e["cat"] == "startup"]
    expect_equal([e["name"] for e in startup], ["MPI_Init", "node discovery", "job file, output checks, job lock",
                                                "listing", "partition and fingerprint", "journal and logs"],
                 "rank 0's start-up phases, in order", proc)
    expect(all(rank[e["tid"]] == 0 for e in startup), "on the master's track")
    ends = [e["ts"] + e["dur"] for e in startup]  # microseconds, each rounded: 1 us of slack
    expect(all(end <= b["ts"] + 1 for end, b in zip(ends, startup[1:])), "one after the other", proc)
    first_master = min(e["ts"] for e in spans if e["cat"] == "master")
    expect(ends[-1] <= first_master + 1, "before the master loop", proc)
    origin = json.loads(trace.read_text())["otherData"]["origin_unix_seconds"]
    expect(abs(origin - time.time()) < 3600, f"the trace's origin is a Unix time: {origin}")
    expect_equal({e["pid"] for e in events}, {1}, "one process")
    expect_equal([e["args"]["name"] for e in events if e["name"] == "process_name"], ["prs_mpi job.yml"], "its name")

    png = tmp_path / "job.png"  # scripts/plot_job.py turns the trace and the summary into a timeline
    plot = subprocess.run(["/usr/bin/python3", os.path.join(SOURCE_DIR, "scripts/plot_job.py"), str(trace),
                           job.path("out/logs/job_summary.json"), "-o", str(png)], capture_output=True, text=True,
                          timeout=120)
    expect_equal((plot.returncode, plot.stdout), (0, f"plot_job.py: wrote {png}\n"), "the plot", plot)
    expect_equal(png.read_bytes()[:8], b"\x89PNG\r\n\x1a\n", "a PNG")


def test_summary_has_per_worker_and_per_node_stats_and_the_settings(make_job):
    job = make_job("summary", ONE_BAD, items=6, batch=1, retries=1, extra="compute: azureml:cpu\n")
    proc = job.run(np=3, args=["--set", "mini_batch_size=2"])
    expect_equal(proc.returncode, 0, "the job", proc)
    s = job.summary()
    workers = s["per_worker"]
    expect_equal([w["rank"] for w in workers], [1, 2], "one entry per worker", proc)
    expect_equal(sum(w["attempts"] for w in workers), s["attempts"]["run_calls"], "attempts add up", proc)
    expect_equal(sum(w["failed"] for w in workers), 2, "batch 0 (items 0, 1) failed twice", proc)
    expect_equal(sum(w["items_succeeded"] for w in workers), s["items"]["succeeded"], "items add up", proc)
    expect_equal(len(s["per_node"]), 1, "one node", proc)
    expect_equal(s["per_node"][0]["workers"], 2, "both workers on it", proc)
    expect_equal(s["timings"]["run"]["count"], s["attempts"]["run_calls"], "a run time per attempt", proc)
    expect_equal(s["timings"]["init"]["count"], 2, "an init time per worker", proc)
    t = s["timings"]["run"]
    expect(t["p50"] <= t["p95"] <= t["max"], f"ordered quantiles {t}")
    expect_equal(set(s["throughput"]), {"attempts_per_second", "items_per_second"}, "throughput keys")
    settings = {x["key"]: (x["value"], x["origin"]) for x in s["settings"]}
    expect_equal(settings["mini_batch_size"], ("2", "--set"), "the resolved setting and its origin", proc)
    expect_equal(s["ignored_keys"], ["compute (job.yml:9)"], "the ignored key", proc)


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_progress_bar_in_a_terminal_redraws_one_line_and_ends_with_the_summary(make_job, tmp_path):
    job = make_job("bar", GATED, items=8, batch=1)
    job.write("fail6", "")  # one failed attempt: its line goes above the bar, not into it
    socket = f"prs_test_{os.getpid()}"
    tmux = ["tmux", "-L", socket]
    env = " ".join(f"{k}={os.environ[k]}" for k in os.environ if k.startswith("OMPI_"))
    command = " ".join(prs_mpi_command(3, ["job.yml"]))
    shell = f"cd {job.dir} && env {env} TERM=xterm {command}; echo EXIT=$? > {tmp_path}/exit; sleep 600"
    subprocess.run([*tmux, "new-session", "-d", "-s", "bar", "-x", "160", "-y", "50", shell], check=True)
    try:
        def screen():
            return subprocess.run([*tmux, "capture-pane", "-p", "-t", "bar"], capture_output=True, text=True).stdout
        poll("the bar", lambda: re.search(r"^\[[#.]+\]  2/8  25%", screen(), re.M))
        job.write("go", "")
        poll("the end", lambda: os.path.exists(tmp_path / "exit"))
        expect_equal(open(tmp_path / "exit").read(), "EXIT=0\n", "the job's exit code")
        lines = [line.rstrip() for line in screen().splitlines() if line.strip()]
        bars = [i for i, line in enumerate(lines) if line.startswith("[")]
        expect_equal(len(bars), 1, f"one bar line, redrawn in place: {lines}")
        bar = lines[bars[0]]
        expect(re.match(r"^\[#{40}\]  8/8  100%  [0-9.]+/s  ETA 0:00:00  1 retried$", bar), f"the final bar: {bar}")
        expect_equal(lines[bars[0] + 1], "prs_mpi: succeeded", f"the summary follows the bar: {lines}")
        failed = [line for line in lines if "attempt 1 failed: ValueError: item 6 is bad" in line]
        expect_equal(len(failed), 1, f"the failure on a line of its own: {lines}")
        expect(failed[0].startswith("prs_mpi: rank "), f"not glued to the bar: {failed[0]}")
        expect("processed" not in "\n".join(lines), f"no plain lines with a bar: {lines}")
        expect("console progress: bar\n" in job.read("out/logs/sys/master_role.txt"), "auto chose the bar")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
