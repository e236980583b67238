"""azure.ai.ml.parallel for prs_mpi: parallel_run_function, RunFunction, ParallelJob, RetrySettings."""
from prs_mpi._job import ParallelJob, parallel_run_function
from prs_mpi._task import RetrySettings, RunFunction

__all__ = ["ParallelJob", "RetrySettings", "RunFunction", "parallel_run_function"]
