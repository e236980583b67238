"""The rows region: a mini-batch's rows reach the worker rank through a slot of a memfd shared with its Python process
(src/worker/row_region.cpp), or through the pipe when they do not fit a slot or no slot is free. Either way the
output holds every row once, also when the Python process is killed, replaced after a timeout or handed many
mini-batches ahead; the worker's sys log (at DEBUG) says how many mini-batches' rows took each way."""
import glob
import os
import re

from prs_e2e import expect, expect_equal

SLOT_BYTES = 4 << 20  # kRowSlotBytes (include/prs/worker/row_region.hpp)
DEBUG = "logging_level: DEBUG\n"  # the hand-over line is a DEBUG line of the sys log


def handover_counts(job, proc):
    """(region, pipe) from each worker's sys log line "rows of N mini-batches came through the shared rows region,
    of M through the pipe", summed over the workers."""
    region = pipe = 0
    logs = glob.glob(job.path("out/logs/sys/node/*/process*.txt"))
    lines = []
    for path in logs:
        with open(path) as f:
            lines += re.findall(r"rows of (\d+) mini-batches came through the shared rows region, of (\d+) through "
                                r"the pipe", f.read())
    expect(len(lines) > 0, f"a hand-over line in the sys logs {logs}", proc)
    for r, p in lines:
        region += int(r)
        pipe += int(p)
    return region, pipe


def killed_once_at(item):
    """An entry script whose process kills itself (SIGKILL) at item, the first time only; rows "<item> row"."""
    return f"""
        import os
        def run(mini_batch):
            for p in mini_batch:
                if p.endswith("{item}") and not os.path.exists(p + ".seen"):
                    open(p + ".seen", "w").close()
                    os.kill(os.getpid(), 9)
            return [os.path.basename(p) + " row" for p in mini_batch]
    """


def test_rows_bigger_than_a_slot_take_the_pipe_among_small_ones_in_slots(make_job):
    # Odd items return 5 MB of rows (more than a slot), even ones a few rows; one worker, so the counts are exact.
    script = f"""
        import os
        def run(mini_batch):
            out = []
            for p in mini_batch:
                name = os.path.basename(p)
                i = int(name[5:8])
                if i % 2:
                    out += [f"{{name}} big {{j}} " + "x" * 99_980 for j in range(50)]
                else:
                    out += [f"{{name}} small {{j}}" for j in range(3)]
            return out
    """
    job = make_job("big_and_small", script, items=6, batch=1, extra=DEBUG)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    want = []
    for i, item in enumerate(job.items):
        if i % 2:
            want += [f"{item} big {j} " + "x" * 99_980 for j in range(50)]
        else:
            want += [f"{item} small {j}" for j in range(3)]
    rows = job.rows()
    expect(len("\n".join(r for r in rows if r.startswith("item_001.txt big")) + "\n") > SLOT_BYTES,
           "a big mini-batch's rows are more than a slot", proc)
    expect_equal(sorted(rows), sorted(want), "every row exactly once", proc)
    expect_equal(handover_counts(job, proc), (3, 3), "small rows through slots, big ones through the pipe", proc)
    blocks = job.read("out/predictions.txt").split("\n")
    for item in job.items:  # each mini-batch's rows together, in run()'s order
        got = [r for r in blocks if r.startswith(item)]
        expect_equal(got, [r for r in want if r.startswith(item)], f"the rows of {item} in order", proc)


def test_the_sums_of_slot_and_pipe_rows_match_the_file_and_resume_redoes_a_changed_one_of_each(make_job):
    # The rank sums (CRC-32C, for the journal) what it writes, from the slot's mapping or from the pipe's bytes.
    # --resume reads every committed range back against its sum: an untouched output has none lost; a byte changed
    # in a slot mini-batch and one in a pipe mini-batch lose exactly those two (so the four others matched their
    # sums), which run again.
    script = """
        import os
        def run(mini_batch):
            name = os.path.basename(mini_batch[0])
            if int(name[5:8]) % 2:
                return [f"{name} big {j} " + "x" * 99_980 for j in range(50)]
            return [f"{name} small {j}" for j in range(3)]
    """
    job = make_job("sums", script, items=6, batch=1, extra=DEBUG)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(handover_counts(job, proc), (3, 3), "small rows through slots, big ones through the pipe", proc)
    output = job.path("out/predictions.txt")
    first = job.read("out/predictions.txt")
    again = job.run(np=2, args=["--resume"])
    expect_equal(again.returncode, 0, "exit code of the resume", again)
    expect("nothing to resume: every mini-batch of this job already ended" in again.stdout, "nothing to do", again)
    expect("lost the rows" not in again.stdout, "no range lost", again)
    with open(output, "r+b") as f:  # one byte of item_002's small rows (a slot) and one of item_003's (the pipe)
        for marker in (b"item_002.txt small 1", b"item_003.txt big 7 "):
            at = first.encode().index(marker) + len(marker) - 1
            f.seek(at)
            f.write(b"#")
    redo = job.run(np=2, args=["--resume"])
    expect_equal(redo.returncode, 0, "exit code of the second resume", redo)
    expect("prs_mpi: the output lost the rows of 2 committed mini-batches (missing or changed since they were "
           "written); they run again" in redo.stdout.splitlines(), "exactly the two changed ones", redo)
    expect_equal(sorted(job.rows()), sorted(first.split("\n")[:-1]), "every row once, as the first run wrote it",
                 redo)


