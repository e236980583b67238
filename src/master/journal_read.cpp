// The journal's reader. Nothing in the file is trusted: a malformed byte anywhere is "the journal is damaged", and
// nothing is sized by a count the file gives.
#include "prs/master/journal.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <limits>
#include <unordered_map>
#include <utility>

#include "journal_format.hpp"
#include "prs/error.hpp"

namespace prs {

namespace {

using namespace journal_format;

// Thrown for any malformed byte: becomes "<path>: the journal is damaged (what)".
struct Damaged {
  std::string what;
};

std::string damaged_message(const std::string& path, const std::string& what) {
  return path + ": the journal is damaged (" + what + "); remove it with --overwrite to start again";
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

// The magic: this version's, another version's (refused, saying which way), or not a journal.
void check_magic(const std::string& in, const std::string& path) {
  if (std::memcmp(in.data(), kMagic, std::min(in.size(), kMagicStem)) != 0)
    throw Error(path + ": not a prs_mpi journal");
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

// Applies the planned records to what the header says: the plan grows (never shrinks) while its listing goes on.
// A record that does not match its checksum is damage, unless it is the torn last one.
void apply_plans(const std::string& in, std::size_t pos, JournalHeader& h) {
  for (std::uint64_t n = 0; in.size() - pos >= kRecord; pos += kRecord, ++n) {
    std::uint32_t expected;
    std::memcpy(&expected, in.data() + pos + kRecord - 4, 4);
    if (!sum_matches(in.data() + pos, kRecord - 4, expected)) {
      if (pos + kRecord != in.size()) throw Damaged{"record " + std::to_string(n) + " does not match its checksum"};
      return;
    }
    Cursor r(in, pos, pos + kRecord, "a record");
    if (r.get<std::uint8_t>() != kPlanned) continue;
    const auto flags = r.get<std::uint8_t>();
    r.get<std::uint16_t>();
    r.get<std::uint32_t>();
    const auto batches = r.get<std::uint64_t>();
    if (batches < h.batch_count)
      throw Damaged{"record " + std::to_string(n) + ": the plan shrinks from " + std::to_string(h.batch_count) +
                    " to " + std::to_string(batches) + " mini-batches"};
    h.batch_count = batches;
    h.plan.listing = r.get<std::uint64_t>();
    h.listing_open = flags & kListingOpen;
  }
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
  if (kind == kPlanned) {  // checked against the job's count and the plan so far by apply_plans
    if (flags & ~kListingOpen) throw Damaged{"unknown flags " + std::to_string(flags)};
    s.planned = batch;
    return;
  }
  if (flags & ~(kSucceeded | kWithHeader)) throw Damaged{"unknown flags " + std::to_string(flags)};
  if (batch >= s.planned)  // a batch is dispatched only once a plan names it
    throw Damaged{"it names mini-batch " + std::to_string(batch) + " of " + std::to_string(s.planned)};
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
      if (pos + kRecord != in.size())
        throw Damaged{"record " + std::to_string(s.records) + " does not match its checksum"};
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

}  // namespace

JournalHeader parse_journal_header(const std::string& bytes, const std::string& name) {
  JournalHeader h;
  try {
    apply_plans(bytes, decode_header(bytes, h, name), h);
  } catch (const Damaged& d) {
    throw Error(damaged_message(name, d.what));
  }
  return h;
}

JournalState parse_journal(const std::string& bytes, std::uint64_t batch_count, const std::string& name) {
  try {
    JournalHeader h;
    const std::size_t pos = decode_header(bytes, h, name);
    JournalHeader plan = h;
    apply_plans(bytes, pos, plan);
    if (plan.listing_open ? plan.batch_count > batch_count : plan.batch_count != batch_count)
      throw Damaged{"it names " + std::to_string(plan.batch_count) + " mini-batches, the job has " +
                    std::to_string(batch_count)};
    JournalState s = fresh_journal(plan.plan, batch_count);  // sized by the job's count, never the file's
    s.pending = h.pending;
    s.planned = h.batch_count;  // grows with each planned record as the records are read
    s = decode_records(bytes, pos, std::move(s));
    s.listing_open = plan.listing_open;
    return s;
  } catch (const Damaged& d) {
    throw Error(damaged_message(name, d.what));
  }
}

JournalHeader read_journal_header(const std::string& path) {
  return parse_journal_header(read_all(path, std::numeric_limits<std::uint64_t>::max()), path);  // planned records too
}

JournalState read_journal(const std::string& path, std::uint64_t batch_count) {
  return parse_journal(read_all(path, std::numeric_limits<std::uint64_t>::max()), batch_count, path);
}

}  // namespace prs
