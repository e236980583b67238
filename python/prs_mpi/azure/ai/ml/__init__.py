"""azure.ai.ml for prs_mpi: Input, Output, dsl, load_component; MLClient only says what to use instead."""
import os

from prs_mpi._args import ArgumentError, CloudOnlyError
from prs_mpi._job import job_from_dict
from prs_mpi._ports import Input, Output
from prs_mpi._yamlio import read
from . import constants, dsl, entities, parallel


class MLClient:
    """The client of an Azure ML workspace. prs_mpi has no workspace: run a job with prs_mpi.run(job, np=N) or
    prs_mpi.submit(job, nodes=...); a component is the object parallel_run_function returns."""

    def __init__(self, *args, **kwargs):
        raise CloudOnlyError("MLClient connects to an Azure ML workspace; prs_mpi runs jobs on this machine or "
                             "cluster: prs_mpi.run(job, np=N) or prs_mpi.submit(job, nodes=...)")

    @classmethod
    def from_config(cls, *args, **kwargs):
        return cls()


def load_component(source=None, **kwargs):
    """A parallel component from its YAML file (type: parallel), as a ParallelJob to call with inputs."""
    tree = read(source)
    kind = tree.get("type")
    if kind != "parallel":
        raise ArgumentError(source, "type", f"prs_mpi runs parallel components (type: parallel), got {kind!r}")
    return job_from_dict(tree, source, os.path.dirname(os.path.abspath(source)))


__all__ = ["Input", "MLClient", "Output", "constants", "dsl", "entities", "load_component", "parallel"]
