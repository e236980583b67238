"""Mirrors of the azure.* SDK modules: `from azure.ai.ml import X` becomes `from prs_mpi.azure.ai.ml import X`."""
