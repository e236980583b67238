"""azure.ai.ml.dsl for prs_mpi: the @pipeline decorator."""
from prs_mpi._pipeline import pipeline

__all__ = ["pipeline"]
