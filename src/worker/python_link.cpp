#include "prs/worker/python_link.hpp"

#include <malloc.h>
#include <fcntl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iterator>
#include <string_view>

#include "prs/error.hpp"
#include "prs/mpi/byte_codec.hpp"
#include "prs/mpi/protocol.hpp"

namespace prs {

namespace {

constexpr std::size_t kFrameHead = kFrameHeadBytes;

bool write_all(int fd, const char* data, std::size_t n) {
  while (n > 0) {
    ssize_t w = ::write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    data += w;
    n -= static_cast<std::size_t>(w);
  }
  return true;
}

// Reads exactly n bytes; false at end of file before the first byte, throws on a torn read.
bool read_all(int fd, char* data, std::size_t n) {
  std::size_t got = 0;
  while (got < n) {
    ssize_t r = ::read(fd, data + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw Fatal(std::string("python link: read failed: ") + std::strerror(errno));
    if (r == 0) {
      if (got == 0) return false;
      throw Fatal("python link: the other end closed in the middle of a frame");
    }
    got += static_cast<std::size_t>(r);
  }
  return true;
}

bool known_kind(std::uint8_t k) {
  return k >= static_cast<std::uint8_t>(LinkKind::init) && k <= static_cast<std::uint8_t>(LinkKind::slot_outcome);
}

}  // namespace

// The head, the body and its tail in one writev (one wake-up of the reader for a small frame, no copy of a big
// body into a frame buffer), what a full pipe left over as further writevs.
bool write_frame(int fd, LinkKind kind, std::string_view body, std::string_view tail) {
  char head[kFrameHead];
  std::uint64_t n = body.size() + tail.size();
  std::memcpy(head, &n, sizeof n);
  head[sizeof n] = static_cast<char>(kind);
  iovec parts[3] = {{head, sizeof head},
                    {const_cast<char*>(body.data()), body.size()},
                    {const_cast<char*>(tail.data()), tail.size()}};
  iovec* next = parts;
  int left = 3;
  while (left > 0) {
    ssize_t w = ::writev(fd, next, left);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    auto done = static_cast<std::size_t>(w);
    while (left > 0 && done >= next->iov_len) {  // drop the parts written whole (and empty ones)
      done -= next->iov_len;
      ++next;
      --left;
    }
    if (left > 0) {
      next->iov_base = static_cast<char*>(next->iov_base) + done;
      next->iov_len -= done;
    }
  }
  return true;
}

bool lend_frame(int fd, LinkKind kind, std::string_view body) {
  char head[kFrameHead];
  std::uint64_t n = body.size();
  std::memcpy(head, &n, sizeof n);
  head[sizeof n] = static_cast<char>(kind);
  if (!write_all(fd, head, sizeof head)) return false;  // copied: head is gone when this returns
  const char* data = body.data();
  std::size_t left = body.size();
  while (left > 0) {
    iovec part{const_cast<char*>(data), left};
    ssize_t w = ::vmsplice(fd, &part, 1, 0);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0 && (errno == EBADF || errno == EINVAL || errno == ENOSYS)) return write_all(fd, data, left);  // no pipe
    if (w <= 0) return false;
    data += w;
    left -= static_cast<std::size_t>(w);
  }
  return true;
}

void append_frame(std::string& out, LinkKind kind, const std::string& body) {
  char head[kFrameHead];
  std::uint64_t n = body.size();
  std::memcpy(head, &n, sizeof n);
  head[sizeof n] = static_cast<char>(kind);
  out.append(head, sizeof head).append(body);
}

bool write_frames(int fd, const std::string& frames) { return write_all(fd, frames.data(), frames.size()); }

std::optional<LinkFrame> read_frame(int fd) {
  char head[kFrameHead];
  if (!read_all(fd, head, sizeof head)) return std::nullopt;
  std::uint64_t n = 0;
  std::memcpy(&n, head, sizeof n);
  auto kind = static_cast<std::uint8_t>(head[sizeof n]);
  if (!known_kind(kind)) throw Fatal("python link: frame of unknown kind " + std::to_string(kind));
  LinkFrame f{static_cast<LinkKind>(kind), std::string(n, '\0')};
  if (n > 0 && !read_all(fd, f.body.data(), n)) throw Fatal("python link: the other end closed after a frame head");
  return f;
}

// Whatever the pipe holds goes into the big frame's body while one is pending, else into bytes_ in 64 KiB reads.
// read_to reads once: >0 bytes, 0 end of file, -1 an error (errno), with EINTR retried.
ssize_t FrameBuffer::read_to(int fd) {
  for (;;) {
    ssize_t r;
    if (big_) {
      r = ::read(fd, big_->body.data() + big_got_, big_->body.size() - big_got_);
      if (r > 0 && (big_got_ += static_cast<std::size_t>(r)) == big_->body.size()) {
        done_.push_back(std::move(*big_));
        big_.reset();
      }
    } else {
      char chunk[kChunk];
      r = ::read(fd, chunk, sizeof chunk);
      if (r > 0) bytes_.append(chunk, static_cast<std::size_t>(r));
    }
    if (r < 0 && errno == EINTR) continue;
    return r;
  }
}

bool FrameBuffer::fill(int fd) {
  for (;;) {
    const std::size_t asked = big_ ? big_->body.size() - big_got_ : kChunk;
    ssize_t r = read_to(fd);
    if (r > 0) {
      if (static_cast<std::size_t>(r) < asked) return true;  // the pipe is empty (most likely)
      continue;
    }
    if (r == 0) return false;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
    return false;  // EIO and the like: as good as closed
  }
}

bool FrameBuffer::read_once(int fd) { return read_to(fd) > 0; }

std::optional<LinkFrame> FrameBuffer::next() {
  if (!done_.empty()) {
    LinkFrame f = std::move(done_.front());
    done_.erase(done_.begin());
    return f;
  }
  if (big_ || bytes_.size() - pos_ < kFrameHead) return std::nullopt;
  std::uint64_t n = 0;
  std::memcpy(&n, bytes_.data() + pos_, sizeof n);
  auto kind = static_cast<std::uint8_t>(bytes_[pos_ + sizeof n]);
  if (!known_kind(kind)) throw Fatal("python link: frame of unknown kind " + std::to_string(kind));
  const std::size_t have = bytes_.size() - pos_ - kFrameHead;
  if (have < n && n >= kDirectBody) {  // the rest of the body goes straight into its own string (fill)
    big_.emplace(LinkFrame{static_cast<LinkKind>(kind), std::string(n, '\0')});
    std::memcpy(big_->body.data(), bytes_.data() + pos_ + kFrameHead, have);
    big_got_ = have;
    bytes_.clear();
    pos_ = 0;
    return std::nullopt;
  }
  if (have < n) return std::nullopt;
  LinkFrame f{static_cast<LinkKind>(kind), bytes_.substr(pos_ + kFrameHead, n)};
  pos_ += kFrameHead + n;
  if (pos_ == bytes_.size() || pos_ > (std::size_t{1} << 20)) {  // keep the buffer from growing without bound
    bytes_.erase(0, pos_);
    pos_ = 0;
  }
  return f;
}

void keep_freed_buffers() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);  // glibc's dynamic threshold tops out here too; setting one fixes both
  mallopt(M_TRIM_THRESHOLD, 64 << 20);
}

