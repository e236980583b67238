// A folder listing released in sorted prefixes while it goes on (listing_stream.hpp).
#include "prs/input/listing_stream.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <vector>

#include "prs/error.hpp"
#include "prs/input/folder_walk.hpp"

namespace fs = std::filesystem;

namespace prs {

namespace {

// Thrown in the walk's thread when the stream is destroyed before the walk ended.
struct Cancelled {};

std::uint64_t env_number(const char* name) {
  const char* text = std::getenv(name);
  return text == nullptr ? 0 : std::strtoull(text, nullptr, 10);
}

// The paths found and not yet released, smallest on top of a heap of their indices in the walk's list.
class Unreleased {
 public:
  explicit Unreleased(const FileList& found) : found_(found) {}
  // Moves to out, in order, every path found that sorts before frontier (every one when frontier is nullptr).
  void release(const std::string* frontier, FileList& out) {
    const auto after = [this](std::uint64_t a, std::uint64_t b) { return found_.at(a) > found_.at(b); };
    for (; seen_ < found_.size(); ++seen_) {
      heap_.push_back(seen_);
      std::push_heap(heap_.begin(), heap_.end(), after);
    }
    while (!heap_.empty() && (frontier == nullptr || found_.at(heap_.front()) < *frontier)) {
      out.add(found_.at(heap_.front()), found_.stamp(heap_.front()));
      std::pop_heap(heap_.begin(), heap_.end(), after);
      heap_.pop_back();
    }
  }

 private:
  const FileList& found_;
  std::vector<std::uint64_t> heap_;
  std::uint64_t seen_ = 0;  // paths of found_ pushed on the heap
};

}  // namespace

bool input_streams(const JobConfig& config) {
  return config.input_kind != InputKind::mltable && config.partition_keys.empty() &&
         (config.input_form == InputForm::folder || config.input_form == InputForm::file);
}

ListingStream::ListingStream(const JobConfig& config, std::uint64_t hold_after)
    : hold_after_(hold_after), thread_([this, config] { walk(config); }) {}

ListingStream::~ListingStream() {
  cancel_ = true;
  thread_.join();
}

bool ListingStream::wait_for(std::uint64_t paths) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait(lock, [&] { return ended_ || released_ >= paths; });
  return ended_;
}

bool ListingStream::take(FileList& files) {
  std::lock_guard<std::mutex> lock(mutex_);
  for (std::size_t i = 0; i < chunk_.size(); ++i) files.add(chunk_.at(i), chunk_.stamp(i));
  if (ended_ && !error_)
    for (const SkippedPath& s : chunk_.skipped()) files.add_skipped(s.path, s.problem);
  chunk_ = FileList();
  if (ended_ && error_) std::rethrow_exception(error_);
  return ended_;
}

// Hands a sorted run of paths over; the outputs are checked as the whole listing would check them.
void ListingStream::publish(FileList& out, const JobConfig& config) {
  check_outputs_not_listed(config, out);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < out.size(); ++i) chunk_.add(out.at(i), out.stamp(i));
    released_ += out.size();
  }
  out = FileList();
  changed_.notify_all();
  hold_if_asked();
}

// Tests only: once hold_after_ paths are out, waits for PRS_TEST_LISTING_HOLD's file (at most 60 s).
void ListingStream::hold_if_asked() {
  const char* gate = std::getenv("PRS_TEST_LISTING_HOLD");
  if (held_ || gate == nullptr || *gate == '\0' || hold_after_ == 0) return;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (released_ < hold_after_) return;
  }
  held_ = true;
  std::error_code ec;
  for (int i = 0; i < 6000 && !fs::exists(gate, ec); ++i) {
    if (cancel_) throw Cancelled{};
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

// The thread: list_input_files(path, rules) released in prefixes, with its errors and its skipped paths.
void ListingStream::walk(const JobConfig& config) {
  const auto start = std::chrono::steady_clock::now();
  std::exception_ptr error;
  FileList last, skipped;  // the paths after the last folder's frontier, and the skipped ones
  try {
    const std::string& root = config.input_path;
    const std::uint64_t delay = env_number("PRS_TEST_LISTING_DELAY_US");
    FileList found, out;
    Unreleased unreleased(found);
    struct stat st {};
    if (::stat(root.c_str(), &st) == 0 && S_ISREG(st.st_mode)) {
      found.add(root, stamp_of(st));
    } else {
      input_detail::WalkFilter filter;
      filter.take = [&](std::string_view) {
        if (cancel_) throw Cancelled{};
        if (delay > 0) std::this_thread::sleep_for(std::chrono::microseconds(delay));
        return true;
      };
      if (env_number("PRS_TEST_LISTING_PER_FOLDER") > 0) filter.frontier_every = 0;  // as before: whole folders
      filter.frontier = [&](const std::string* frontier) {
        if (frontier == nullptr) return;  // the walk ends: the last paths go out with the end itself (below)
        unreleased.release(frontier, out);
        if (out.size() > 0) publish(out, config);
      };
      input_detail::walk_folder(root, job_rules(config, true), filter, found);
      if (found.size() == 0)
        throw Error(root + ": the input folder holds no file" +
                    (found.skipped().empty() ? "" : "; " + skipped_paths_line(found)));
    }
    unreleased.release(nullptr, out);
    check_outputs_not_listed(config, out);
    last = std::move(out);
    for (const SkippedPath& s : found.skipped()) skipped.add_skipped(s.path, s.problem);
    skipped.sort();  // sorts the skipped paths as list_input_files does
  } catch (const Cancelled&) {
  } catch (...) {
    error = std::current_exception();
  }
  seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  {  // with the end, at once: the paths after the last frontier (the last folder's last ones)
    std::lock_guard<std::mutex> lock(mutex_);
    for (std::size_t i = 0; i < last.size(); ++i) chunk_.add(last.at(i), last.stamp(i));
    released_ += last.size();
    for (const SkippedPath& s : skipped.skipped()) chunk_.add_skipped(s.path, s.problem);
    error_ = error;
    ended_ = true;
  }
  changed_.notify_all();
}

}  // namespace prs
