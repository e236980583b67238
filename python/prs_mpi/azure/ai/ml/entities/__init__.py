"""azure.ai.ml.entities for prs_mpi: Environment (cloud-only, ignored), PipelineJob, ParallelJob, RetrySettings."""
from prs_mpi._job import ParallelJob
from prs_mpi._pipeline import PipelineJob
from prs_mpi._task import Environment, RetrySettings

__all__ = ["Environment", "ParallelJob", "PipelineJob", "RetrySettings"]
