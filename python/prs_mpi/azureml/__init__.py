"""Mirrors of the azureml.* SDK v1 modules: `from azureml.pipeline.steps import X` becomes
`from prs_mpi.azureml.pipeline.steps import X`."""
