#!/usr/bin/env bash
# Installs the Debian packages prs_mpi needs to build, test and run its example.
# Only what is missing is installed; works as root or through sudo.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  openmpi-bin libopenmpi-dev
  libboost-program-options-dev libyaml-cpp-dev nlohmann-json3-dev libhdf5-openmpi-dev
  pybind11-dev catch2
  python3-dev python3-numpy python3-pandas python3-sklearn python3-yaml python3-pytest
  python3-h5py  # tests/e2e/test_hdf5_output.py reads the .h5 outputs back (serial h5py, never loaded by prs_mpi)
  python3-matplotlib tmux  # scripts/plot_job.py; the progress bar test in a real terminal
)

exec "$(dirname "${BASH_SOURCE[0]}")/install_missing.sh" "${packages[@]}"
