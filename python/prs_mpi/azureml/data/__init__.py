"""azureml.data for prs_mpi: OutputFileDatasetConfig."""
from prs_mpi._v1_step import OutputFileDatasetConfig

__all__ = ["OutputFileDatasetConfig"]
