"""azureml.pipeline.steps for prs_mpi: ParallelRunConfig and ParallelRunStep."""
from prs_mpi._v1_config import ParallelRunConfig
from prs_mpi._v1_step import ParallelRunStep

__all__ = ["ParallelRunConfig", "ParallelRunStep"]