std::string encode_settings(const RunnerSettings& s) {
  ByteWriter w;
  w.put(s.entry_script).put(s.code_dir).put<std::uint64_t>(s.argv.size());
  for (const auto& a : s.argv) w.put(a);
  w.put<std::int32_t>(s.timeout_seconds).put<std::uint8_t>(s.format_rows).put<std::uint8_t>(s.dataframe_header);
  const TableReader& t = s.table;
  w.put<std::uint8_t>(static_cast<std::uint8_t>(t.format)).put<std::uint8_t>(static_cast<std::uint8_t>(t.delimiter));
  w.put<std::uint8_t>(static_cast<std::uint8_t>(t.header)).put(t.encoding);
  for (bool flag : {t.empty_as_string, t.include_path_column, t.support_multi_line, t.infer_column_types,
                    t.drop_invalid_lines})
    w.put<std::uint8_t>(flag);
  w.put<std::uint64_t>(t.dtype.size());
  for (const auto& [column, type] : t.dtype) w.put(column).put(type);
  return w.put(s.module_dir).put(s.logging_level).put(s.python).put<std::uint8_t>(s.row_records).take();
}

RunnerSettings decode_settings(const std::string& body) {
  ByteReader r(body, "python link");
  RunnerSettings s;
  s.entry_script = r.get_string();
  s.code_dir = r.get_string();
  auto n = r.get<std::uint64_t>();
  if (n > r.left()) throw Fatal("python link: settings claim " + std::to_string(n) + " arguments");
  for (std::uint64_t i = 0; i < n; ++i) s.argv.push_back(r.get_string());
  s.timeout_seconds = r.get<std::int32_t>();
  s.format_rows = r.get<std::uint8_t>() != 0;
  s.dataframe_header = r.get<std::uint8_t>() != 0;
  TableReader& t = s.table;
  t.format = static_cast<TableFormat>(r.get<std::uint8_t>());
  t.delimiter = static_cast<char>(r.get<std::uint8_t>());
  t.header = static_cast<HeaderMode>(r.get<std::uint8_t>());
  t.encoding = r.get_string();
  for (bool* flag : {&t.empty_as_string, &t.include_path_column, &t.support_multi_line, &t.infer_column_types,
                     &t.drop_invalid_lines})
    *flag = r.get<std::uint8_t>() != 0;
  auto columns = r.get<std::uint64_t>();
  if (columns > r.left()) throw Fatal("python link: settings claim " + std::to_string(columns) + " dtype columns");
  for (std::uint64_t i = 0; i < columns; ++i) {
    std::string column = r.get_string();
    t.dtype.emplace_back(std::move(column), r.get_string());
  }
  s.module_dir = r.get_string();
  s.logging_level = r.get_string();
  s.python = r.get_string();
  s.row_records = r.get<std::uint8_t>() != 0;
  r.done();
  return s;
}

