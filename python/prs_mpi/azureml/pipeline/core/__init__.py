"""azureml.pipeline.core for prs_mpi: Pipeline, PipelineData, PipelineParameter."""
from prs_mpi._v1_config import PipelineParameter
from prs_mpi._v1_step import Pipeline, PipelineData

__all__ = ["Pipeline", "PipelineData", "PipelineParameter"]
