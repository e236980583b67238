#!/usr/bin/python3
"""How long a drain takes: SIGUSR1 sent to mpirun while every worker is inside run(), until mpirun has exited 3.

Each mini-batch sleeps --batch-seconds in run(); a drain lets the running ones finish, so the expected time is about
half a mini-batch plus the job's own shutdown. Also times the --resume that completes the job afterwards.
Usage: benchmarks/drain_time.py [--build DIR] [--workers 3] [--batch-seconds 0.5] [--repeat 3]
"""
import argparse
import os
import shutil
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from smoke_dispatch import ENV, ROOT, make_job  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--workers", type=int, default=3)
    ap.add_argument("--batch-seconds", type=float, default=0.5)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    prs = os.path.join(args.build, "prs_mpi")
    cmd = ["mpiexec", "-np", str(args.workers + 1), prs, "job.yml"]
    for _ in range(args.repeat):
        work = make_job(40 * args.workers, args.batch_seconds)
        proc = subprocess.Popen(cmd, cwd=work, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(3 + args.batch_seconds * 2)
        t0 = time.perf_counter()
        proc.send_signal(signal.SIGUSR1)
        rc = proc.wait()
        drain = time.perf_counter() - t0
        t1 = time.perf_counter()
        rc2 = subprocess.run(cmd + ["--resume"], cwd=work, env=ENV, capture_output=True).returncode
        resume = time.perf_counter() - t1
        print(f"drain: {drain:.2f} s (exit {rc}); resume to the end: {resume:.2f} s (exit {rc2}); "
              f"mini-batches of {args.batch_seconds} s, {args.workers} workers")
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
