#include "prs/mpi/protocol.hpp"

#include "prs/error.hpp"
#include "prs/mpi/byte_codec.hpp"

namespace prs {

const char* tag_name(Tag tag) {
  switch (tag) {
    case Tag::ready: return "ready";
    case Tag::init_failed: return "init_failed";
    case Tag::task: return "task";
    case Tag::result: return "result";
    case Tag::commit: return "commit";
    case Tag::discard: return "discard";
    case Tag::written: return "written";
    case Tag::cancel: return "cancel";
    case Tag::stop: return "stop";
    case Tag::restarting: return "restarting";
    case Tag::fatal: return "fatal";
    case Tag::finished: return "finished";
  }
  return "unknown";
}

namespace {

using Writer = ByteWriter;

struct Reader : ByteReader {
  explicit Reader(const std::string& in) : ByteReader(in, "protocol") {}
};

}  // namespace

std::string encode(const ReadyMsg& m) {
  return Writer().put(m.host).put<std::uint8_t>(m.idle).put<std::int64_t>(m.pid).put(m.init_seconds).put(m.ready_for)
      .take();
}

std::string encode(const TextMsg& m) { return Writer().put(m.text).take(); }

std::string encode(const InitFailedMsg& m) { return Writer().put(m.host).put(m.traceback).take(); }

std::string encode(const TaskMsg& m) {
  Writer w;
  w.put(m.batch_id).put(m.attempt_id).put(m.attempt).put<std::uint64_t>(m.items.size());
  for (const auto& item : m.items) w.put(item);
  w.put<std::uint8_t>(m.is_table);
  if (m.is_table) {
    w.put<std::uint64_t>(m.table.ranges.size());
    for (const TableRange& t : m.table.ranges)
      w.put(t.path).put(t.offset).put(t.length).put(t.header_path).put(t.header_offset).put(t.header_length);
    w.put(m.table.key_use).put<std::uint64_t>(m.table.key_names.size());
    for (std::size_t i = 0; i < m.table.key_names.size(); ++i) w.put(m.table.key_names[i]).put(m.table.key_values[i]);
  }
  return w.take();
}

std::string encode(const ResultMsg& m) {
  return Writer()
      .put(m.attempt_id)
      .put(m.status)
      .put(m.returned)
      .put(m.successes)
      .put(m.row_bytes)
      .put(m.header_bytes)
      .put(m.seconds)
      .put(m.error)
      .put(m.rows)
      .take();
}

std::string encode(const CommitMsg& m) {
  return Writer().put(m.attempt_id).put(m.offset).put<std::uint8_t>(m.with_header).take();
}

std::string encode(const AttemptMsg& m) { return Writer().put(m.attempt_id).take(); }

std::string encode(const WrittenMsg& m) { return Writer().put(m.attempt_id).put(m.checksum).take(); }

ReadyMsg decode_ready(const std::string& bytes) {
  Reader r(bytes);
  ReadyMsg m;
  m.host = r.get_string();
  m.idle = r.get<std::uint8_t>() != 0;
  m.pid = r.get<std::int64_t>();
  m.init_seconds = r.get<double>();
  m.ready_for = r.get<double>();
  r.done();
  return m;
}

TextMsg decode_text(const std::string& bytes) {
  Reader r(bytes);
  TextMsg m{r.get_string()};
  r.done();
  return m;
}

InitFailedMsg decode_init_failed(const std::string& bytes) {
  Reader r(bytes);
  InitFailedMsg m;
  m.host = r.get_string();
  m.traceback = r.get_string();
  r.done();
  return m;
}

TaskMsg decode_task(const std::string& bytes) {
  Reader r(bytes);
  TaskMsg m;
  m.batch_id = r.get<std::uint64_t>();
  m.attempt_id = r.get<std::uint64_t>();
  m.attempt = r.get<std::uint32_t>();
  auto n = r.get<std::uint64_t>();
  if (n > bytes.size()) throw Fatal("protocol: task claims " + std::to_string(n) + " items");
  m.items.reserve(n);
  for (std::uint64_t i = 0; i < n; ++i) m.items.push_back(r.get_string());
  m.is_table = r.get<std::uint8_t>() != 0;
  if (m.is_table) {
    auto ranges = r.get<std::uint64_t>();
    if (ranges > bytes.size()) throw Fatal("protocol: task claims " + std::to_string(ranges) + " table ranges");
    for (std::uint64_t i = 0; i < ranges; ++i) {
      TableRange t;
      t.path = r.get_string();
      t.offset = r.get<std::uint64_t>();
      t.length = r.get<std::uint64_t>();
      t.header_path = r.get_string();
      t.header_offset = r.get<std::uint64_t>();
      t.header_length = r.get<std::uint64_t>();
      m.table.ranges.push_back(std::move(t));
    }
    m.table.key_use = r.get<KeyUse>();
    if (m.table.key_use > KeyUse::keep_rows) throw Fatal("protocol: task with an unknown key use");
    auto keys = r.get<std::uint64_t>();
    if (keys > bytes.size()) throw Fatal("protocol: task claims " + std::to_string(keys) + " keys");
    for (std::uint64_t i = 0; i < keys; ++i) {
      m.table.key_names.push_back(r.get_string());
      m.table.key_values.push_back(r.get_string());
    }
  }
  r.done();
  return m;
}

ResultMsg decode_result(const std::string& bytes) {
  Reader r(bytes);
  ResultMsg m;
  m.attempt_id = r.get<std::uint64_t>();
  m.status = r.get<AttemptStatus>();
  m.returned = r.get<std::uint64_t>();
  m.successes = r.get<std::uint64_t>();
  m.row_bytes = r.get<std::uint64_t>();
  m.header_bytes = r.get<std::uint64_t>();
  m.seconds = r.get<double>();
  m.error = r.get_string();
  m.rows = r.get<std::uint64_t>();
  r.done();
  return m;
}

CommitMsg decode_commit(const std::string& bytes) {
  Reader r(bytes);
  CommitMsg m;
  m.attempt_id = r.get<std::uint64_t>();
  m.offset = r.get<std::uint64_t>();
  m.with_header = r.get<std::uint8_t>() != 0;
  r.done();
  return m;
}

AttemptMsg decode_attempt(const std::string& bytes) {
  Reader r(bytes);
  AttemptMsg m;
  m.attempt_id = r.get<std::uint64_t>();
  r.done();
  return m;
}

WrittenMsg decode_written(const std::string& bytes) {
  Reader r(bytes);
  WrittenMsg m;
  m.attempt_id = r.get<std::uint64_t>();
  m.checksum = r.get<std::uint32_t>();
  r.done();
  return m;
}

}  // namespace prs
