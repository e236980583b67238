// Rank 0's preparation of a job: the checks before the workers start, the plan while they start (app_setup.hpp).
#include "app_setup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <thread>

#include "prs/error.hpp"
#include "prs/input/index_pass.hpp"
#include "prs/master/resume.hpp"
#include "prs/output/job_folders.hpp"

namespace fs = std::filesystem;

namespace prs::app_detail {

StartupClock::StartupClock()
    : origin_(std::chrono::steady_clock::now()),
      origin_unix_(std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count()) {}

double StartupClock::now() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - origin_).count();
}

void StartupClock::end(const std::string& name) {
  const double t = now();
  phases_.push_back({name, last_, t - last_});
  last_ = t;
}

void StartupClock::record(TraceRecorder& trace) const {
  trace.origin(origin_unix_);
  for (const Phase& p : phases_) trace.span(0, p.name, "startup", p.start, p.seconds);
}

namespace {

void end_phase(const MasterSetup& s, const char* name) {
  if (s.clock != nullptr) s.clock->end(name);
}

// Why an existing file at the output path is not known to be this job's earlier output, or "" when it is: the
// journal of that run lies in the logs folder and describes this very output.
std::string not_earlier_output(const std::string& journal, const PlanFingerprint& plan) {
  std::error_code ec;
  if (!fs::exists(journal, ec)) return "no journal of an earlier run is at " + journal;
  try {
    if (read_journal_header(journal).plan.output != plan.output) {
      return "the journal " + journal + " describes another output or other output settings";
    }
  } catch (const Error& e) {
    return "its journal cannot be read: " + std::string(e.what());
  }
  return "";
}

// Whether a path exists (a dangling symlink too); throws when it is a folder, which prs_mpi never removes.
bool exists_as_file(const std::string& path, const std::string& key) {
  std::error_code ec;
  const fs::file_status status = fs::symlink_status(path, ec);
  if (path.empty() || !fs::exists(status)) return false;
  if (fs::is_directory(status)) {
    throw Error(path + " is a folder, not an output of an earlier run; prs_mpi never removes a folder: move it away "
                "or choose another " + key);
  }
  return true;
}

// Refuses to clobber an earlier job's output or journal unless --overwrite, which (with remove) removes them.
// Nothing else is ever removed: not a folder, not a file that no journal of an earlier run describes (the user's).
// A .h5 output has two such files: its staging file (append_row_file) and the .h5 built from it.
void check_previous_run(const CliOptions& cli, const JobConfig& config, const PlanFingerprint& plan, bool remove) {
  const std::string journal = journal_path(config);
  std::vector<std::string> found;  // an earlier run's files
  for (const std::string& output : {config.append_row_file, config.h5_file}) {
    if (!exists_as_file(output, "task.append_row_to")) continue;
    const std::string why = not_earlier_output(journal, plan);
    if (!why.empty()) {
      throw Error(config.append_row_location + ": " + output + " already exists and is not an output of an earlier "
                  "run of this job: " + why + "; prs_mpi replaces only its own earlier output: move the file away or "
                  "write the rows to another file");
    }
    found.push_back(output);
  }
  if (exists_as_file(journal, "--log-dir")) found.push_back(journal);
  for (const std::string& path : found) {
    if (!cli.overwrite)
      throw Error(config.job_name + ": " + path +
                  " already exists (from an earlier run); use --resume to continue that run or --overwrite to "
                  "replace it");
    if (!remove) continue;
    std::error_code ec;
    fs::remove(path, ec);
    if (ec) throw Error(path + ": cannot remove it for --overwrite: " + ec.message());
  }
}

// A fresh run creates its output itself, exclusively: of two jobs that passed the check above, one is refused.
void create_fresh_output(const JobConfig& config) {
  const std::string& path = config.append_row_file;
  if (path.empty()) return;  // summary_only
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST)
    throw Error(config.job_name + ": " + path +
                " already exists (another job has just created it); use --resume to continue that run or "
                "--overwrite to replace it");
  if (fd < 0) throw Error(path + ": cannot create the output: " + std::strerror(errno));
  ::close(fd);
}

