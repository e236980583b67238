"""prs_mpi.run: the exit code and job_summary.json of a succeeding, a failing and a bad job, the console streamed;
where it finds prs_mpi and mpirun; what submit() asks sbatch (without running it)."""
import io
import os
import stat

import pytest
from conftest import PRS_MPI, SOURCE_DIR, read, write

import prs_mpi
from prs_mpi import Input, Output, RunFunction, parallel_run_function
from prs_mpi import _launch

# Items whose value is a multiple of 3 fail (the mini-batch raises).
FAILS_ON_MULTIPLES_OF_3 = """\
    def run(mini_batch):
        values = [int(open(p).read()) for p in mini_batch]
        if any(v % 3 == 0 for v in values):
            raise ValueError(f"bad items {values}")
        return [str(v) for v in values]
"""


def scoring(items=12, **settings):
    for i in range(items):
        write(f"data/item_{i:02d}.txt", f"{i}\n")
    write("src/score.py", FAILS_ON_MULTIPLES_OF_3)
    component = parallel_run_function(
        name="scoring", inputs={"data": Input()}, outputs={"rows": Output(type="uri_file", path="./out/rows.txt")},
        input_data="${{inputs.data}}", mini_batch_size="1", retry_settings={"max_retries": 0, "timeout": 60},
        task=RunFunction(code="./src", entry_script="score.py", append_row_to="${{outputs.rows}}"), **settings)
    return component(data=Input(path="./data"))


def test_a_succeeding_job(in_tmp):
    job = scoring()
    job.task.program_arguments = "--allowed_failed_percent 50"
    console = io.StringIO()
    result = prs_mpi.run(job, np=3, stdout=console)
    exit_code, summary = result
    assert exit_code == 0
    assert summary["mini_batches"] == {"total": 12, "succeeded": 8, "failed": 4, "unconfirmed": 0}
    assert summary["items"] == {"total": 12, "succeeded": 8, "failed": 4}
    assert sorted(read("out/rows.txt").split()) == sorted(str(v) for v in range(12) if v % 3)
    assert result.job_file == "scoring.prs_mpi.yml"
    assert result.log_dir == f"{in_tmp}/out/logs"
    assert console.getvalue() == result.stdout
    assert "prs_mpi: succeeded\n" in console.getvalue()
    assert ("prs_mpi: 8 of 12 items succeeded in 12 mini-batches; results: " f"{in_tmp}/out/rows.txt; logs: "
            f"{in_tmp}/out/logs\n") in console.getvalue()


def test_a_failing_job(in_tmp):
    job = scoring()
    job.task.program_arguments = "--allowed_failed_percent 25"
    errors = io.StringIO()
    exit_code, summary = prs_mpi.run(job, np=3, stdout=io.StringIO(), stderr=errors)
    assert exit_code == 1
    # The 4th failure stops it; mini-batches queued behind the running ones may be left: as many rows as successes.
    assert (summary["mini_batches"]["total"], summary["mini_batches"]["failed"]) == (12, 4)
    assert len(read("out/rows.txt").split()) == summary["mini_batches"]["succeeded"] == summary["items"]["succeeded"]
    assert all(int(v) % 3 for v in read("out/rows.txt").split())
    assert ("prs_mpi: stopping: allowed_failed_percent exceeded: 4 of 12 mini-batches failed, more than 25%\n"
            in errors.getvalue())
    assert read("out/logs/job_result.txt").startswith("failed: allowed_failed_percent exceeded: 4 of 12 "
                                                      "mini-batches failed, more than 25%\n")


def test_a_bad_job(in_tmp):
    job = scoring(error_threshold=-1)
    job.retry_settings.timeout = -5
    errors = io.StringIO()
    result = prs_mpi.run(job, np=3, stdout=io.StringIO(), stderr=errors)
    assert tuple(result) == (2, None)
    line = read("scoring.prs_mpi.yml").splitlines().index("  timeout: -5") + 1
    assert [l for l in errors.getvalue().splitlines() if l.startswith("prs_mpi")] == [  # and mpirun's own lines
        f"prs_mpi: error: scoring.prs_mpi.yml:{line}: retry_settings.timeout: must be in (0, 259200], got -5"]
    assert not os.path.exists("out")
    with pytest.raises(prs_mpi.ConfigError) as raised:
        prs_mpi.dry_run(job)
    assert str(raised.value) == f"scoring.prs_mpi.yml:{line}: retry_settings.timeout: must be in (0, 259200], got -5"
    assert raised.value.exit_code == 2


