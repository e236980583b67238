"""pytest set-up shared by tests/e2e and tests/slurm: where prs_mpi and mpiexec are, Open MPI's environment, the
markers, the make_job fixture, and exit code 77 (ctest's SKIP_RETURN_CODE) when every test of a run was skipped.

    def test_something(make_job):
        job = make_job("name", SCRIPT, items=10, batch=3)   # data/, src/score.py, job.yml under tmp_path
        proc = job.run(np=3)                                 # mpiexec --oversubscribe -np 3 prs_mpi job.yml
"""
import os
import sys

import pytest

SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ALL_SKIPPED_EXIT_CODE = 77  # ctest's SKIP_RETURN_CODE for the pytest entries (tests/CMakeLists.txt)


def complete_environment(env):
    """Fills in what ctest sets and a plain shell does not: the paths prs_e2e reads, Open MPI's run-as-root and
    oversubscribe switches (as scripts/mpi_env.sh does). Values already set are kept."""
    env["PRS_SOURCE_DIR"] = env.get("PRS_SOURCE_DIR") or SOURCE_DIR
    build_dir = env.get("PRS_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")
    env["PRS_MPI"] = env.get("PRS_MPI") or os.path.join(build_dir, "prs_mpi")
    env["PRS_MPIEXEC"] = env.get("PRS_MPIEXEC") or "mpiexec"
    if os.geteuid() == 0:
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        env.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    env.setdefault("OMPI_MCA_rmaps_base_oversubscribe", "1")


complete_environment(os.environ)
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "e2e"))
sys.path.insert(0, os.path.join(SOURCE_DIR, "tests", "slurm"))  # local_slurm, for the Slurm tier
from prs_e2e import Job  # noqa: E402  (reads the environment completed above)


def pytest_configure(config):
    config.addinivalue_line("markers", "chaos: kills or drains a running job at random moments, then resumes it")
    config.addinivalue_line("markers", "slurm: runs slurm/prs_mpi.sbatch under a real local Slurm (root only)")


def pytest_sessionstart(session):
    prs_mpi = os.environ["PRS_MPI"]
    if not os.access(prs_mpi, os.X_OK):
        raise pytest.UsageError(f"{prs_mpi}: no prs_mpi executable there; build it (scripts/build.sh) or set PRS_MPI")


@pytest.fixture
def make_job(tmp_path):
    """A factory: make_job(name, script, items=10, batch=3, retries=2, timeout=60, extra="", arguments="--x 1")."""
    def make(name, script, **settings):
        return Job(tmp_path, name, script, **settings)
    return make


_tests_run = []  # node ids of the tests whose body ran (neither skipped nor deselected)


def pytest_runtest_logreport(report):
    if report.when == "call" and not report.skipped:
        _tests_run.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus):
    """A run that collected tests and skipped them all exits 77, so that ctest reports it skipped, not passed."""
    if exitstatus == pytest.ExitCode.OK and session.testscollected and not _tests_run:
        session.exitstatus = ALL_SKIPPED_EXIT_CODE