// "prs_mpi: the output lost the rows of 12 committed mini-batches (...); they run again"
void print_resume_repairs(const ResumePoint& point) {
  if (point.lost_batches > 0)
    std::cout << "prs_mpi: the output lost the rows of " << point.lost_batches << " committed mini-batch"
              << (point.lost_batches == 1 ? "" : "es") << " (missing or changed since they were written); "
              << (point.lost_batches == 1 ? "it runs" : "they run") << " again" << std::endl;
  if (point.removed_bytes > 0)
    std::cout << "prs_mpi: removed " << point.removed_bytes << " bytes of rows no mini-batch committed" << std::endl;
}

// For sys/master_role.txt: "resume: checked 1073741824 bytes of committed rows against their checksums in 0.210 s;
// 0 mini-batches lost".
std::string check_note(const ResumePoint& point) {
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", point.check_seconds);
  return "resume: checked " + std::to_string(point.checked_bytes) +
         " bytes of committed rows against their checksums in " + seconds + " s; " +
         std::to_string(point.lost_batches) + " mini-batches lost";
}

void create_dirs(MasterSetup& s) {
  std::vector<std::string> dirs = s.config.output_dirs;
  dirs.push_back(s.config.log_dir);
  for (const std::string& dir : dirs) {
    const std::string created = create_job_folder(dir);  // only what this job's own mkdir created
    if (!created.empty()) s.created_folders.push_back(created);
  }
}

bool all_ended(const JournalState& state) {
  for (const auto& end : state.ended)
    if (!end) return false;
  return true;
}

