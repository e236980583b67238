#pragma once
// --dry-run: the resolved settings and the partition plan, printed without MPI or Python.
#include <ostream>
#include <string>
#include <vector>

#include "prs/config/config.hpp"
#include "prs/input/file_list.hpp"
#include "prs/input/partition.hpp"
#include "prs/input/table_plan.hpp"

namespace prs {

// Prints every setting with its origin, the input listing's size, the mini-batches (first and last few; with
// partition_keys each group's values) and every input path skipped as unreadable.
void print_plan(std::ostream& out, const JobConfig& config, const FileList& files, const Partition& partition,
                const std::vector<std::vector<std::string>>& keys = {});

// Prints every setting, the table's files (size, mini-batches, header) and its first and last mini-batches (cuts,
// or key groups with their values).
void print_table_plan(std::ostream& out, const JobConfig& config, const MLTable& table, const TablePlan& plan);

}  // namespace prs
