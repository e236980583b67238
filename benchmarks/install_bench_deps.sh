#!/usr/bin/env bash
# Installs the Debian packages the benchmarks compare against or plot with (not needed to build or test prs_mpi):
# mpi4py.futures, Dask distributed, GNU parallel and matplotlib. Only what is missing; works as root or via sudo.
set -euo pipefail

packages=(python3-mpi4py python3-distributed parallel python3-matplotlib)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
echo "prs_mpi benchmarks: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