// Tests only: PRS_TEST_LISTING_GATE=PATH makes rank 0 wait (at most 60 s) for PATH to exist before it lists the
// input, so that an end-to-end test can have init() run before the listing fails without relying on timing.
void wait_for_test_gate() {
  const char* gate = std::getenv("PRS_TEST_LISTING_GATE");
  if (gate == nullptr || *gate == '\0') return;
  std::error_code ec;
  for (int i = 0; i < 6000 && !fs::exists(gate, ec); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

// The input's plan: a table's cuts (rank 0 reads no table data) or the file listing (whose stat() of each file
// the fingerprint reuses), grouped by partition_keys; what the index pass must still find is in s.index.
void list_and_partition(MasterSetup& s) {
  static_cast<InputPlan&>(s) = plan_input(s.config);
  end_phase(s, s.table ? "listing and cutting the tables" : "listing");
}

// Once the plan is final (after the index pass): a table's partition.
void finish_partition(MasterSetup& s) {
  if (s.table) s.partition.emplace(s.table->batch_count(), 1);
}

PlanFingerprint fingerprint(const MasterSetup& s) {
  if (s.table) return fingerprint_plan(s.config, *s.mltable, *s.table);
  return fingerprint_plan(s.config, s.files, *s.partition);
}

// Something (a file, a folder, a symlink, broken or not) is at path; false for "".
bool there(const std::string& path) {
  std::error_code ec;
  return !path.empty() && fs::exists(fs::symlink_status(path, ec));
}

// The job's output file (text or .h5) is there.
bool output_there(const JobConfig& config) { return there(config.append_row_file) || there(config.h5_file); }

// An existing output with no journal beside it is the user's own file or one of the inputs; the listing tells which
// (and says so first, as it always did), so its refusal waits for step 2.
bool output_may_be_an_input(const JobConfig& config) {
  std::error_code ec;
  return output_there(config) && !fs::exists(journal_path(config), ec);
}

// Whether the output's folder lies outside the input folder: a resume writes tail files beside the output while
// it compacts, which a walk of that folder could meet.
bool output_outside_input(const JobConfig& config) {
  if (config.append_row_file.empty()) return true;
  std::error_code ec;
  const std::string input = fs::weakly_canonical(config.input_path, ec).string() + "/";
  const std::string folder = fs::weakly_canonical(fs::path(config.append_row_file).parent_path(), ec).string() + "/";
  return !ec && folder.compare(0, input.size(), input) != 0;
}

// How many paths a streamed listing must have listed before the master starts, or nullopt: list whole first.
// A fresh run of a folder or file input streams once its first mini-batch is listed, unless an output file exists
// already: one without a journal may be an input (the whole listing refuses it first, as it always did), and
// --overwrite replaces one by a new file the walk could not tell from an input. --resume streams only a journal
// whose listing never ended, once the new listing holds as many mini-batches as it names (they are compared
// first); a whole plan is compared with the whole listing.
std::optional<std::uint64_t> streamed_start(const CliOptions& cli, const JobConfig& config) {
  if (!input_streams(config)) return std::nullopt;
  if (!cli.resume) {
    if (output_there(config)) return std::nullopt;
    return config.mini_batch_size;
  }
  if (!output_outside_input(config)) return std::nullopt;
  try {
    const JournalHeader recorded = read_journal_header(journal_path(config));
    if (!recorded.listing_open) return std::nullopt;
    return std::max<std::uint64_t>(1, recorded.batch_count) * config.mini_batch_size;
  } catch (const Error&) {
    return std::nullopt;  // the whole listing's path reports it
  }
}

// Starts the listing thread and waits for `first` paths. A listing that ends first is the whole listing, with its
// errors as before (an empty folder, an unreadable one); otherwise the master takes the rest from s.feed. Tests
// only: PRS_TEST_LISTING_HOLD pauses the listing after the first mini-batch (a resume: one more than it waits for).
void start_streamed_listing(MasterSetup& s, std::uint64_t first, bool resume) {
  const std::uint64_t size = s.config.mini_batch_size;
  s.stream = std::make_unique<ListingStream>(s.config, resume ? first + size : size);
  s.stream->wait_for(first);
  if (s.stream->take(s.files)) {  // throws the listing's error
    s.stream.reset();
    s.partition.emplace(s.files.size(), size);
    return end_phase(s, "listing");
  }
  s.partition.emplace(0, size);
  s.feed.emplace(*s.stream, s.files, *s.partition, size, fingerprint_plan(s.config, FileList(), Partition(0, size)));
  end_phase(s, "listing the first mini-batch (the rest is listed while the master dispatches)");
}

// For a journal whose listing never ended: the plan of this listing's first mini-batches (file lists only).
PrefixPlan prefix_plan(const MasterSetup& s, const PlanFingerprint& plan) {
  if (s.table) return {};
  return [&s, plan](std::uint64_t batches) -> std::optional<PlanFingerprint> {
    const Partition& p = *s.partition;
    if (batches > p.batch_count()) return std::nullopt;
    PlanFingerprint first = plan;
    first.listing = hash_listing(s.files, batches == p.batch_count() ? p.item_count() : p.batch(batches).first);
    return first;
  };
}

}  // namespace

void check_before_workers(const CliOptions& cli, MasterSetup& s) {
  s.config = load_job_config(cli);
  use_virtual_env(s.config);
  if (s.config.input_kind == InputKind::mltable) read_mltable(s.config.input_path, false);  // the workers read it too
  const PlanFingerprint settings = fingerprint_settings(s.config);
  if (cli.resume) check_journal_exists(s.config);  // these refusals write nothing
  else if (!cli.overwrite && !output_may_be_an_input(s.config)) check_previous_run(cli, s.config, settings, false);
  create_dirs(s);
  s.lock = JobLock::take(job_lock_path(s.config.log_dir), s.config.job_name);
  end_phase(s, "job file, output checks, job lock");
}

// Order matters: under the lock (taken in step 1), the output and the journal are touched only once the plan is
// known (resume, --overwrite, the exclusive create).
void plan_while_workers_start(const CliOptions& cli, MasterSetup& s) {
  wait_for_test_gate();
  if (auto first = streamed_start(cli, s.config)) return start_streamed_listing(s, *first, cli.resume);
  list_and_partition(s);
}

namespace {

std::optional<FileIdentity> identity_of(const std::string& path) {
  struct stat st {};
  if (path.empty() || ::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileIdentity{static_cast<std::uint64_t>(st.st_dev), static_cast<std::uint64_t>(st.st_ino)};
}

}  // namespace

std::string output_gone(const MasterSetup& s) {
  const std::string& path = s.config.append_row_file;
  if (!s.output_identity) return "";
  const std::optional<FileIdentity> now = identity_of(path);
  if (now && *now == *s.output_identity) return "";
  return path + (now ? " was replaced by another file" : " was removed") +
         " while the job ran: rows its workers wrote went into the file that was there; --resume checks the rows "
         "written and writes the missing ones again";
}

void finish_start(const CliOptions& cli, MasterSetup& s) {
  finish_partition(s);
  const PlanFingerprint plan = s.feed ? s.feed->plan() : fingerprint(s);
  end_phase(s, "partition and fingerprint");
  ResumePoint point;
  if (cli.resume) {
    point = prepare_resume(s.config, plan, s.partition->batch_count(), cli.retry_failed, prefix_plan(s, plan),
                           s.feed.has_value());
    s.journal = std::move(point.state);
    s.output_size = point.output_size;
    s.finished = !s.feed && all_ended(s.journal);  // a listing that goes on may bring more
    print_resume_repairs(point);
  } else {
    check_previous_run(cli, s.config, plan, true);  // again, now under the lock; --overwrite removes here
    create_fresh_output(s.config);
    s.output_created = true;
    s.journal = fresh_journal(plan, s.partition->batch_count());
    s.journal.listing_open = s.feed.has_value();  // its first mini-batches: planned records follow as it lists
  }
  if (s.finished) return;
  s.output_identity = identity_of(s.config.append_row_file);
  s.logs.emplace(s.config.log_dir, cli.resume);
  if (cli.resume) s.logs->master_note(check_note(point));
  s.journal_writer = JournalWriter::create(journal_path(s.config), s.journal);
  end_phase(s, "journal and logs");
}

void plan_only(MasterSetup& s) {
  list_and_partition(s);
  if (s.index) run_index_serial(*s.index, *s.table);
  finish_partition(s);
}

// A folder this job created may hold another job's output, journal and logs: two jobs started together on one
// output, the other took the lock after this one made the folder, ran, and let it go, and this one then refused
// the output the other wrote. Those stay (only this job's lock file and the folders left empty go); otherwise the
// folders go whole, with the logs this job's workers wrote in them.
void remove_created_folders(const MasterSetup& s) {
  const JobConfig& c = s.config;
  const bool another_job_wrote = !s.output_created && (output_there(c) || there(journal_path(c)));
  std::error_code ec;
  for (auto it = s.created_folders.rbegin(); it != s.created_folders.rend(); ++it) {
    if (another_job_wrote) {
      remove_job_folder(*it, {job_lock_path(c.log_dir)});
      continue;
    }
    fs::remove_all(*it, ec);
    if (ec) std::cerr << "prs_mpi: warning: " << *it << ": cannot remove the folder this job created: " << ec.message()
                      << std::endl;
  }
}

void order_if_asked(const MasterSetup& setup) {
  const JobConfig& config = setup.config;
  if (!config.ordered || config.append_row_file.empty() || !config.h5_file.empty()) return;  // a .h5 build orders
  const std::string journal = journal_path(config);
  order_output(config.append_row_file, journal, read_journal(journal, setup.partition->batch_count()));
}

}  // namespace prs::app_detail
