"""azure.ai.ml.constants for prs_mpi: AssetTypes and InputOutputModes."""
from prs_mpi._ports import AssetTypes, InputOutputModes

__all__ = ["AssetTypes", "InputOutputModes"]