def test_a_job_file_path_runs_as_it_is_and_args_are_passed_on(in_tmp):
    job = scoring(items=3)
    job.dump("mine.yml")
    exit_code, summary = prs_mpi.run("mine.yml", np=2, args=["--set", "mini_batch_size=2"], stdout=io.StringIO(),
                                     stderr=io.StringIO())
    assert exit_code == 0  # item 0 fails, 100% allowed by default
    assert summary["mini_batches"] == {"total": 2, "succeeded": 1, "failed": 1, "unconfirmed": 0}
    assert not os.path.exists("scoring.prs_mpi.yml")
    exit_code, summary = prs_mpi.run("mine.yml", np=2, stdout=io.StringIO(), stderr=io.StringIO())
    assert (exit_code, summary) == (2, None)  # the earlier output is refused without --overwrite


def test_one_rank_is_prs_mpis_usage_error(in_tmp):
    errors = io.StringIO()
    assert tuple(prs_mpi.run(scoring(items=1), np=1, stdout=io.StringIO(), stderr=errors)) == (2, None)
    assert errors.getvalue().startswith("prs_mpi: error: a job needs a master and at least one worker")


def test_where_run_finds_prs_mpi_and_mpirun(in_tmp, monkeypatch):
    monkeypatch.setenv("PRS_MPI", "/opt/prs/bin/prs_mpi")
    assert prs_mpi.find_binary() == "/opt/prs/bin/prs_mpi"
    monkeypatch.delenv("PRS_MPI")
    write("bin/prs_mpi", "#!/bin/sh\n")
    os.chmod("bin/prs_mpi", stat.S_IRWXU)
    monkeypatch.setenv("PATH", f"{in_tmp}/bin")
    assert prs_mpi.find_binary() == f"{in_tmp}/bin/prs_mpi"
    monkeypatch.setenv("PATH", "/nowhere")
    built = os.path.join(SOURCE_DIR, "build", "prs_mpi")
    if os.path.exists(built):
        assert prs_mpi.find_binary() == built
    monkeypatch.setattr(_launch, "REPO", str(in_tmp))
    with pytest.raises(FileNotFoundError, match=r"^prs_mpi not found: set PRS_MPI=/path/to/prs_mpi"):
        prs_mpi.find_binary()
    with pytest.raises(FileNotFoundError, match=r"^mpirun not found: install openmpi-bin or set PRS_MPIEXEC$"):
        monkeypatch.delenv("PRS_MPIEXEC", raising=False)
        _launch.find_mpiexec()
    assert os.path.exists(PRS_MPI)


def test_the_launcher_may_run_as_root(monkeypatch):
    monkeypatch.delenv("OMPI_ALLOW_RUN_AS_ROOT", raising=False)
    monkeypatch.delenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    env = _launch.child_env({"EXTRA": "1"})
    assert (env["OMPI_ALLOW_RUN_AS_ROOT"], env["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"], env["EXTRA"]) == ("1", "1", "1")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert "OMPI_ALLOW_RUN_AS_ROOT" not in _launch.child_env()


def test_the_sbatch_command_submit_runs():
    command = prs_mpi.sbatch_command("jobs/scoring.prs_mpi.yml", nodes=2, tasks_per_node=8, time="04:00:00",
                                     args=["--overwrite"], step="score", sbatch_args=["--partition=cpu"],
                                     binary="/opt/prs/prs_mpi", script="/repo/slurm/prs_mpi.sbatch", chdir="/work")
    assert command == ["sbatch", "--parsable", "--nodes=2", "--ntasks-per-node=8", "--time=04:00:00",
                       "--chdir=/work", "--export=ALL,PRS_MPI=/opt/prs/prs_mpi", "--partition=cpu",
                       "/repo/slurm/prs_mpi.sbatch", os.path.abspath("jobs/scoring.prs_mpi.yml"), "--job", "score",
                       "--overwrite"]
    assert prs_mpi.sbatch_command("j.yml", nodes=1, binary="p", script="s", chdir="/w") == [
        "sbatch", "--parsable", "--nodes=1", "--chdir=/w", "--export=ALL,PRS_MPI=p", "s", os.path.abspath("j.yml")]
    with pytest.raises(prs_mpi.ArgumentError, match=r"^submit: time: must be a string, got 240 \(int\)$"):
        prs_mpi.sbatch_command("j.yml", nodes=1, time=240, binary="p", script="s", chdir="/w")
    with pytest.raises(ValueError, match=r"holds a comma, which sbatch --export cannot pass$"):
        prs_mpi.sbatch_command("j.yml", nodes=1, binary="/a,b/prs_mpi", script="s", chdir="/w")
    assert os.path.exists(os.path.join(_launch.REPO, "slurm", "prs_mpi.sbatch"))  # the script submit() uses
