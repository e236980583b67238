"""pytest fixtures for the end-to-end tests: a job folder under pytest's tmp_path, prs_mpi run under mpiexec.

    def test_something(make_job):
        job = make_job("name", SCRIPT, items=10, batch=3)   # data/, src/score.py, job.yml under tmp_path
        proc = job.run(np=3)                                 # mpiexec --oversubscribe -np 3 prs_mpi job.yml
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
from prs_e2e import Job  # noqa: E402


@pytest.fixture
def make_job(tmp_path):
    """A factory: make_job(name, script, items=10, batch=3, retries=2, timeout=60, extra="", arguments="--x 1")."""
    def make(name, script, **settings):
        return Job(name, script, root=tmp_path, **settings)
    return make
