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
  python3-matplotlib tmux  # scripts/plot_job.py; the progress bar test in a real terminal
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "prs_mpi: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
