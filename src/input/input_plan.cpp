// The input plan: listing, folder groups, table cuts and what the index pass must find; see input_plan.hpp.
#include "prs/input/input_plan.hpp"

#include <cstdint>

#include "prs/error.hpp"
#include "prs/input/hdf5_table.hpp"
#include "prs/input/partition_keys.hpp"

namespace prs {
namespace {

// A table's cuts (rank 0 reads no table data): by size, one per file grouped by hive folders, or cuts that the
// index pass (partition_keys on columns, mini_batch_row_size) turns into the mini-batches later.
void plan_table_input(const JobConfig& c, InputPlan& s, MLTable table) {
  const std::vector<std::string>& keys = c.partition_keys;
  const bool folders = !keys.empty() && table.files.size() > 0 && has_hive_key(table.files.at(0), keys);
  TablePlan plan = plan_table(table, folders ? UINT64_MAX : table_batch_bytes(c));
  if (folders) {
    group_by_folders(plan, keys, c.partition_keys_location);
  } else if (!keys.empty() || c.mini_batch_row_size > 0) {
    IndexJob job{table.reader, {}, keys.empty() ? setting_location(c, "mini_batch_row_size") : c.partition_keys_location};
    if (!keys.empty()) job.query = key_query(table, plan, keys, c.partition_keys_location);
    job.query.row_size = c.mini_batch_row_size;
    s.index = std::move(job);
  }
  s.table = std::move(plan);
  s.mltable = std::move(table);
}

}  // namespace

std::string setting_location(const JobConfig& config, const std::string& key) {
  for (const ResolvedSetting& setting : config.resolved)
    if (setting.key == key) return setting.origin + ": " + key;
  return key;
}

// The input's plan: a table's cuts or the file listing, in groups with partition_keys (hive-style folders).
InputPlan plan_input(const JobConfig& c) {
  InputPlan s;
  if (c.input_kind == InputKind::mltable) {
    MLTable table = read_job_mltable(c);
    if (table.reader.format == TableFormat::hdf5) {
      if (!c.partition_keys.empty())
        throw Error(c.partition_keys_location + ": is for file lists and delimited or JSON-lines tables; a read_hdf5 "
                    "table is cut into rows (mini_batch_row_size), got " + table.file);
      s.table = plan_hdf5(table, c);
      s.mltable = std::move(table);
      return s;
    }
    if (table.reader.format != TableFormat::file_list) {
      plan_table_input(c, s, std::move(table));
      return s;
    }
    if (c.mini_batch_row_size > 0)
      throw Error(setting_location(c, "mini_batch_row_size") + ": is for tables read by read_delimited or "
                  "read_json_lines; " + table.file + " has no read transformation (a file list)");
  }
  s.files = list_input_files(c);
  if (c.partition_keys.empty()) {
    s.partition.emplace(s.files.size(), c.mini_batch_size);
    return s;
  }
  KeyGroups groups = group_files_by_folders(s.files, c.partition_keys, c.partition_keys_location);
  GroupedFiles grouped = reorder_by_groups(s.files, groups);
  s.files = std::move(grouped.files);
  s.partition.emplace(std::move(grouped.starts));
  s.file_keys = std::move(groups.values);
  return s;
}

}  // namespace prs