// An outcome's body is its rows first, then the other fields, then their length: the rows are the front of the
// body as read, so decode_outcome moves them out and cuts the fields off, never copying them.
std::string outcome_fields(std::uint64_t attempt_id, const RunOutcome& o) {
  std::string fields = ByteWriter()
                           .put(attempt_id)
                           .put<std::uint8_t>(o.ok)
                           .put<std::uint8_t>(o.timed_out)
                           .put(o.returned)
                           .put(o.successes)
                           .put(o.seconds)
                           .put(o.header)
                           .put(o.error)
                           .put(o.table_rows)
                           .take();
  std::uint64_t n = fields.size();
  return fields.append(reinterpret_cast<const char*>(&n), sizeof n);
}

std::string encode_outcome(std::uint64_t attempt_id, const RunOutcome& o) {
  return o.rows + outcome_fields(attempt_id, o);
}

bool write_outcome(int fd, std::uint64_t attempt_id, const RunOutcome& o, std::string_view rows) {
  return write_frame(fd, LinkKind::outcome, rows, outcome_fields(attempt_id, o));
}

std::pair<std::uint64_t, RunOutcome> decode_outcome(std::string body) {
  std::uint64_t n = 0;
  if (body.size() < sizeof n) throw Fatal("python link: truncated message");
  std::memcpy(&n, body.data() + body.size() - sizeof n, sizeof n);
  if (n > body.size() - sizeof n)
    throw Fatal("python link: an outcome of " + std::to_string(body.size()) + " bytes claims " + std::to_string(n) +
                " bytes of fields");
  const std::size_t rows = body.size() - sizeof n - n;
  const std::string fields = body.substr(rows, n);
  ByteReader r(fields, "python link");
  auto attempt_id = r.get<std::uint64_t>();
  RunOutcome o;
  o.ok = r.get<std::uint8_t>() != 0;
  o.timed_out = r.get<std::uint8_t>() != 0;
  o.returned = r.get<std::uint64_t>();
  o.successes = r.get<std::uint64_t>();
  o.seconds = r.get<double>();
  o.header = r.get_string();
  o.error = r.get_string();
  o.table_rows = r.get<std::uint64_t>();
  r.done();
  body.resize(rows);
  o.rows = std::move(body);
  return {attempt_id, std::move(o)};
}

