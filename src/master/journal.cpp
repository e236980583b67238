#include "prs/master/journal.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <unordered_map>
#include <chrono>
#include <cstring>
#include <limits>
#include <utility>

#include "prs/error.hpp"
#include "prs/output/checksum.hpp"

namespace prs {

namespace {

// "PRSJRNL" and the format version: 2 added the checksum of a batch's bytes to its ended record.
constexpr char kMagic[8] = {'P', 'R', 'S', 'J', 'R', 'N', 'L', '2'};
constexpr std::size_t kMagicStem = 7;  // "PRSJRNL": the same in every version
constexpr std::size_t kPrefix = 16;  // magic, body length, body checksum
constexpr std::uint64_t kMaxTail = 1 << 16;  // a pending rewrite's tail path, in bytes
constexpr std::uint64_t kMaxBody = 8 * 6 + 1 + 4 + kMaxTail;  // counts, plan, pending, tail
constexpr std::size_t kRecord = 52;  // 48 bytes of fields, 4 of checksum (encode_record)
enum Kind : std::uint8_t { kDispatched = 1, kAbandoned = 2, kEnded = 3, kResulted = 4 };
enum Flag : std::uint8_t { kSucceeded = 1, kWithHeader = 2 };

std::uint32_t sum(const char* data, std::size_t n) { return crc32c_extend(0, data, n); }

// A stored checksum matches the bytes. A fuzzing build (tests/fuzz) accepts any, so that mutated headers and records
// reach the checks behind it (the usual FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION convention).
bool sum_matches(const char* data, std::size_t n, std::uint32_t stored) {
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
  (void)data, (void)n, (void)stored;
  return true;
#else
  return sum(data, n) == stored;
#endif
}

// Thrown for any malformed byte: becomes "<path>: the journal is damaged (what)".
struct Damaged {
  std::string what;
};

std::string damaged_message(const std::string& path, const std::string& what) {
  return path + ": the journal is damaged (" + what + "); remove it with --overwrite to start again";
}

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

// Reads fixed-size values from [pos, end) of a buffer; a read past end is damage.
class Cursor {
 public:
  Cursor(const std::string& in, std::size_t pos, std::size_t end, const char* what)
      : in_(in), pos_(pos), end_(end), what_(what) {}
  template <typename T>
  T get() {
    T v;
    take(sizeof v);
    std::memcpy(&v, in_.data() + pos_ - sizeof v, sizeof v);
    return v;
  }
  std::string bytes(std::uint64_t n) {
    take(n);
    return in_.substr(pos_ - n, n);
  }
  std::size_t left() const { return end_ - pos_; }

