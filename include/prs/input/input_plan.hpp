#pragma once
// The job's input plan on rank 0: a file list and its partition (by mini_batch_size, or one mini-batch per hive
// folder combination of partition_keys), or a table's cuts, grouped by folder keys or waiting for the index pass
// (partition_keys on columns, mini_batch_row_size) that index_pass.hpp runs.
#include <optional>
#include <string>
#include <vector>

#include "prs/config/config.hpp"
#include "prs/input/file_list.hpp"
#include "prs/input/mltable.hpp"
#include "prs/input/partition.hpp"
#include "prs/input/table_index.hpp"
#include "prs/input/table_plan.hpp"

namespace prs {

// What rank 0 plans before any worker starts.
struct InputPlan {
  FileList files;                   // a file list (empty for a table)
  std::optional<Partition> partition;  // its mini-batches; for a table set once the plan is final
  std::optional<MLTable> mltable;   // a tabular input: its MLTable file
  std::optional<TablePlan> table;   // and its cuts
  std::optional<IndexJob> index;    // the index pass the table needs, if any
  std::vector<std::vector<std::string>> file_keys;  // a file list with partition_keys: each mini-batch's values
};

// Lists or cuts the job's input (rank 0 reads no table data). Throws prs::Error.
InputPlan plan_input(const JobConfig& config);

// "job.yml:10: mini_batch_row_size": where a resolved setting came from, for errors found once the input is known.
std::string setting_location(const JobConfig& config, const std::string& key);

}  // namespace prs
