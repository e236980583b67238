"""prs_mpi.azure.ai: see prs_mpi.azure.ai.ml."""
