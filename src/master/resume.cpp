#include "prs/master/resume.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <optional>
#include <fstream>
#include <random>
#include <sstream>

#include "prs/error.hpp"
#include "prs/output/checksum.hpp"

namespace fs = std::filesystem;

namespace prs {

namespace {

// FNV-1a, 64 bits, fed piece by piece.
class Hash {
 public:
  Hash() = default;
  explicit Hash(std::uint64_t state) : h_(state) {}
  Hash& add(const void* data, std::size_t n) {
    auto p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) h_ = (h_ ^ p[i]) * 1099511628211ull;
    return *this;
  }
  Hash& add(std::string_view s) { return add(s.data(), s.size()).add("\0", 1); }
  template <typename T>
  Hash& num(T v) {
    return add(&v, sizeof v);
  }
  std::uint64_t value() const { return h_; }

 private:
  std::uint64_t h_ = 1469598103934665603ull;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A piece of the output named by the journal.
struct Region {
  std::uint64_t batch, offset, length;
};

std::vector<Region> regions_by_offset(const JournalState& state) {
  std::vector<Region> regions;
  for (std::uint64_t b = 0; b < state.batch_count; ++b)
    if (state.ended[b] && state.ended[b]->length > 0) regions.push_back({b, state.ended[b]->offset, state.ended[b]->length});
  std::sort(regions.begin(), regions.end(), [](const Region& a, const Region& b) { return a.offset < b.offset; });
  return regions;
}

std::string tail_path(const std::string& output) {
  std::random_device rd;
  std::ostringstream s;
  s << output << ".prs-tail." << std::hex << ((std::uint64_t(rd()) << 32) ^ rd());
  return s.str();
}

// Copies [offset, offset + length) of in to the end of out.
void copy_range(int in, int out, std::uint64_t offset, std::uint64_t length, const std::string& what) {
  std::string buf(1 << 20, '\0');
  while (length > 0) {
    ssize_t n = ::pread(in, buf.data(), std::min<std::uint64_t>(length, buf.size()), static_cast<off_t>(offset));
    if (n <= 0) throw Error(what + ": the output is shorter than the journal says (" + std::strerror(errno) + ")");
    for (ssize_t done = 0; done < n;) {
      ssize_t w = ::write(out, buf.data() + done, static_cast<std::size_t>(n - done));
      if (w < 0) throw Error(what + ": cannot write: " + std::strerror(errno));
      done += w;
    }
    offset += static_cast<std::uint64_t>(n);
    length -= static_cast<std::uint64_t>(n);
  }
}

// Writes the pieces, in the given order, into a new tail file; returns its path.
std::string write_tail(const std::string& output, const std::vector<Region>& pieces) {
  std::string tail = tail_path(output);
  int in = ::open(output.c_str(), O_RDONLY | O_CLOEXEC);
  int out = ::open(tail.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (in < 0 || out < 0) throw Error(output + ": cannot rewrite the output: " + std::strerror(errno));
  for (const Region& r : pieces) copy_range(in, out, r.offset, r.length, output);
  ::fsync(out);
  ::close(in);
  ::close(out);
  return tail;
}

// The CRC-32C of [offset, offset + length) of a file; nullopt if the file ends before. Throws prs::Error.
std::optional<std::uint32_t> checksum_range(int fd, std::uint64_t offset, std::uint64_t length,
                                            const std::string& path) {
  std::string buf(1 << 20, '\0');
  std::uint32_t crc = 0;
  while (length > 0) {
    ssize_t n = ::pread(fd, buf.data(), std::min<std::uint64_t>(length, buf.size()), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Error(path + ": cannot read the output to check it for --resume: " + std::strerror(errno));
    if (n == 0) return std::nullopt;
    crc = crc32c_extend(crc, buf.data(), static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
    length -= static_cast<std::uint64_t>(n);
  }
  return crc;
}

// The regions from keep on now lie in the tail file at offset - keep: their checksums are taken from there, so
// that a region whose bytes changed (the header moved by ordering) is journaled with its new sum.
void checksum_moved(const std::string& tail, JournalState& state, std::uint64_t keep) {
  int fd = ::open(tail.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(tail + ": cannot read: " + std::strerror(errno));
  for (auto& end : state.ended) {
    if (!end || end->length == 0 || end->offset < keep) continue;
    auto sum = checksum_range(fd, end->offset - keep, end->length, tail);
    if (!sum) {
      ::close(fd);
      throw Error(tail + ": shorter than the rows it should hold");
    }
    end->checksum = *sum;
  }
  ::close(fd);
}

// Journal first (with the pending rewrite), then the output: a crash in between is finished by the next open.
void rewrite_output(const std::string& output, const std::string& journal, JournalState& state,
                    std::uint64_t keep, const std::vector<Region>& pieces) {
  state.pending = PendingRewrite{keep, write_tail(output, pieces)};
  checksum_moved(state.pending->tail, state, keep);
  JournalWriter::create(journal, state);
  finish_pending_rewrite(output, *state.pending);
  state.pending.reset();
}

std::uint64_t file_size(const std::string& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  return ec ? 0 : size;
}

void forget_failed(JournalState& state, int max_retries) {
  for (std::uint64_t b = 0; b < state.batch_count; ++b) {
    bool failed = state.ended[b] ? !state.ended[b]->succeeded
                                 : state.tries[b] > static_cast<std::uint32_t>(max_retries);
    if (!failed) continue;
    state.ended[b].reset();
    state.tries[b] = 0;
  }
}

// Refuses a journal whose regions overlap (compaction would copy rows twice).
void check_disjoint(const std::vector<Region>& regions, const std::string& journal) {
  for (std::size_t i = 1; i < regions.size(); ++i)
    if (regions[i].offset < regions[i - 1].offset + regions[i - 1].length)
      throw Error(journal + ": the journal is damaged (mini-batches " + std::to_string(regions[i - 1].batch) +
                  " and " + std::to_string(regions[i].batch) +
                  " overlap in the output); remove it with --overwrite to start again");
}

// A pending rewrite names a tail file of this output ("OUTPUT.prs-tail.HEX"), nothing else it could append or remove.
void check_tail_name(const PendingRewrite& pending, const std::string& output, const std::string& journal) {
  const std::string stem = output + ".prs-tail.";
  bool ok = pending.tail.size() > stem.size() && pending.tail.compare(0, stem.size(), stem) == 0 &&
            pending.tail.find('/', stem.size()) == std::string::npos;
  if (!ok)
    throw Error(journal + ": the journal is damaged (its pending rewrite names " + pending.tail +
                ", not a tail file of " + output + "); remove it with --overwrite to start again");
}

// A deleted output comes back empty: everything it held is lost and runs again.
void recreate_if_missing(const std::string& output) {
  if (output.empty() || fs::exists(output)) return;
  int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(output + ": cannot create the output again for --resume: " + std::strerror(errno));
  ::close(fd);
}

// The regions whose bytes are no longer in the output as their workers wrote them.
std::vector<std::uint64_t> lost_regions(const std::string& output, const JournalState& state,
                                        const std::vector<Region>& regions) {
  std::vector<std::uint64_t> lost;
  if (regions.empty()) return lost;
  int fd = ::open(output.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(output + ": cannot read the output to check it for --resume: " + std::strerror(errno));
  std::uint64_t size = file_size(output);
  bool header_lost = false;
  for (const Region& r : regions) {
    const BatchEnd& end = *state.ended[r.batch];
    bool intact = r.offset + r.length <= size && checksum_range(fd, r.offset, r.length, output) == end.checksum;
    if (intact) continue;
    lost.push_back(r.batch);
    header_lost = header_lost || end.with_header;
  }
  ::close(fd);
  if (!header_lost) return lost;
  lost.clear();  // the header line goes at the top again: every region runs again
  for (const Region& r : regions) lost.push_back(r.batch);
  return lost;
}

// Lost batches are not ended any more; they keep their attempts but at least one more is left.
void take_back_lost(JournalState& state, const std::vector<std::uint64_t>& lost, int max_retries) {
  for (std::uint64_t b : lost) {
    state.ended[b].reset();
    state.tries[b] = std::min(state.tries[b], static_cast<std::uint32_t>(std::max(max_retries, 0)));
  }
}

// Bytes of the output that no region names: rows of attempts that never committed.
std::uint64_t unnamed_bytes(std::uint64_t size, const std::vector<Region>& regions) {
  std::uint64_t named = 0;
  for (const Region& r : regions)
    if (r.offset < size) named += std::min(r.length, size - r.offset);
  return size - named;
}

}  // namespace

void ListingHash::add(std::string_view path, FileStamp stamp) {
  if (stamp.size < 0) {
    struct stat st {};
    if (::stat(std::string(path).c_str(), &st) != 0)
      throw Error(std::string(path) + ": cannot read the input file: " + std::strerror(errno));
    stamp = stamp_of(st);
  }
  const std::int64_t size = stamp.size;
  std::int64_t seconds = stamp.mtime_ns / 1000000000, nanoseconds = stamp.mtime_ns % 1000000000;
  if (nanoseconds < 0) --seconds, nanoseconds += 1000000000;  // before 1970: tv_nsec is never negative
  static_assert(sizeof(off_t) == 8 && sizeof(time_t) == 8 && sizeof(long) == 8, "hashed as 8-byte numbers");
  Hash h(h_);
  h_ = h.add(path).num(size).num(seconds).num(nanoseconds).value();
}

// Paths, sizes and modification times of the input files, as the listing's stat() saw them. The same bytes as
// st_size, tv_sec and tv_nsec: journals of earlier builds match.
std::uint64_t hash_listing(const FileList& files, std::uint64_t count) {
  ListingHash listing;
  for (std::size_t i = 0; i < files.size() && i < count; ++i) listing.add(files.at(i), files.stamp(i));
  return listing.value();
}

namespace {

std::uint64_t hash_listing(const FileList& files) { return prs::hash_listing(files, files.size()); }

PlanFingerprint fingerprint_output(const JobConfig& config, std::uint64_t listing, std::uint64_t partition) {
  PlanFingerprint f;
  f.listing = listing;
  f.partition = partition;
  f.output = Hash()
                 .add(config.append_row_file)
                 .num(static_cast<int>(config.output_action))
                 .num(config.append_row_dataframe_header)
                 .value();
  f.script = Hash().add(config.entry_script).add(read_file(config.entry_script)).value();
  return f;
}

}  // namespace

PlanFingerprint fingerprint_plan(const JobConfig& config, const FileList& files, const Partition& partition) {
  Hash cut;  // mini_batch_size, or the groups of partition_keys (the listing is in group order then)
  cut.num(config.mini_batch_size);
  for (const std::string& key : config.partition_keys) cut.add(key);
  if (!config.partition_keys.empty())
    for (std::uint64_t b = 0; b < partition.batch_count(); ++b) cut.num(partition.batch(b).count);
  return fingerprint_output(config, hash_listing(files), cut.value());
}

PlanFingerprint fingerprint_plan(const JobConfig& config, const MLTable& table, const TablePlan& plan) {
  Hash cuts;
  cuts.num(config.mini_batch_bytes).num(config.mini_batch_row_size).num(plan.key_mode);
  for (const TableCut& cut : plan.batches) cuts.num(cut.file).num(cut.offset).num(cut.length);
  if (table.reader.format == TableFormat::hdf5) cuts.add(plan.columns).num(plan.batch_rows);  // rows: the cuts
  for (const std::string& key : plan.key_names) cuts.add(key);
  for (std::uint64_t b = 0; b < plan.group_values.size(); ++b) {  // partition_keys: each group, its values and cuts
    for (const std::string& value : plan.group_values[b]) cuts.add(value);
    for (std::uint64_t c : plan.batch_cuts(b)) cuts.num(c);
  }
  const std::uint64_t listing = Hash().num(hash_listing(table.files)).add(read_file(table.file)).value();  // options too
  return fingerprint_output(config, listing, cuts.value());
}

std::string describe_plan_change(const PlanFingerprint& before, const PlanFingerprint& now) {
  std::vector<std::string> parts;
  if (before.listing != now.listing) parts.push_back("the input files (added, removed or modified)");
  if (before.partition != now.partition) parts.push_back("the mini-batches (mini_batch_size, mini_batch_row_size or partition_keys)");
  if (before.output != now.output) parts.push_back("the output (append_row_to, output_action or the header setting)");
  if (before.script != now.script) parts.push_back("the entry script");
  std::string text;
  for (std::size_t i = 0; i < parts.size(); ++i) text += (i == 0 ? "" : i + 1 == parts.size() ? " and " : ", ") + parts[i];
  return text;
}

PlanFingerprint fingerprint_settings(const JobConfig& config) { return fingerprint_output(config, 0, 0); }

void check_journal_exists(const JobConfig& config) {
  const std::string journal = journal_path(config);
  if (!fs::exists(journal))
    throw Error(config.job_name + ": nothing to resume: no journal at " + journal + "; run without --resume");
}

void check_resumable(const JobConfig& config, const PlanFingerprint& plan, const PrefixPlan& prefix) {
  check_journal_exists(config);
  const std::string journal = journal_path(config);
  const JournalHeader recorded = read_journal_header(journal);  // before sizing anything
  PlanFingerprint now = plan;
  if (recorded.listing_open && prefix) {  // the first mini-batches it names, against as many of the new listing's
    const std::optional<PlanFingerprint> first = prefix(recorded.batch_count);
    now = first ? *first : plan;
    if (!first) now.listing = ~recorded.plan.listing;  // fewer files now: they changed
  }
  std::string change = describe_plan_change(recorded.plan, now);
  if (!change.empty())
    throw Error(config.job_name + ": cannot --resume: " + change +
                " changed since the interrupted run; use --overwrite to start over");
}

namespace {

// Reads every committed range back; the batches whose bytes are gone or changed are taken back.
void check_output(const std::string& output, int max_retries, ResumePoint& point) {
  JournalState& state = point.state;
  std::vector<Region> regions = regions_by_offset(state);
  std::uint64_t size = output.empty() ? 0 : file_size(output);
  point.removed_bytes = unnamed_bytes(size, regions);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<std::uint64_t> lost = lost_regions(output, state, regions);
  point.check_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const Region& r : regions) point.checked_bytes += r.offset < size ? std::min(r.length, size - r.offset) : 0;
  point.lost_batches = lost.size();
  take_back_lost(state, lost, max_retries);
}

// Leaves exactly the journal's regions in the output: an intact prefix stays, later regions move down after it.
void compact(const std::string& output, const std::string& journal, ResumePoint& point) {
  JournalState& state = point.state;
  std::vector<Region> regions = regions_by_offset(state);
  std::uint64_t keep = 0;
  std::size_t i = 0;
  for (; i < regions.size() && regions[i].offset == keep; ++i) keep += regions[i].length;  // intact prefix
  std::vector<Region> moved(regions.begin() + static_cast<std::ptrdiff_t>(i), regions.end());
  point.output_size = keep;
  for (const Region& r : moved) {
    state.ended[r.batch]->offset = point.output_size;
    point.output_size += r.length;
  }
  std::uint64_t size = output.empty() ? 0 : file_size(output);
  if (!moved.empty()) {
    rewrite_output(output, journal, state, keep, moved);
  } else if (size > keep && ::truncate(output.c_str(), static_cast<off_t>(keep)) != 0) {
    throw Error(output + ": cannot remove uncommitted rows: " + std::strerror(errno));
  }
}

}  // namespace

ResumePoint prepare_resume(const JobConfig& config, const PlanFingerprint& plan, std::uint64_t batch_count,
                           bool retry_failed, const PrefixPlan& prefix, bool plan_open) {
  check_resumable(config, plan, prefix);
  const std::string journal = journal_path(config);
  ResumePoint point{read_journal(journal, batch_count)};
  JournalState& state = point.state;
  state.plan = plan;  // the new plan, which the journal's first mini-batches are the start of
  state.listing_open = plan_open;
  state.planned = batch_count;
  const std::string& output = config.append_row_file;
  check_disjoint(regions_by_offset(state), journal);
  if (state.pending) check_tail_name(*state.pending, output, journal);
  recreate_if_missing(output);
  if (state.pending) finish_pending_rewrite(output, *state.pending);
  state.pending.reset();
  if (retry_failed) forget_failed(state, config.max_retries);
  check_output(output, config.max_retries, point);
  compact(output, journal, point);
  return point;
}

JournalState order_output(const std::string& output, const std::string& journal, JournalState state) {
  std::vector<std::uint64_t> order;  // batches with rows, in batch order
  std::uint64_t header_batch = state.batch_count, header_length = 0;
  bool in_order = true;
  for (std::uint64_t b = 0, offset = 0; b < state.batch_count; ++b) {
    const auto& end = state.ended[b];
    if (!end || end->length == 0) continue;
    if (end->with_header) header_batch = b, header_length = end->header_length;
    in_order = in_order && end->offset == offset;
    offset += end->length;
    order.push_back(b);
  }
  if (in_order && (header_length == 0 || header_batch == order.front())) return state;
  std::vector<Region> pieces;
  if (header_length > 0) pieces.push_back({header_batch, state.ended[header_batch]->offset, header_length});
  std::uint64_t offset = 0;
  for (std::uint64_t b : order) {
    BatchEnd& end = *state.ended[b];
    std::uint64_t skip = b == header_batch ? header_length : 0;
    pieces.push_back({b, end.offset + skip, end.length - skip});
    bool first = b == order.front();  // the first region takes the header in
    end.offset = offset;
    end.length = end.length - skip + (first ? header_length : 0);
    end.with_header = first && header_length > 0;
    end.header_length = end.with_header ? static_cast<std::uint32_t>(header_length) : 0;
    offset += end.length;
  }
  rewrite_output(output, journal, state, 0, pieces);
  return state;
}

std::vector<StagedRecord> h5_staged_records(const JournalState& state, bool ordered) {
  std::vector<StagedRecord> records;
  for (std::uint64_t b = 0; b < state.batch_count; ++b) {
    const auto& end = state.ended[b];
    if (end && end->length > 0) records.push_back({b, end->offset, end->length});  // a short last attempt too
  }
  if (!ordered)
    std::sort(records.begin(), records.end(),
              [](const StagedRecord& a, const StagedRecord& b) { return a.offset < b.offset; });
  return records;
}

}  // namespace prs
