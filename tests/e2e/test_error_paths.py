"""Errors after start-up never hang the job: a full disk under the output makes the writing worker say so and the
master stop in order; a full logs folder (the journal cannot be written) ends every rank at once with one clear
line. Both need a small file system of their own: a tmpfs mounted for the test (root only)."""
import contextlib
import os
import re
import subprocess
import tempfile

import pytest

from prs_e2e import expect, expect_equal

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="mounting a small tmpfs needs root")


@contextlib.contextmanager
def small_filesystem(size):
    where = tempfile.mkdtemp(prefix="prs_small_fs_")
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", where], check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", where], check=False)
        os.rmdir(where)


ROWS_SCRIPT = """
    import os, time
    def run(mini_batch):
        time.sleep(0.02)
        return [os.path.basename(p) + " " + "x" * 2000 for p in mini_batch]
"""


def test_output_on_a_full_disk_stops_the_job_in_order(make_job):
    with small_filesystem("64k") as fs:
        job = make_job("full_output", ROWS_SCRIPT, items=100, batch=2)
        text = job.read("job.yml").replace("path: ./out/predictions.txt", f"path: {fs}/predictions.txt")
        job.write("job.yml", text)
        proc = job.run(np=3, args=["--log-dir", job.path("logs")], timeout=120)
        with open(f"{fs}/predictions.txt") as f:
            complete = len(re.findall(r"^\S+ x{2000}\n", f.read(), re.M))  # rows written whole
    expect_equal(proc.returncode, 1, "exit code", proc)
    reason = re.search(r"^prs_mpi: stopping: (rank \d \(.*\): cannot write \d+ bytes at offset \d+ of the output "
                       + re.escape(fs) + r"/predictions.txt: nothing was written \(is the disk full\?\))$",
                       proc.stderr, re.M)
    expect(reason is not None, "the reason names the rank, the write and the likely cause", proc)
    result = job.read("logs/job_result.txt")
    expect(result.startswith("failed: " + reason.group(1) + "\n"), result, proc)
    summary = job.summary("logs")
    expect_equal(summary["status"], "failed", "the summary", proc)
    # The mini-batch whose write failed (and any other committed to that worker) is not counted as succeeded: only
    # the ones confirmed written are, and each of those has its two rows in the output.
    batches = summary["mini_batches"]
    expect(batches["unconfirmed"] >= 1, f"the failed write's mini-batch is unconfirmed: {batches}", proc)
    expect(2 * batches["succeeded"] <= complete <= 2 * (batches["succeeded"] + batches["unconfirmed"]),
           f"{complete} whole rows for {batches}", proc)
    expect(f"{batches['unconfirmed']} never confirmed written, " in result, result, proc)


def test_journal_on_a_full_disk_ends_every_rank_with_one_line(make_job):
    # Room for the logs' small files (about 20 pages with the workers' own), then the journal fills the rest mid-run.
    with small_filesystem("256k") as fs:
        script = ROWS_SCRIPT.replace("2000", "10").replace("time.sleep(0.02)", "time.sleep(0.001)")
        job = make_job("full_logs", script, items=3000, batch=1)
        proc = job.run(np=3, args=["--log-dir", f"{fs}/logs"], timeout=120)
        result = open(f"{fs}/logs/job_result.txt").read() if os.path.exists(f"{fs}/logs/job_result.txt") else ""
    expect_equal(proc.returncode, 1, "exit code", proc)
    lines = [line for line in proc.stderr.splitlines() if line.startswith("prs_mpi: fatal:")]
    expect_equal(len(lines), 1, "one line", proc)
    full = "No space left on device" in lines[0] or "(is the disk full?)" in lines[0]  # the journal or a log file
    expect(lines[0].startswith("prs_mpi: fatal: rank 0: ") and full and
           lines[0].endswith("; ending every rank (resumable with --resume)"), f"the line: {lines}", proc)
    expect(0 < len(job.rows()) < 3000, f"it failed mid-run, after {len(job.rows())} rows", proc)
    expect(result.startswith("failed: rank 0: ") or result.startswith("running:"),
           f"the report is this run's, not an earlier one's: {result!r}", proc)
