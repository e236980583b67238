#!/usr/bin/env bash
# Installs what is missing, builds, and runs the example job: the digits that python3-sklearn ships, scored by a
# model the example trains itself, under mpirun with 4 ranks (1 master, 3 workers); then checks the predictions
# against a serial model.predict.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh"
source "$root/scripts/mpi_env.sh"
cd "$root"
/usr/bin/python3 examples/digits/setup_example.py
mpirun -np 4 build/prs_mpi examples/digits/job.yml --overwrite
/usr/bin/python3 examples/digits/check_predictions.py
