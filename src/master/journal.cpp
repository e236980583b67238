#include "prs/master/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

#include "journal_format.hpp"
#include "prs/error.hpp"

namespace prs {

namespace {

using namespace journal_format;

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string encode_header(const JournalState& s) {
  std::string body;
  put(body, s.batch_count);
  for (std::uint64_t v : {s.plan.listing, s.plan.partition, s.plan.output, s.plan.script}) put(body, v);
  put<std::uint8_t>(body, s.pending.has_value());
  put<std::uint64_t>(body, s.pending ? s.pending->truncate_to : 0);
  std::string tail = s.pending ? s.pending->tail : "";
  if (tail.size() > kMaxTail) throw Error(tail + ": the path is too long for the journal");
  put<std::uint32_t>(body, static_cast<std::uint32_t>(tail.size()));
  body += tail;
  std::string out(kMagic, sizeof kMagic);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(body.size()));
  put<std::uint32_t>(out, sum(body.data(), body.size()));
  return out + body;
}

std::string encode_record(std::uint8_t kind, std::uint64_t batch, const BatchEnd& e, std::uint8_t more = 0) {
  std::string r;
  put(r, kind);
  put<std::uint8_t>(r, (e.succeeded ? kSucceeded : 0) | (e.with_header ? kWithHeader : 0) | more);
  put<std::uint16_t>(r, 0);
  put(r, e.attempts);
  put(r, batch);
  put(r, e.offset);
  put(r, e.length);
  put(r, e.items_ok);
  put(r, e.header_length);
  put(r, e.checksum);
  put(r, sum(r.data(), r.size()));
  return r;
}

void write_all(int fd, const std::string& bytes, const std::string& path) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw Fatal(path + ": cannot write the journal: " + std::strerror(errno));
    done += static_cast<std::size_t>(n);
  }
}

}  // namespace

JournalState fresh_journal(const PlanFingerprint& plan, std::uint64_t batch_count) {
  JournalState s;
  s.plan = plan;
  s.batch_count = batch_count;
  s.planned = batch_count;
  s.tries.assign(batch_count, 0);
  s.ended.assign(batch_count, std::nullopt);
  return s;
}

JournalWriter JournalWriter::create(const std::string& path, const JournalState& state) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(tmp + ": cannot create the journal: " + std::strerror(errno));
  JournalWriter w;
  w.fd_ = fd;
  w.path_ = path;
  w.buffer_ = encode_header(state);
  if (state.listing_open) w.planned(state.batch_count, state.plan.listing, true);
  for (std::uint64_t b = 0; b < state.batch_count; ++b) {
    if (state.tries[b] > 0) {
      w.dispatched(b, state.tries[b], -1);
      w.resulted(b);
    }
    if (state.ended[b]) w.ended(b, *state.ended[b]);
  }
  try {
    w.flush();
    if (::fsync(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0)
      throw Fatal(path + ": cannot create the journal: " + std::strerror(errno));
  } catch (const Fatal& e) {  // before the job starts, a full or read-only logs folder is the user's to fix
    w.buffer_.clear();
    ::unlink(tmp.c_str());
    throw Error(e.what());
  }
  w.last_sync_ = now_seconds();
  return w;
}

JournalWriter::JournalWriter(JournalWriter&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      path_(std::move(o.path_)),
      buffer_(std::move(o.buffer_)),
      written_(o.written_),
      last_sync_(o.last_sync_),
      seconds_(o.seconds_) {}

JournalWriter& JournalWriter::operator=(JournalWriter&& o) noexcept {
  std::swap(fd_, o.fd_);
  std::swap(path_, o.path_);
  std::swap(buffer_, o.buffer_);
  std::swap(written_, o.written_);
  std::swap(last_sync_, o.last_sync_);
  std::swap(seconds_, o.seconds_);
  return *this;
}

JournalWriter::~JournalWriter() {
  if (fd_ < 0) return;
  try {
    flush();
    ::fsync(fd_);
  } catch (...) {  // a destructor never throws
  }
  ::close(fd_);
}

void JournalWriter::add(std::uint8_t kind, std::uint64_t batch, const BatchEnd& end) {
  buffer_ += encode_record(kind, batch, end);
}

void JournalWriter::dispatched(std::uint64_t batch, std::uint32_t attempt, int worker) {
  BatchEnd e;
  e.attempts = attempt;
  e.offset = static_cast<std::uint64_t>(worker);
  add(kDispatched, batch, e);
}

void JournalWriter::resulted(std::uint64_t batch) { add(kResulted, batch, BatchEnd{}); }

void JournalWriter::abandoned(std::uint64_t batch) { add(kAbandoned, batch, BatchEnd{}); }

void JournalWriter::ended(std::uint64_t batch, const BatchEnd& end) { add(kEnded, batch, end); }

void JournalWriter::planned(std::uint64_t batches, std::uint64_t listing, bool listing_open) {
  BatchEnd e;
  e.offset = listing;
  buffer_ += encode_record(kPlanned, batches, e, listing_open ? kListingOpen : 0);
}

void JournalWriter::sync() {
  if (fd_ < 0) return;
  flush();
  const double t0 = now_seconds();
  if (::fdatasync(fd_) != 0) throw Fatal(path_ + ": cannot sync the journal: " + std::strerror(errno));
  last_sync_ = now_seconds();
  seconds_ += last_sync_ - t0;
}

void JournalWriter::flush() {
  if (buffer_.empty() || fd_ < 0) return;
  double t0 = now_seconds();
  write_all(fd_, buffer_, path_);
  written_ += buffer_.size();
  buffer_.clear();
  seconds_ += now_seconds() - t0;
}

void JournalWriter::sync_if_due(double interval_seconds) {
  double now = now_seconds();
  if (fd_ < 0 || now - last_sync_ < interval_seconds) return;
  flush();
  ::fdatasync(fd_);
  last_sync_ = now_seconds();
  seconds_ += last_sync_ - now;
}

void finish_pending_rewrite(const std::string& output, const PendingRewrite& pending) {
  int tail = ::open(pending.tail.c_str(), O_RDONLY | O_CLOEXEC);
  if (tail < 0 && errno == ENOENT) return;  // done before: the tail is removed last
  if (tail < 0) throw Error(pending.tail + ": cannot read: " + std::strerror(errno));
  int out = ::open(output.c_str(), O_WRONLY | O_CLOEXEC);
  if (out < 0 || ::ftruncate(out, static_cast<off_t>(pending.truncate_to)) != 0 ||
      ::lseek(out, 0, SEEK_END) < 0) {
    int e = errno;
    ::close(tail);
    if (out >= 0) ::close(out);
    throw Error(output + ": cannot rewrite the output for --resume: " + std::strerror(e));
  }
  char buf[1 << 16];
  for (ssize_t n; (n = ::read(tail, buf, sizeof buf)) > 0;) write_all(out, std::string(buf, n), output);
  ::fsync(out);
  ::close(out);
  ::close(tail);
  ::unlink(pending.tail.c_str());
}

}  // namespace prs
