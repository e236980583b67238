#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite with ctest (unit, embedded Python, and prs_mpi
# under mpiexec end to end).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$root/scripts/install_deps.sh"
"$root/scripts/build.sh"
source "$root/scripts/mpi_env.sh"
cd "${PRS_BUILD_DIR:-$root/build}"
ctest --output-on-failure -j "$(nproc)" "$@"
