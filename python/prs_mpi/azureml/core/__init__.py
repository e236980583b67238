"""azureml.core for prs_mpi: Dataset (local file datasets), Environment (cloud-only, ignored); Workspace and
Experiment say what to use instead."""
from prs_mpi._v1_step import Dataset, Environment, Experiment, Workspace

__all__ = ["Dataset", "Environment", "Experiment", "Workspace"]
