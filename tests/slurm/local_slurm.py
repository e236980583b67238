"""A real Slurm on this machine for the Slurm-tier tests (tests/slurm, tests/jobs_py): the daemons as a module
fixture, and polling a job to its end. Root only: the tests that use it skip otherwise."""
import os
import re
import subprocess
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))


def job_fields(job_id):
    out = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True).stdout
    return dict(re.findall(r"(\w+)=(\S+)", out))


def wait_until_done(job_id, seconds):
    """Polls the job; a requeued job waits for its BeginTime (~2 min): start it now. Returns its last fields."""
    deadline = time.time() + seconds
    requeued_seen = None  # when the job was first seen pending after a requeue
    while time.time() < deadline:
        fields = job_fields(job_id)
        state = fields.get("JobState")
        if state in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"):
            return fields
        if state == "PENDING" and int(fields.get("Restarts", "0")) > 0:
            requeued_seen = requeued_seen or time.time()
            # Not within the second of the requeue: slurmd revoked the old run's credential then, and a new one of
            # the same second counts as revoked ("Killing non-startable batch job: Job credential revoked").
            if time.time() - requeued_seen >= 3:
                subprocess.run(["scontrol", "update", f"jobid={job_id}", "StartTime=now"], capture_output=True)
        else:
            requeued_seen = None
        time.sleep(1)
    raise AssertionError(f"job {job_id} did not finish in {seconds} s: {job_fields(job_id)}")


@pytest.fixture(scope="module")
def local_slurm():
    """slurmctld, slurmd and munged on this machine for the module's tests; stopped after them."""
    subprocess.run([os.path.join(HERE, "start-local-slurm.sh")], check=True, timeout=900)
    yield
    subprocess.run([os.path.join(HERE, "stop-local-slurm.sh")], timeout=120)
