#!/usr/bin/python3
"""What --resume's check of the output costs: every committed range read back and its CRC-32C compared with the
journal's, before anything else runs.

Writes a job of --batches mini-batches of 1 MiB each (one of them fails, so that the job has something to resume),
then resumes it with --retry-failed --repeat times with the file in the page cache (warm) and evicted from it
(cold, posix_fadvise DONTNEED after a sync), restoring the journal in between. The time is the check's own, as
sys/master_role.txt records it ("resume: checked N bytes ... in S s").
Usage: benchmarks/resume_check.py [--build DIR] [--batches 1024] [--repeat 3]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smoke_dispatch import ENV, JOB, ROOT  # noqa: E402

SCRIPT = """\
import os
def run(mini_batch):
    if mini_batch[0].endswith("fail") and not os.environ.get("PRS_BENCH_FIX"):
        raise ValueError("fails until PRS_BENCH_FIX is set")
    return ["x" * (1024 * 1024 - 1)]  # one row of 1 MiB with its newline
"""
CHECKED = re.compile(r"^resume: checked (\d+) bytes of committed rows against their checksums in ([\d.]+) s; "
                     r"(\d+) mini-batches lost$", re.M)


def make_job(batches):
    work = tempfile.mkdtemp(prefix="prs_bench_resume_")
    os.makedirs(os.path.join(work, "data"))
    for i in range(batches - 1):
        open(os.path.join(work, "data", f"{i:07d}"), "w").close()
    open(os.path.join(work, "data", "zfail"), "w").close()
    with open(os.path.join(work, "job.yml"), "w") as f:
        f.write(JOB.format())
    with open(os.path.join(work, "score.py"), "w") as f:
        f.write(SCRIPT)
    return work


def evict(path):
    os.sync()
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--batches", type=int, default=1024)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cmd = ["mpiexec", "-np", "3", os.path.join(args.build, "prs_mpi"), "job.yml"]
    work = make_job(args.batches)
    try:
        subprocess.run(cmd, cwd=work, env=ENV, capture_output=True)  # exit 1 or 0: one mini-batch failed
        output, journal = (os.path.join(work, "out", p) for p in ("rows.txt", "logs/journal.bin"))
        shutil.copy(journal, journal + ".bench")
        for mode in ("warm", "cold"):
            for _ in range(args.repeat):
                shutil.copy(journal + ".bench", journal)
                if mode == "cold":
                    evict(output)
                proc = subprocess.run(cmd + ["--resume", "--retry-failed"], cwd=work, capture_output=True, text=True,
                                      env=dict(ENV, PRS_BENCH_FIX="1"))
                with open(os.path.join(work, "out", "logs", "sys", "master_role.txt")) as f:
                    size, seconds, lost = CHECKED.findall(f.read())[-1]
                gb = int(size) / 1e9
                print(f"{mode}: checked {gb:.3f} GB in {float(seconds):.3f} s = {float(seconds) / gb:.3f} s/GB "
                      f"({lost} lost; resume exit {proc.returncode})", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
