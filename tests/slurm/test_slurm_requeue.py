"""slurm/prs_mpi.sbatch under a real local Slurm (slurmctld + slurmd + munge on this machine, started by
start-local-slurm.sh): prs_mpi sees the time limit coming, drains and exits 3, the script requeues itself, the next
run resumes, and the output ends with every row exactly once. Needs root (it starts the daemons); skipped otherwise."""
import os
import subprocess

import pytest

from local_slurm import local_slurm, wait_until_done  # noqa: F401 (a fixture)
from prs_e2e import PRS_MPI, SOURCE_DIR, expect, expect_equal  # tests/conftest.py puts tests/e2e on sys.path

HERE = os.path.dirname(os.path.abspath(__file__))
pytestmark = [pytest.mark.slurm, pytest.mark.skipif(os.geteuid() != 0, reason="starting a local Slurm needs root")]

SCRIPT = """
    import os, time
    def run(mini_batch):
        time.sleep(0.5)
        return [os.path.basename(p) for p in mini_batch]
"""


def test_time_limit_drain_requeue_and_resume(local_slurm, make_job):
    job = make_job("slurm", SCRIPT, items=180, batch=1, timeout=10)
    os.chmod(job.dir, 0o755)
    # --signal=B:USR1@5 overrides the script's 120 s, so that prs_mpi's own look at the time limit drains first.
    sbatch = ["sbatch", "--parsable", "--ntasks=4", "--time=1", "--signal=B:USR1@5", f"--chdir={job.dir}",
              "-o", "slurm-%j.out",
              f"--export=ALL,PRS_MPI={PRS_MPI}", os.path.join(SOURCE_DIR, "slurm", "prs_mpi.sbatch"),
              "job.yml", "--drain-before", "35"]
    job_id = subprocess.run(sbatch, capture_output=True, text=True, check=True).stdout.strip().split(";")[0]
    fields = wait_until_done(job_id, 600)
    log = job.read(f"slurm-{job_id}.out")
    expect_equal(fields.get("JobState"), "COMPLETED", f"final state\n{log}")
    expect_equal(fields.get("ExitCode"), "0:0", f"exit code\n{log}")
    expect(int(fields.get("Restarts", "0")) >= 1, f"requeued at least once\n{log}")
    expect("prs_mpi: stopping: the Slurm time limit ends in" in log, f"drained before the limit\n{log}")
    expect("requeueing job" in log and "prs_mpi: resuming:" in log, f"requeued and resumed\n{log}")
    expect_equal(sorted(job.rows()), job.items, "every row exactly once")
