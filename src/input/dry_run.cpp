#include "prs/input/dry_run.hpp"

#include <algorithm>
#include <iomanip>

namespace prs {

namespace {

constexpr std::uint64_t kShownBatches = 3;  // at each end of the plan

void print_batch(std::ostream& out, const FileList& files, std::uint64_t id, ItemRange r) {
  out << "  mini-batch " << id << ": " << r.count << (r.count == 1 ? " file, " : " files, ") << files.at(r.first);
  if (r.count > 1) out << " .. " << files.at(r.first + r.count - 1);
  out << "\n";
}

}  // namespace

void print_plan(std::ostream& out, const JobConfig& config, const FileList& files, const Partition& partition) {
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
                                                              : config.append_row_file)
      << "\nlogs: " << config.log_dir << "\n";
  std::uint64_t n = partition.batch_count();
  out << "plan: " << files.size() << " files in " << n << " mini-batches of up to " << config.mini_batch_size
      << " files (listing: " << files.memory_bytes() / 1024 << " KiB)\n";
  for (std::uint64_t id = 0; id < n; ++id) {
    if (id == kShownBatches && n > 2 * kShownBatches) {
      out << "  ...\n";
      id = n - kShownBatches;
    }
    print_batch(out, files, id, partition.batch(id));
  }
  const std::vector<SkippedPath>& skipped = files.skipped();
  if (skipped.empty()) return;
  out << "skipped (skip_unreadable_inputs): " << skipped.size()
      << (skipped.size() == 1 ? " unreadable path\n" : " unreadable paths\n");
  for (const SkippedPath& path : skipped) out << "  " << path.path << ": " << path.problem << "\n";
}

}  // namespace prs