// A slot_outcome's body: the slot and the bytes, then an outcome body without rows.
bool write_slot_outcome(int fd, std::uint64_t attempt_id, const RunOutcome& o, SlotRef rows) {
  const std::string where = ByteWriter().put(rows.slot).put(rows.bytes).take();
  return write_frame(fd, LinkKind::slot_outcome, where, outcome_fields(attempt_id, o));
}

std::pair<std::uint64_t, RunOutcome> decode_slot_outcome(std::string body, SlotRef& rows) {
  constexpr std::size_t kWhere = sizeof rows.slot + sizeof rows.bytes;
  if (body.size() < kWhere) throw Fatal("python link: truncated message");
  std::memcpy(&rows.slot, body.data(), sizeof rows.slot);
  std::memcpy(&rows.bytes, body.data() + sizeof rows.slot, sizeof rows.bytes);
  body.erase(0, kWhere);  // in place: the outcome's fields follow
  auto decoded = decode_outcome(std::move(body));
  if (!decoded.second.rows.empty()) throw Fatal("python link: a slot outcome that carries rows too");
  return decoded;
}

std::string encode_rows_task(const TaskMsg& task, const std::vector<ColumnBytes>& columns) {
  ByteWriter w;
  w.put(encode(task)).put<std::uint64_t>(columns.size());
  for (const ColumnBytes& c : columns) {
    w.put(c.name).put(c.dtype).put(c.data);
    w.put(std::string(reinterpret_cast<const char*>(c.ends.data()), c.ends.size() * sizeof(std::uint64_t)));
  }
  return w.take();
}

TaskMsg decode_rows_task(const std::string& body, std::vector<ColumnView>& columns) {
  ByteReader r(body, "python link");
  TaskMsg task = decode_task(r.get_string());
  auto n = r.get<std::uint64_t>();
  if (n > r.left()) throw Fatal("python link: a rows task claims " + std::to_string(n) + " columns");
  columns.clear();
  for (std::uint64_t i = 0; i < n; ++i) {
    ColumnView c;
    c.name = r.get_string();
    c.dtype = r.get_string();
    c.data = r.get_view();
    c.ends = r.get_view();
    columns.push_back(std::move(c));
  }
  r.done();
  return task;
}

std::string encode_adoption(const std::string& stdout_file, const std::string& stderr_file,
                            const std::vector<std::string>& env) {
  std::string body = stdout_file + '\0' + stderr_file + '\0';
  for (const std::string& entry : env) body += entry + '\0';
  return body;
}

Adoption decode_adoption(const std::string& body) {
  std::vector<std::string> parts;
  for (std::size_t at = 0; at < body.size();) {
    const std::size_t end = body.find('\0', at);
    if (end == std::string::npos) throw Fatal("python link: an adopt frame whose last entry has no end");
    parts.push_back(body.substr(at, end - at));
    at = end + 1;
  }
  if (parts.size() < 2) throw Fatal("python link: an adopt frame without its two log files");
  Adoption a{std::move(parts[0]), std::move(parts[1]), {}};
  a.env.assign(std::make_move_iterator(parts.begin() + 2), std::make_move_iterator(parts.end()));
  return a;
}

}  // namespace prs
