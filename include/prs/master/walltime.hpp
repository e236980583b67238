#pragma once
// When the Slurm allocation ends, so that rank 0 stops dispatching in time to drain and exit 3 before the kill.
#include <ctime>
#include <optional>
#include <string>

namespace prs {

// Parses squeue's %e ("2026-11-22T01:23:45", local time); nullopt for "N/A", "UNLIMITED", "NONE" or garbage.
std::optional<std::time_t> parse_slurm_time(const std::string& text);

// The end of the current Slurm job: $SLURM_JOB_END_TIME (epoch seconds, newer Slurm) or
// `squeue -h -j $SLURM_JOB_ID -o %e` (Debian's Slurm 22.05 sets no variable); nullopt outside Slurm or unlimited.
std::optional<std::time_t> slurm_job_end();

}  // namespace prs
