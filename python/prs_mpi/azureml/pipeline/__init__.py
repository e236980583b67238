"""prs_mpi.azureml.pipeline: see prs_mpi.azureml.pipeline.steps and prs_mpi.azureml.pipeline.core."""
