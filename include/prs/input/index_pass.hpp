#pragma once
// The collective index pass before the master loop (partition_keys on table columns, mini_batch_row_size): rank 0
// broadcasts the cut plan and the query, the workers scan a contiguous share of the cuts each (rank 0 scans none
// when there are workers), and rank 0 gathers only their small results and folds them into its plan.
// Cost: every byte of the table is read once (twice for mini_batch_row_size: a count, then the record starts) by
// the workers in parallel; rank 0 holds per cut its distinct key tuples, or one count per cut.
#include <cstdint>
#include <optional>
#include <string>

#include "prs/input/table_index.hpp"
#include "prs/input/table_plan.hpp"

namespace prs {

// Collective over MPI_COMM_WORLD: every rank calls it, rank 0 with the job and its plan (changed in place), the
// others with nullopt and nullptr. Returns "" or, on rank 0, the first error a scan met (the plan is then
// unchanged); every rank returns after the same collectives, so no rank waits for another that failed.
std::string run_index_pass(const std::optional<IndexJob>& job, TablePlan* plan);

// The same on one process, without MPI (--dry-run). Throws prs::Error.
void run_index_serial(const IndexJob& job, TablePlan& plan);

}  // namespace prs
