"""prs_mpi's stand-in for the cloud service's azureml_user package (entry scripts import azureml_user.parallel_run)."""
