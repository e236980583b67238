#include "prs/input/dry_run.hpp"

#include <algorithm>
#include <iomanip>

#include "prs/input/partition_keys.hpp"

namespace prs {

namespace {

constexpr std::uint64_t kShownBatches = 3;  // at each end of the plan

// "[Store, Brand]"
std::string key_list(const std::vector<std::string>& keys) {
  std::string text;
  for (const std::string& key : keys) text += (text.empty() ? "[" : ", ") + key;
  return text + "]";
}


void print_batch(std::ostream& out, const FileList& files, std::uint64_t id, ItemRange r, const std::string& keys) {
  out << "  mini-batch " << id << ": " << (keys.empty() ? "" : keys + ": ") << r.count << (r.count == 1 ? " file, " : " files, ") << files.at(r.first);
  if (r.count > 1) out << " .. " << files.at(r.first + r.count - 1);
  out << "\n";
}

void print_settings(std::ostream& out, const JobConfig& config) {
  out << "job: " << config.job_file << "\n";
  if (!config.pipeline_job.empty()) out << "pipeline job: " << config.pipeline_job << "\n";
  out << "settings:\n";
  std::size_t width = 0;
  for (const auto& s : config.resolved) width = std::max(width, s.key.size());
  for (const auto& s : config.resolved)
    out << "  " << std::left << std::setw(static_cast<int>(width)) << s.key << " = " << s.value << "  (" << s.origin
        << ")\n";
  const std::string ignored = ignored_keys_line(config);
  if (!ignored.empty()) out << ignored << "\n";
  out << "output: "
      << (config.output_action == OutputAction::summary_only ? "summary_only (rows counted, not written)"
                                                              : output_file(config))
      << (config.h5_file.empty() ? "" : " (built at the end from the row records committed to " +
                                            config.append_row_file + ")")
      << "\nlogs: " << config.log_dir << "\n";
}

const char* format_name(const TableReader& r) {
  return r.format == TableFormat::json_lines ? "read_json_lines" : "read_delimited";
}

// read_hdf5: "dataset /d" or "columns /a, /b".
std::string hdf5_source(const TableReader& r) {
  if (!r.hdf5_dataset.empty()) return "dataset " + r.hdf5_dataset;
  std::string text = "columns ";
  for (std::size_t i = 0; i < r.hdf5_columns.size(); ++i) text += (i ? ", " : "") + r.hdf5_columns[i];
  return text;
}

// Prints the first and last few of n lines.
template <typename Print>
void print_ends(std::ostream& out, std::uint64_t n, const char* gap, Print print) {
  for (std::uint64_t i = 0; i < n; ++i) {
    if (i == kShownBatches && n > 2 * kShownBatches) {
      out << gap;
      i = n - kShownBatches;
    }
    print(i);
  }
}

void print_hdf5_plan(std::ostream& out, const MLTable& table, const TablePlan& plan) {
  std::uint64_t bytes = 0, rows = 0;
  for (const TableFile& f : plan.files) bytes += f.size, rows += f.rows;
  out << "table: " << table.file << " (read_hdf5 " << hdf5_source(table.reader) << "), " << plan.files.size()
      << (plan.files.size() == 1 ? " file, " : " files, ") << bytes << " bytes, " << rows << " rows\n";
  out << "columns: " << plan.columns << "\n";
  out << "plan: " << plan.batches.size() << " mini-batches of " << plan.batch_rows << " rows\n";
  std::vector<std::uint64_t> per_file(plan.files.size(), 0);
  for (const TableCut& c : plan.batches) ++per_file[c.file];
  print_ends(out, plan.files.size(), "  ... more files\n", [&](std::uint64_t i) {
    const TableFile& f = plan.files[i];
    out << "  file " << f.path << ": " << f.size << " bytes, " << f.rows << " rows, " << per_file[i]
        << (per_file[i] == 1 ? " mini-batch\n" : " mini-batches\n");
  });
  print_ends(out, plan.batches.size(), "  ...\n", [&](std::uint64_t id) {
    const TableCut& c = plan.batches[id];
    out << "  mini-batch " << id << ": " << plan.files[c.file].path << " rows " << c.offset << ".."
        << c.offset + c.length << " (" << c.length << " rows)\n";
  });
}

void print_cut(std::ostream& out, const TablePlan& plan, std::uint64_t id) {
  if (plan.key_mode != KeyMode::none) {
    const std::vector<std::uint64_t> cuts = plan.batch_cuts(id);
    std::uint64_t bytes = 0;
    for (std::uint64_t c : cuts) bytes += plan.batches[c].length;
    out << "  mini-batch " << id << ": " << key_text(plan.key_names, plan.group_values[id]) << ": " << cuts.size()
        << (cuts.size() == 1 ? " range, " : " ranges, ") << bytes << " bytes";
    if (!cuts.empty()) out << ", first " << plan.files[plan.batches[cuts[0]].file].path;
    out << "\n";
    return;
  }
  const TableCut& c = plan.batches[id];
  out << "  mini-batch " << id << ": " << plan.files[c.file].path << " bytes " << c.offset << ".."
      << c.offset + c.length << " (" << c.length << " bytes)\n";
}

// What a table's mini-batches are, after "plan: N mini-batches ".
std::string table_division(const JobConfig& config, const TablePlan& plan) {
  if (plan.key_mode == KeyMode::folders)
    return "(key groups), one per combination of partition_keys " + key_list(plan.key_names) +
           " in the files' folders, the keys added as columns";
  if (plan.key_mode == KeyMode::columns)
    return "(key groups), one per combination of the columns partition_keys " + key_list(plan.key_names) +
           ", indexed over " + std::to_string(plan.batches.size()) + " ranges";
  if (config.mini_batch_row_size > 0) return "of " + std::to_string(config.mini_batch_row_size) + " records";
  return "of about " + std::to_string(table_batch_bytes(config)) + " bytes of whole records";
}

}  // namespace

void print_plan(std::ostream& out, const JobConfig& config, const FileList& files, const Partition& partition,
                const std::vector<std::vector<std::string>>& keys) {
  print_settings(out, config);
  std::uint64_t n = partition.batch_count();
  out << "plan: " << files.size() << " files in " << n << " mini-batches ";
  if (keys.empty()) out << "of up to " << config.mini_batch_size << " files";
  else out << "(key groups), one per combination of partition_keys " << key_list(config.partition_keys);
  out << " (listing: " << files.memory_bytes() / 1024 << " KiB)\n";
  for (std::uint64_t id = 0; id < n; ++id) {
    if (id == kShownBatches && n > 2 * kShownBatches) {
      out << "  ...\n";
      id = n - kShownBatches;
    }
    print_batch(out, files, id, partition.batch(id), keys.empty() ? "" : key_text(config.partition_keys, keys[id]));
  }
  const std::vector<SkippedPath>& skipped = files.skipped();
  if (skipped.empty()) return;
  out << "skipped (skip_unreadable_inputs): " << skipped.size()
      << (skipped.size() == 1 ? " unreadable path\n" : " unreadable paths\n");
  for (const SkippedPath& path : skipped) out << "  " << path.path << ": " << path.problem << "\n";
}

void print_table_plan(std::ostream& out, const JobConfig& config, const MLTable& table, const TablePlan& plan) {
  print_settings(out, config);
  if (table.reader.format == TableFormat::hdf5) return print_hdf5_plan(out, table, plan);
  std::uint64_t total = 0;
  for (const TableFile& f : plan.files) total += f.size;
  out << "table: " << table.file << " (" << format_name(table.reader) << "), " << plan.files.size()
      << (plan.files.size() == 1 ? " file, " : " files, ") << total << " bytes\n";
  out << "plan: " << plan.batch_count() << " mini-batches " << table_division(config, plan) << "\n";
  std::vector<std::uint64_t> per_file(plan.files.size(), 0);
  for (const TableCut& c : plan.batches) ++per_file[c.file];  // ranges per file
  for (std::size_t i = 0; i < plan.files.size(); ++i) {
    if (i == kShownBatches && plan.files.size() > 2 * kShownBatches) {
      out << "  ... " << plan.files.size() - 2 * kShownBatches << " more files\n";
      i = plan.files.size() - kShownBatches;
    }
    const TableFile& f = plan.files[i];
    out << "  file " << f.path << ": " << f.size << " bytes, " << per_file[i]
        << (plan.key_mode != KeyMode::none ? (per_file[i] == 1 ? " range" : " ranges")
                                            : (per_file[i] == 1 ? " mini-batch" : " mini-batches"))
        << (f.header_length > 0 ? ", header " + std::to_string(f.header_length) + " bytes" : std::string()) << "\n";
  }
  const std::uint64_t n = plan.batch_count();
  for (std::uint64_t id = 0; id < n; ++id) {
    if (id == kShownBatches && n > 2 * kShownBatches) {
      out << "  ...\n";
      id = n - kShownBatches;
    }
    print_cut(out, plan, id);
  }
}

}  // namespace prs
