"""prs_mpi.submit under a real local Slurm (slurmctld + slurmd + munge on this machine, started by
tests/slurm/start-local-slurm.sh): a job written in Python is submitted with sbatch slurm/prs_mpi.sbatch, runs on
its allocation and writes every row once. Slurm tier (ctest slurm_jobs_py_submit): needs root; skipped otherwise."""
import os
import re
import subprocess
import time

import pytest
from conftest import SOURCE_DIR, read, write

import prs_mpi
from prs_mpi import Input, Output, RunFunction, parallel_run_function

pytestmark = [pytest.mark.slurm,
              pytest.mark.skipif(os.geteuid() != 0, reason="starting a local Slurm needs root")]
SLURM = os.path.join(SOURCE_DIR, "tests", "slurm")


@pytest.fixture(scope="module")
def local_slurm():
    subprocess.run([os.path.join(SLURM, "start-local-slurm.sh")], check=True, timeout=900)
    yield
    subprocess.run([os.path.join(SLURM, "stop-local-slurm.sh")], timeout=120)


def job_fields(job_id):
    out = subprocess.run(["scontrol", "show", "job", job_id], capture_output=True, text=True).stdout
    return dict(re.findall(r"(\w+)=(\S+)", out))


def wait_until_done(job_id, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        fields = job_fields(job_id)
        if fields.get("JobState") in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY"):
            return fields
        time.sleep(2)
    raise AssertionError(f"job {job_id} did not finish in {seconds} s: {job_fields(job_id)}")


def test_submit_runs_the_job_on_the_allocation(local_slurm, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.chmod(tmp_path, 0o755)
    names = [f"item_{i:02d}.txt" for i in range(20)]
    for name in names:
        write(f"data/{name}", "x\n")
    write("src/score.py", "import os\ndef run(mini_batch):\n    return [os.path.basename(p) for p in mini_batch]\n")
    component = parallel_run_function(
        name="slurm_scoring", inputs={"data": Input()}, outputs={"rows": Output(type="uri_file", path="./rows.txt")},
        input_data="${{inputs.data}}", mini_batch_size="3",
        task=RunFunction(code="./src", entry_script="score.py", append_row_to="${{outputs.rows}}"))
    job_id = prs_mpi.submit(component(data=Input(path="./data")), nodes=1, tasks_per_node=3, time="00:05:00",
                            sbatch_args=["-o", "slurm-%j.out"])
    assert re.fullmatch(r"\d+", job_id)
    fields = wait_until_done(job_id, 300)
    log = read(f"slurm-{job_id}.out")
    assert fields.get("JobState") == "COMPLETED", log
    assert fields.get("ExitCode") == "0:0", log
    assert f"prs_mpi.sbatch: job {job_id} run 1 on 1 node(s), 3 tasks: {tmp_path}/slurm_scoring.prs_mpi.yml" in log
    assert sorted(read("rows.txt").splitlines()) == names
