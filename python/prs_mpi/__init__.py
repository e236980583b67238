"""prs_mpi's Python front end: parallel jobs written as the cloud service's SDKs write them, run with prs_mpi.

    import prs_mpi
    from prs_mpi.azure.ai.ml import Input, Output            # was: from azure.ai.ml import Input, Output
    from prs_mpi.azure.ai.ml.parallel import parallel_run_function, RunFunction

    job = parallel_run_function(...)(input_data=Input(path="./data"))
    job.dump("job.yml")                                      # the v2 job YAML prs_mpi reads
    exit_code, summary = prs_mpi.run(job, np=8)              # mpirun -np 8 prs_mpi job.yml
    job_id = prs_mpi.submit(job, nodes=2, tasks_per_node=8, time="04:00:00")

Every SDK module is mirrored under prs_mpi with the same path (azure.ai.ml.parallel -> prs_mpi.azure.ai.ml.parallel,
azureml.pipeline.steps -> prs_mpi.azureml.pipeline.steps); see docs/python_jobs.md.
"""
import os as _os

from . import _yamlio
from ._args import ArgumentError, CloudOnlyError, UnknownNameError
from ._job import ParallelJob, job_from_dict, parallel_run_function
from ._launch import ConfigError, RunResult, dry_run, find_binary, run, sbatch_command, submit
from ._pipeline import PipelineJob, pipeline, pipeline_from_dict
from ._ports import AssetTypes, Input, InputOutputModes, Output
from ._task import Environment, RetrySettings, RunFunction
from ._v1_config import ParallelRunConfig, PipelineParameter
from ._v1_step import ParallelRunStep, step_from_dict


def load(path):
    """A job file back as the object that writes it: a PipelineJob (type: pipeline), a ParallelRunStep (a job with
    parallel_run_config) or a ParallelJob. Unknown keys raise as prs_mpi's loader reports them."""
    tree = _yamlio.read(path)
    base = _os.path.dirname(_os.path.abspath(path))
    if tree.get("type") == "pipeline":
        return pipeline_from_dict(tree, path, base)
    if "parallel_run_config" in tree:
        return step_from_dict(tree, path, base)
    return job_from_dict(tree, path, base)


__all__ = ["ArgumentError", "AssetTypes", "CloudOnlyError", "ConfigError", "Environment", "Input",
           "InputOutputModes", "Output", "ParallelJob", "ParallelRunConfig", "ParallelRunStep", "PipelineJob",
           "PipelineParameter", "RetrySettings", "RunFunction", "RunResult", "UnknownNameError", "dry_run",
           "find_binary", "load", "parallel_run_function", "pipeline", "run", "sbatch_command", "submit"]
