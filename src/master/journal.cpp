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
#include <fstream>
#include <sstream>
#include <utility>

#include "prs/error.hpp"

namespace prs {

namespace {

constexpr char kMagic[8] = {'P', 'R', 'S', 'J', 'R', 'N', 'L', '1'};
constexpr std::size_t kRecord = 48;  // 44 bytes of fields, 4 of checksum (encode_record)
enum Kind : std::uint8_t { kDispatched = 1, kAbandoned = 2, kEnded = 3, kResulted = 4 };
enum Flag : std::uint8_t { kSucceeded = 1, kWithHeader = 2 };

std::uint32_t fnv1a(const char* data, std::size_t n) {
  std::uint32_t h = 2166136261u;
  for (std::size_t i = 0; i < n; ++i) h = (h ^ static_cast<unsigned char>(data[i])) * 16777619u;
  return h;
}

template <typename T>
void put(std::string& out, T v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

template <typename T>
T get(const std::string& in, std::size_t& pos) {
  T v;
  if (pos + sizeof v > in.size()) throw Error("journal header is truncated");
  std::memcpy(&v, in.data() + pos, sizeof v);
  pos += sizeof v;
  return v;
}

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
  put<std::uint32_t>(body, static_cast<std::uint32_t>(tail.size()));
  body += tail;
  std::string out(kMagic, sizeof kMagic);
  put<std::uint32_t>(out, static_cast<std::uint32_t>(body.size()));
  put<std::uint32_t>(out, fnv1a(body.data(), body.size()));
  return out + body;
}

// Parses the header; returns the offset of the first record.
std::size_t decode_header(const std::string& in, JournalState& s, const std::string& path) {
  if (in.size() < 16 || std::memcmp(in.data(), kMagic, sizeof kMagic) != 0)
    throw Error(path + ": not a prs_mpi journal");
  std::size_t pos = 8;
  auto len = get<std::uint32_t>(in, pos);
  auto sum = get<std::uint32_t>(in, pos);
  if (in.size() < 16 + len || fnv1a(in.data() + 16, len) != sum) throw Error(path + ": the journal header is damaged");
  s.batch_count = get<std::uint64_t>(in, pos);
  s.plan.listing = get<std::uint64_t>(in, pos);
  s.plan.partition = get<std::uint64_t>(in, pos);
  s.plan.output = get<std::uint64_t>(in, pos);
  s.plan.script = get<std::uint64_t>(in, pos);
  bool pending = get<std::uint8_t>(in, pos) != 0;
  auto truncate_to = get<std::uint64_t>(in, pos);
  auto tail_len = get<std::uint32_t>(in, pos);
  if (pending) s.pending = PendingRewrite{truncate_to, in.substr(pos, tail_len)};
  return 16 + len;
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
  put(r, fnv1a(r.data(), r.size()));
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
    queue.erase(std::find_if(queue.begin(), queue.end(), [&](const auto& e) { return e.first == batch; }));
    worker_of.erase(owner);
  }
  // Attempts queued behind a running one never started: they do not count.
  void uncount_queued(JournalState& s) const {
    for (const auto& [worker, queue] : by_worker)
      for (std::size_t i = 1; i < queue.size(); ++i)
        s.tries[queue[i].first] = std::min(s.tries[queue[i].first], queue[i].second - 1);
  }
};

void apply_record(const std::string& in, std::size_t pos, JournalState& s, Unanswered& open, const std::string& path) {
  auto kind = get<std::uint8_t>(in, pos);
  auto flags = get<std::uint8_t>(in, pos);
  pos += 2;
  BatchEnd e;
  e.attempts = get<std::uint32_t>(in, pos);
  auto batch = get<std::uint64_t>(in, pos);
  e.offset = get<std::uint64_t>(in, pos);
  e.length = get<std::uint64_t>(in, pos);
  e.items_ok = get<std::uint64_t>(in, pos);
  e.header_length = get<std::uint32_t>(in, pos);
  e.succeeded = flags & kSucceeded;
  e.with_header = flags & kWithHeader;
  if (batch >= s.batch_count) throw Error(path + ": journal names mini-batch " + std::to_string(batch) + " of " +
                                          std::to_string(s.batch_count));
  if (kind == kDispatched) {
    s.tries[batch] = std::max(s.tries[batch], e.attempts);
    open.sent(e.offset, batch, e.attempts);  // offset holds the worker's rank
    return;
  }
  if (kind == kAbandoned && s.tries[batch] > 0) --s.tries[batch];
  else if (kind == kEnded) s.ended[batch] = e;
  else if (kind != kResulted && kind != kAbandoned)
    throw Error(path + ": journal record of unknown kind " + std::to_string(kind));
  open.answered(batch);
}

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(path + ": cannot read the journal: " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
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

JournalState read_journal(const std::string& path) {
  std::string in = read_all(path);
  JournalState s;
  std::size_t pos = decode_header(in, s, path);
  s.tries.assign(s.batch_count, 0);
  s.ended.assign(s.batch_count, std::nullopt);
  Unanswered open;
  for (; pos + kRecord <= in.size(); pos += kRecord) {
    std::uint32_t sum;
    std::memcpy(&sum, in.data() + pos + kRecord - 4, 4);
    if (fnv1a(in.data() + pos, kRecord - 4) != sum) {
      if (pos + kRecord != in.size()) throw Error(path + ": journal record " + std::to_string(s.records) + " is damaged");
      s.torn_tail = true;
      break;
    }
    apply_record(in, pos, s, open, path);
    ++s.records;
  }
  s.torn_tail = s.torn_tail || pos != in.size();
  open.uncount_queued(s);
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
  for (std::uint64_t b = 0; b < state.batch_count; ++b) {
    if (state.tries[b] > 0) {
      w.dispatched(b, state.tries[b], -1);
      w.resulted(b);
    }
    if (state.ended[b]) w.ended(b, *state.ended[b]);
  }
  w.flush();
  if (::fsync(fd) != 0 || ::rename(tmp.c_str(), path.c_str()) != 0)
    throw Error(path + ": cannot create the journal: " + std::strerror(errno));
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
