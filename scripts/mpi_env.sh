# Sourced by the scripts: lets Open MPI run as root (containers, CI) and oversubscribe small machines.
if [ "$(id -u)" -eq 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# More ranks than cores is fine for these jobs: waiting ranks sleep instead of spinning.
export OMPI_MCA_rmaps_base_oversubscribe=1