def test_a_python_process_killed_in_run_loses_no_held_rows(make_job):
    # Short run()s (handed ahead, rows held waiting for commit) and a SIGKILL of the process in one of them, once.
    script = killed_once_at("item_013.txt")
    job = make_job("killed", script, items=40, batch=1, retries=1, extra=DEBUG)
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} row" for item in job.items], "every row exactly once", proc)
    s = job.summary()
    expect_equal(s["workers"]["python_restarts"], 1, "one fresh Python process", proc)
    expect_equal(s["attempts"]["retried"], 1, "the killed attempt was retried", proc)
    region, pipe = handover_counts(job, proc)
    expect_equal(region + pipe, 40, "each successful mini-batch's rows handed over once", proc)
    expect(region > 0, f"the region was used (region {region}, pipe {pipe})", proc)


def test_a_process_killed_past_its_timeout_loses_no_held_rows(make_job):
    # The first attempt at item 3 sleeps in C with SIGALRM blocked: killed at timeout + grace, a fresh process runs
    # the retry; the rows the killed process handed over before stay held and are written once.
    script = """
        import ctypes, os, signal
        def run(mini_batch):
            for p in mini_batch:
                if p.endswith("item_003.txt") and not os.path.exists(p + ".seen"):
                    open(p + ".seen", "w").close()
                    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
                    ctypes.CDLL(None).sleep(60)
            return [os.path.basename(p) + f" row {j}" for p in mini_batch for j in range(2)]
    """
    job = make_job("stuck", script, items=8, batch=1, retries=1, timeout=1, extra=DEBUG)
    proc = job.run(np=2, timeout=120)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), sorted(f"{item} row {j}" for item in job.items for j in range(2)),
                 "every row exactly once", proc)
    s = job.summary()
    expect_equal(s["attempts"]["timed_out"], 1, "the stuck attempt", proc)
    expect_equal(s["workers"]["python_restarts"], 1, "one fresh Python process", proc)
    expect_equal(handover_counts(job, proc), (8, 0), "every mini-batch's rows through a slot", proc)


def test_many_small_mini_batches_held_ahead_of_commit_fill_the_slots_and_use_the_pipe(make_job):
    # More mini-batches than slots, run() instant: the Python process is handed up to 8 at once and the rank holds
    # rows waiting for commit; a slot is reused once freed, and rows that find none free take the pipe.
    script = """
        import os
        def run(mini_batch):
            return [os.path.basename(p) + f" {j}" for p in mini_batch for j in range(3)]
    """
    job = make_job("deep", script, items=400, batch=1, extra=DEBUG)
    proc = job.run(np=3, timeout=200)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), sorted(f"{item} {j}" for item in job.items for j in range(3)),
                 "every row exactly once", proc)
    region, pipe = handover_counts(job, proc)
    expect_equal(region + pipe, 400, "each mini-batch's rows handed over once", proc)
    expect(region > 16, f"slots were reused (region {region}, pipe {pipe})", proc)


def test_an_outcome_naming_a_slot_that_does_not_exist_ends_the_job_clearly(make_job):
    # The script forges a slot_outcome frame on the link (fd 4): slot 99 of a region of 8. The rank must not read
    # outside its mapping: the job ends with one clear fatal line naming the Python process, and no row is written.
    script = """
        import os, struct, time
        def run(mini_batch):
            fields = (struct.pack("<QBBQQd", 1, 1, 0, 1, 1, 0.0) + struct.pack("<Q", 0) + struct.pack("<Q", 0)
                      + struct.pack("<Q", 0))
            body = struct.pack("<IQ", 99, 10) + fields + struct.pack("<Q", len(fields))
            os.write(4, struct.pack("<QB", len(body), 10) + body)
            time.sleep(30)
            return mini_batch
    """
    job = make_job("forged", script, items=1, batch=1)
    proc = job.run(np=2, timeout=60)
    expect_equal(proc.returncode, 1, "exit code", proc)
    expect(re.search(r"prs_mpi: fatal: rank 1: worker: its Python process \(pid \d+\) says its rows are in slot 99, "
                     r"10 bytes: there is no such slot \(the region has 8\)", proc.stderr), "the fatal line", proc)
    expect(not job.exists("out/predictions.txt") or job.read("out/predictions.txt") == "", "no row written", proc)


def test_a_prestarted_process_gets_the_region_it_was_started_with(make_job):
    # PRS_PRESTART=on: the process is started before MPI_Init with the region on fd 5, adopted, and its rows come
    # through slots; killed once, its fresh replacement gets the same region.
    script = killed_once_at("item_004.txt")
    job = make_job("prestarted", script, items=6, batch=1, retries=1, extra=DEBUG)
    proc = job.run(np=2, env={"PRS_PRESTART": "on"})
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} row" for item in job.items], "every row exactly once", proc)
    logs = "".join(open(p).read() for p in glob.glob(job.path("out/logs/sys/node/*/process*.txt")))
    expect("rank 1: adopted the Python process started before MPI_Init" in logs, "the prestarted process was adopted",
           proc)
    expect_equal(job.summary()["workers"]["python_restarts"], 1, "one fresh Python process", proc)
    expect_equal(handover_counts(job, proc), (6, 0), "6 mini-batches, never more than 8 slots held", proc)


def test_rows_region_off_sends_every_mini_batch_by_the_pipe(make_job):
    script = """
        import os
        def run(mini_batch):
            return [os.path.basename(p) + " row" for p in mini_batch]
    """
    job = make_job("region_off", script, items=5, batch=1, extra=DEBUG)
    proc = job.run(np=2, env={"PRS_ROWS_REGION": "off"})
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} row" for item in job.items], "every row exactly once", proc)
    expect_equal(handover_counts(job, proc), (0, 5), "no region: every mini-batch's rows by the pipe", proc)