 private:
  void take(std::uint64_t n) {
    if (n > end_ - pos_) throw Damaged{std::string(what_) + " is truncated"};
    pos_ += n;
  }
  const std::string& in_;
  std::size_t pos_, end_;
  const char* what_;
};

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

// The magic: this version's, another version's (refused, saying which way), or not a journal.
void check_magic(const std::string& in, const std::string& path) {
  if (std::memcmp(in.data(), kMagic, std::min(in.size(), kMagicStem)) != 0) throw Error(path + ": not a prs_mpi journal");
  if (in.empty()) throw Damaged{"the file is empty"};
  if (in.size() < sizeof kMagic) throw Damaged{"the header is truncated"};
  char version = in[kMagicStem];
  if (version == kMagic[kMagicStem]) return;
  if (version < '1' || version > '9') throw Error(path + ": not a prs_mpi journal");
  std::string older = version < kMagic[kMagicStem] ? "an older" : "a newer";
  throw Error(path + ": the journal was written by " + older +
              " prs_mpi; resume it with that version or use --overwrite");
}

// Parses the header; returns the offset of the first record. Every length is checked against the bytes present.
std::size_t decode_header(const std::string& in, JournalHeader& h, const std::string& path) {
  check_magic(in, path);
  Cursor prefix(in, sizeof kMagic, in.size(), "the header");
  auto len = prefix.get<std::uint32_t>();
  auto expected = prefix.get<std::uint32_t>();
  if (len > kMaxBody) throw Damaged{"the header says " + std::to_string(len) + " bytes, more than a header holds"};
  if (len > prefix.left())
    throw Damaged{"the header says " + std::to_string(len) + " bytes, " + std::to_string(prefix.left()) +
                  " are left in the file"};
  if (!sum_matches(in.data() + kPrefix, len, expected)) throw Damaged{"the header checksum does not match"};
  Cursor body(in, kPrefix, kPrefix + len, "the header");
  h.batch_count = body.get<std::uint64_t>();
  h.plan.listing = body.get<std::uint64_t>();
  h.plan.partition = body.get<std::uint64_t>();
  h.plan.output = body.get<std::uint64_t>();
  h.plan.script = body.get<std::uint64_t>();
  auto pending = body.get<std::uint8_t>();
  auto truncate_to = body.get<std::uint64_t>();
  auto tail_len = body.get<std::uint32_t>();
  if (pending > 1 || (pending == 0 && tail_len != 0)) throw Damaged{"the header's pending rewrite is malformed"};
  if (tail_len != body.left())
    throw Damaged{"the header's tail path says " + std::to_string(tail_len) + " bytes, " +
                  std::to_string(body.left()) + " are left in the header"};
  std::string tail = body.bytes(tail_len);
  if (pending) h.pending = PendingRewrite{truncate_to, tail};
  return kPrefix + len;
}

std::string encode_record(std::uint8_t kind, std::uint64_t batch, const BatchEnd& e) {
  std::string r;
  put(r, kind);
  put<std::uint8_t>(r, (e.succeeded ? kSucceeded : 0) | (e.with_header ? kWithHeader : 0));
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

// Attempts sent and not answered, per worker in the order sent: only the oldest was running.
struct Unanswered {
  std::unordered_map<std::uint64_t, std::deque<std::pair<std::uint64_t, std::uint32_t>>> by_worker;
  std::unordered_map<std::uint64_t, std::uint64_t> worker_of;  // batch -> the worker its open attempt went to

  void sent(std::uint64_t worker, std::uint64_t batch, std::uint32_t attempt) {
    by_worker[worker].emplace_back(batch, attempt);
    worker_of[batch] = worker;
  }
  void answered(std::uint64_t batch) {
    auto owner = worker_of.find(batch);
    if (owner == worker_of.end()) return;
    auto& queue = by_worker[owner->second];
    auto it = std::find_if(queue.begin(), queue.end(), [&](const auto& e) { return e.first == batch; });
    if (it != queue.end()) queue.erase(it);  // always found, unless the journal is damaged
    worker_of.erase(owner);
  }
  // Attempts queued behind a running one never started: they do not count.
  void uncount_queued(JournalState& s) const {
    for (const auto& [worker, queue] : by_worker)
      for (std::size_t i = 1; i < queue.size(); ++i)
        s.tries[queue[i].first] = std::min(s.tries[queue[i].first], queue[i].second - 1);
  }
};

// An ended record's region must make sense before resume copies or checks bytes by it.
void check_end(const BatchEnd& e) {
  if (e.length > std::numeric_limits<std::uint64_t>::max() - e.offset) throw Damaged{"its region overflows"};
  if (e.header_length > e.length || (!e.with_header && e.header_length != 0))
    throw Damaged{"its header length " + std::to_string(e.header_length) + " does not fit its region"};
  if (e.length == 0 && e.checksum != 0) throw Damaged{"an empty region has a checksum"};
}

void apply_record(const std::string& in, std::size_t pos, JournalState& s, Unanswered& open) {
  Cursor r(in, pos, pos + kRecord, "a record");
  auto kind = r.get<std::uint8_t>();
  auto flags = r.get<std::uint8_t>();
  r.get<std::uint16_t>();
  BatchEnd e;
  e.attempts = r.get<std::uint32_t>();
  auto batch = r.get<std::uint64_t>();
  e.offset = r.get<std::uint64_t>();
  e.length = r.get<std::uint64_t>();
  e.items_ok = r.get<std::uint64_t>();
  e.header_length = r.get<std::uint32_t>();
  e.checksum = r.get<std::uint32_t>();
  e.succeeded = flags & kSucceeded;
  e.with_header = flags & kWithHeader;
  if (flags & ~(kSucceeded | kWithHeader)) throw Damaged{"unknown flags " + std::to_string(flags)};
  if (batch >= s.batch_count)
    throw Damaged{"it names mini-batch " + std::to_string(batch) + " of " + std::to_string(s.batch_count)};
  if (kind == kDispatched) {
    if (e.attempts == 0) throw Damaged{"a dispatched attempt numbered 0"};
    s.tries[batch] = std::max(s.tries[batch], e.attempts);
    open.sent(e.offset, batch, e.attempts);  // offset holds the worker's rank
    return;
  }
  if (kind != kResulted && kind != kAbandoned && kind != kEnded) throw Damaged{"unknown kind " + std::to_string(kind)};
  if (kind == kAbandoned && s.tries[batch] > 0) --s.tries[batch];
  if (kind == kEnded) {
    check_end(e);
    s.ended[batch] = e;
  }
  open.answered(batch);
}

JournalState decode_records(const std::string& in, std::size_t pos, JournalState s) {
  Unanswered open;
  for (; in.size() - pos >= kRecord; pos += kRecord) {
    std::uint32_t expected;
    std::memcpy(&expected, in.data() + pos + kRecord - 4, 4);
    if (!sum_matches(in.data() + pos, kRecord - 4, expected)) {
      if (pos + kRecord != in.size()) throw Damaged{"record " + std::to_string(s.records) + " does not match its checksum"};
      s.torn_tail = true;
      break;
    }
    try {
      apply_record(in, pos, s, open);
    } catch (const Damaged& d) {
      throw Damaged{"record " + std::to_string(s.records) + ": " + d.what};
    }
    ++s.records;
  }
  s.torn_tail = s.torn_tail || pos != in.size();
  open.uncount_queued(s);
  return s;
}

// The file's first `limit` bytes (all of it when shorter).
std::string read_all(const std::string& path, std::uint64_t limit) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw Error(path + ": cannot read the journal: " + std::strerror(errno));
  std::string out;
  char buf[1 << 16];
  while (out.size() < limit) {
    ssize_t n = ::read(fd, buf, std::min<std::uint64_t>(sizeof buf, limit - out.size()));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      ::close(fd);
      throw Error(path + ": cannot read the journal: " + std::strerror(e));
    }
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
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
  s.tries.assign(batch_count, 0);
  s.ended.assign(batch_count, std::nullopt);
  return s;
}

JournalHeader parse_journal_header(const std::string& bytes, const std::string& name) {
  JournalHeader h;
  try {
    decode_header(bytes, h, name);
  } catch (const Damaged& d) {
    throw Error(damaged_message(name, d.what));
  }
  return h;
}

JournalState parse_journal(const std::string& bytes, std::uint64_t batch_count, const std::string& name) {
  try {
    JournalHeader h;
    std::size_t pos = decode_header(bytes, h, name);
    if (h.batch_count != batch_count)
      throw Damaged{"it names " + std::to_string(h.batch_count) + " mini-batches, the job has " +
                    std::to_string(batch_count)};
    JournalState s = fresh_journal(h.plan, batch_count);  // sized by the job's count, never the file's
    s.pending = h.pending;
    return decode_records(bytes, pos, std::move(s));
  } catch (const Damaged& d) {
    throw Error(damaged_message(name, d.what));
  }
}

JournalHeader read_journal_header(const std::string& path) {
  return parse_journal_header(read_all(path, kPrefix + kMaxBody), path);
}

JournalState read_journal(const std::string& path, std::uint64_t batch_count) {
  return parse_journal(read_all(path, std::numeric_limits<std::uint64_t>::max()), batch_count, path);
}

JournalWriter JournalWriter::create(const std::string& path, const JournalState& state) {
  std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw Error(tmp + ": cannot create the journal: " + std::strerror(errno));
  JournalWriter w;
  w.fd_ = fd;
  w.path_ = path;
  w.buffer_ = encode_header(state);
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
