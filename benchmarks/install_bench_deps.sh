#!/usr/bin/env bash
# Installs the Debian packages the benchmarks compare against or plot with (not needed to build or test prs_mpi):
# mpi4py.futures, Dask (dask.dataframe and distributed), GNU parallel and matplotlib. Only what is missing; works
# as root or via sudo.
set -euo pipefail

packages=(python3-mpi4py python3-dask python3-distributed parallel python3-matplotlib)

exec "$(dirname "${BASH_SOURCE[0]}")/../scripts/install_missing.sh" "${packages[@]}"
