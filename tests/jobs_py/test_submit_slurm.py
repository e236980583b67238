"""prs_mpi.submit under a real local Slurm (slurmctld + slurmd + munge on this machine, started by
tests/slurm/start-local-slurm.sh): a job written in Python is submitted with sbatch slurm/prs_mpi.sbatch, runs on
its allocation and writes every row once. Slurm tier (ctest slurm_jobs_py_submit): needs root; skipped otherwise."""
import os
import re

import pytest
from conftest import read, write

import prs_mpi
from local_slurm import local_slurm, wait_until_done  # noqa: F401 (a fixture)
from prs_mpi import Input, Output, RunFunction, parallel_run_function

pytestmark = [pytest.mark.slurm,
              pytest.mark.skipif(os.geteuid() != 0, reason="starting a local Slurm needs root")]


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
