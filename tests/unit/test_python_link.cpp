// The frames between a worker rank and its Python process, through real pipes.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <catch2/catch.hpp>
#include <thread>
#include <vector>

#include "prs/error.hpp"
#include "prs/worker/python_link.hpp"

using namespace prs;

// The expression throws prs::Fatal with exactly this message.
#define CHECK_FATAL(expr, text) CHECK_THROWS_MATCHES(expr, prs::Fatal, Catch::Message(text))

namespace {

// A pipe whose ends close with it; read_nonblocking makes the read end non-blocking (as the rank's end is).
struct Pipe {
  int read = -1, write = -1;
  explicit Pipe(bool read_nonblocking = false) {
    int fds[2];
    REQUIRE(pipe2(fds, O_CLOEXEC) == 0);
    read = fds[0];
    write = fds[1];
    if (read_nonblocking) REQUIRE(fcntl(read, F_SETFL, fcntl(read, F_GETFL) | O_NONBLOCK) == 0);
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  void close_read() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void close_write() {
    if (write >= 0) ::close(write);
    write = -1;
  }
  // Writes raw bytes (all of them: the tests stay below the pipe's capacity).
  void put(const std::string& bytes) const {
    REQUIRE(::write(write, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  }
};

// A frame as the header documents it: [u64 body length][u8 kind][body].
std::string wire(std::uint8_t kind, const std::string& body) {
  std::uint64_t n = body.size();
  std::string out(reinterpret_cast<const char*>(&n), sizeof n);
  out.push_back(static_cast<char>(kind));
  return out + body;
}
std::string wire(LinkKind kind, const std::string& body) { return wire(static_cast<std::uint8_t>(kind), body); }

// Distinct bytes of every value, NUL included, different per seed.
std::string pattern(std::size_t n, unsigned seed) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + seed * 7 + i / 251) % 256);
  return s;
}

const std::vector<LinkKind> kAllKinds = {LinkKind::init,    LinkKind::task,    LinkKind::shutdown,
                                         LinkKind::init_ok, LinkKind::init_failed, LinkKind::outcome,
                                         LinkKind::shutdown_done, LinkKind::rows_task};

// Runs write on a thread (bodies bigger than the pipe need a reader meanwhile), closes the write end after it and
// reads p's frames to the end of the pipe: the frames read, in order.
std::vector<LinkFrame> frames_written_by(Pipe& p, const std::function<void()>& write) {
  std::thread writer([&] {
    write();
    p.close_write();
  });
  std::vector<LinkFrame> frames;
  while (auto f = read_frame(p.read)) frames.push_back(std::move(*f));
  writer.join();
  return frames;
}

// Sets SIGPIPE to SIG_IGN for a test, as the worker rank runs, and puts the old handler back.
struct IgnoreSigpipe {
  void (*old)(int) = signal(SIGPIPE, SIG_IGN);
  ~IgnoreSigpipe() { signal(SIGPIPE, old); }
};

// Waits for the non-blocking read end to have something (or end of file); false if nothing came for 30 s.
bool readable(int fd) {
  pollfd p{fd, POLLIN, 0};
  return poll(&p, 1, 30000) > 0;
}

}  // namespace

TEST_CASE("write_frame puts the documented bytes on the pipe", "[python_link]") {
  Pipe p;
  REQUIRE(write_frame(p.write, LinkKind::outcome, std::string("a\0b", 3)));
  std::string expected = wire(LinkKind::outcome, std::string("a\0b", 3));
  REQUIRE(expected.size() == 12);
  std::string got(12, '\0');
  REQUIRE(::read(p.read, got.data(), got.size()) == 12);
  CHECK(got == expected);
  CHECK(static_cast<unsigned>(got[8]) == 6);  // outcome is the sixth kind
}

TEST_CASE("every kind of frame goes through a pipe, with an empty and a small body", "[python_link]") {
  Pipe p;
  const std::string small("x\0\xff\x80y", 5);
  for (LinkKind k : kAllKinds) {
    REQUIRE(write_frame(p.write, k, ""));
    REQUIRE(write_frame(p.write, k, small));
  }
  p.close_write();
  for (LinkKind k : kAllKinds) {
    auto empty = read_frame(p.read);
    REQUIRE(empty);
    CHECK(empty->kind == k);
    CHECK(empty->body.empty());
    auto full = read_frame(p.read);
    REQUIRE(full);
    CHECK(full->kind == k);
    CHECK(full->body == small);
  }
  CHECK_FALSE(read_frame(p.read));  // end of file between frames
}

TEST_CASE("a body of several MB goes through the 64 KiB pipe while it is read", "[python_link]") {
  Pipe p;
  const std::string big = pattern(5u << 20, 1);
  bool wrote_big = false, wrote_empty = false;
  const auto frames = frames_written_by(p, [&] {
    wrote_big = write_frame(p.write, LinkKind::task, big);
    wrote_empty = write_frame(p.write, LinkKind::shutdown, "");
  });
  CHECK(wrote_big);
  CHECK(wrote_empty);
  REQUIRE(frames.size() == 2);  // and then the end of the pipe
  CHECK(frames[0].kind == LinkKind::task);
  CHECK(frames[0].body.size() == 5u << 20);
  CHECK(frames[0].body == big);
  CHECK(frames[1].kind == LinkKind::shutdown);
  CHECK(frames[1].body.empty());
}

TEST_CASE("lend_frame lends a body of several MB to the pipe, or writes it to a file, and reads back whole",
          "[python_link]") {
  const std::string big = pattern(5u << 20, 3);
  {
    Pipe p;
    const std::string small("a\0b", 3);  // lent, not copied: it must outlive the reads
    bool lent_big = false, lent_small = false;
    const auto frames = frames_written_by(p, [&] {
      lent_big = lend_frame(p.write, LinkKind::rows_task, big);
      lent_small = lend_frame(p.write, LinkKind::task, small);
    });
    CHECK(lent_big);
    CHECK(lent_small);
    REQUIRE(frames.size() == 2);  // and then the end of the pipe
    CHECK(frames[0].kind == LinkKind::rows_task);
    CHECK(frames[0].body == big);
    CHECK(frames[1].body == small);
  }
  char path[] = "/tmp/prs_lend_frame_XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  ::unlink(path);
  CHECK(lend_frame(fd, LinkKind::rows_task, big));  // not a pipe: written
  REQUIRE(::lseek(fd, 0, SEEK_SET) == 0);
  auto back = read_frame(fd);
  ::close(fd);
  REQUIRE(back);
  CHECK(back->kind == LinkKind::rows_task);
  CHECK(back->body == big);
  IgnoreSigpipe ignore;
  Pipe gone;
  gone.close_read();
  CHECK_FALSE(lend_frame(gone.write, LinkKind::rows_task, big));  // the reader is gone
}

TEST_CASE("read_frame throws on a torn frame", "[python_link]") {
  Pipe p;
  SECTION("end of file after the head") {
    p.put(wire(LinkKind::task, "hello").substr(0, 9));
    p.close_write();
    CHECK_FATAL(read_frame(p.read), "python link: the other end closed after a frame head");
  }
  SECTION("end of file in the body") {
    p.put(wire(LinkKind::task, "hello").substr(0, 11));
    p.close_write();
    CHECK_FATAL(read_frame(p.read), "python link: the other end closed in the middle of a frame");
  }
  SECTION("end of file in the head") {
    p.put(wire(LinkKind::task, "hello").substr(0, 4));
    p.close_write();
    CHECK_FATAL(read_frame(p.read), "python link: the other end closed in the middle of a frame");
  }
  SECTION("a whole frame, then a torn one") {
    p.put(wire(LinkKind::init_ok, "") + wire(LinkKind::outcome, "abc").substr(0, 9));
    p.close_write();
    auto f = read_frame(p.read);
    REQUIRE(f);
    CHECK(f->kind == LinkKind::init_ok);
    CHECK_FATAL(read_frame(p.read), "python link: the other end closed after a frame head");
  }
}

TEST_CASE("read_frame throws on a kind it does not know", "[python_link]") {
  Pipe p;
  SECTION("0") {
    p.put(wire(0, "ab"));
    CHECK_FATAL(read_frame(p.read), "python link: frame of unknown kind 0");
  }
  SECTION("one past the last") {
    p.put(wire(11, ""));
    CHECK_FATAL(read_frame(p.read), "python link: frame of unknown kind 11");
  }
  SECTION("255") {
    p.put(wire(255, "ab"));
    CHECK_FATAL(read_frame(p.read), "python link: frame of unknown kind 255");
  }
}

TEST_CASE("write_frame to a pipe nobody reads returns false", "[python_link]") {
  IgnoreSigpipe ignore;
  Pipe p;
  p.close_read();
  CHECK_FALSE(write_frame(p.write, LinkKind::task, "abc"));
  CHECK_FALSE(write_frame(p.write, LinkKind::shutdown, ""));
}

TEST_CASE("write_frame returns false when the reader goes away in the middle of a big frame", "[python_link]") {
  IgnoreSigpipe ignore;
  Pipe p;
  std::string head(9, '\0');
  bool wrote = true;
  std::thread writer([&] { wrote = write_frame(p.write, LinkKind::task, pattern(4u << 20, 2)); });
  REQUIRE(::read(p.read, head.data(), head.size()) == 9);  // the head came: the writer is in the body
  p.close_read();
  writer.join();
  CHECK_FALSE(wrote);
  CHECK(head == wire(LinkKind::task, pattern(4u << 20, 2)).substr(0, 9));
}

TEST_CASE("FrameBuffer assembles frames fed one byte at a time", "[python_link]") {
  Pipe p(true);
  const std::string a = wire(LinkKind::init, "hello"), b = wire(LinkKind::task, ""),
                    c = wire(LinkKind::init_failed, pattern(300, 3));
  const std::string bytes = a + b + c;
  FrameBuffer fb;
  std::vector<LinkFrame> got;
  std::vector<std::size_t> completed_at;  // bytes fed when each frame came out
  CHECK(fb.fill(p.read));                 // nothing there yet
  CHECK_FALSE(fb.next());
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    p.put(bytes.substr(i, 1));
    REQUIRE(fb.fill(p.read));
    while (auto f = fb.next()) {
      got.push_back(std::move(*f));
      completed_at.push_back(i + 1);
    }
  }
  REQUIRE(got.size() == 3);
  CHECK(completed_at == std::vector<std::size_t>{a.size(), a.size() + b.size(), bytes.size()});
  CHECK(got[0].kind == LinkKind::init);
  CHECK(got[0].body == "hello");
  CHECK(got[1].kind == LinkKind::task);
  CHECK(got[1].body.empty());
  CHECK(got[2].kind == LinkKind::init_failed);
  CHECK(got[2].body == pattern(300, 3));
  CHECK(fb.fill(p.read));
  CHECK_FALSE(fb.next());
  p.close_write();
  CHECK_FALSE(fb.fill(p.read));
  CHECK_FALSE(fb.next());
}

TEST_CASE("FrameBuffer takes odd chunks: frames split across fills and several in one", "[python_link]") {
  Pipe p(true);
  std::string bytes;
  for (unsigned i = 0; i < 20; ++i) bytes += wire(kAllKinds[i % kAllKinds.size()], pattern(i * 37 % 101, i));
  const std::vector<std::size_t> chunks = {1, 7, 13, 2, 50, 3, 120, 9, 64, 5};
  FrameBuffer fb;
  std::vector<LinkFrame> got;
  std::size_t at = 0;
  for (std::size_t c = 0; at < bytes.size(); ++c) {
    std::size_t n = std::min(chunks[c % chunks.size()], bytes.size() - at);
    p.put(bytes.substr(at, n));
    at += n;
    REQUIRE(fb.fill(p.read));
    while (auto f = fb.next()) got.push_back(std::move(*f));
  }
  REQUIRE(got.size() == 20);
  for (unsigned i = 0; i < 20; ++i) {
    CHECK(got[i].kind == kAllKinds[i % kAllKinds.size()]);
    CHECK(got[i].body == pattern(i * 37 % 101, i));
  }
  SECTION("three whole frames in one fill") {
    p.put(wire(LinkKind::init_ok, "") + wire(LinkKind::outcome, "o") + wire(LinkKind::shutdown_done, "err"));
    REQUIRE(fb.fill(p.read));
    auto x = fb.next(), y = fb.next(), z = fb.next();
    CHECK_FALSE(fb.next());
    REQUIRE((x && y && z));
    CHECK(x->kind == LinkKind::init_ok);
    CHECK(x->body.empty());
    CHECK(y->kind == LinkKind::outcome);
    CHECK(y->body == "o");
    CHECK(z->kind == LinkKind::shutdown_done);
    CHECK(z->body == "err");
  }
}

TEST_CASE("FrameBuffer reads frames larger than a fill and more than a MB in all", "[python_link]") {
  IgnoreSigpipe ignore;  // should the reading stop early, the writer gets EPIPE instead of blocking
  Pipe p(true);
  constexpr unsigned kFrames = 40;  // 40 x 50 KiB, plus one of 300 KiB: the buffer compacts on the way
  bool wrote = true;
  std::thread writer([&] {
    for (unsigned i = 0; i < kFrames; ++i) wrote = wrote && write_frame(p.write, LinkKind::outcome, pattern(50 << 10, i));
    wrote = wrote && write_frame(p.write, LinkKind::task, pattern(300 << 10, 99));
    p.close_write();
  });
  FrameBuffer fb;
  std::vector<LinkFrame> got;
  bool open = true;
  while (open && got.size() < kFrames + 1 && readable(p.read)) {
    open = fb.fill(p.read);
    while (auto f = fb.next()) got.push_back(std::move(*f));
  }
  if (open && readable(p.read)) open = fb.fill(p.read);  // the end of file after the last frame
  p.close_read();
  writer.join();
  CHECK(wrote);
  CHECK_FALSE(open);
  CHECK_FALSE(fb.next());
  REQUIRE(got.size() == kFrames + 1);
  for (unsigned i = 0; i < kFrames; ++i) {
    CHECK(got[i].kind == LinkKind::outcome);
    CHECK(got[i].body == pattern(50 << 10, i));
  }
  CHECK(got[kFrames].kind == LinkKind::task);
  CHECK(got[kFrames].body == pattern(300 << 10, 99));
}

TEST_CASE("FrameBuffer at end of file", "[python_link]") {
  Pipe p(true);
  FrameBuffer fb;
  SECTION("a whole frame, then the writer closes") {
    p.put(wire(LinkKind::shutdown_done, ""));
    p.close_write();
    CHECK(fb.fill(p.read));  // the bytes come first, the end of file on the next read
    auto f = fb.next();
    REQUIRE(f);
    CHECK(f->kind == LinkKind::shutdown_done);
    CHECK_FALSE(fb.fill(p.read));
    CHECK_FALSE(fb.next());
  }
  SECTION("a torn frame stays incomplete") {
    p.put(wire(LinkKind::outcome, "abcdef").substr(0, 12));
    p.close_write();
    CHECK(fb.fill(p.read));
    CHECK_FALSE(fb.fill(p.read));
    CHECK_FALSE(fb.next());
  }
  SECTION("nothing ever written") {
    p.close_write();
    CHECK_FALSE(fb.fill(p.read));
    CHECK_FALSE(fb.next());
  }
}

TEST_CASE("FrameBuffer throws on a kind it does not know, before its body is there", "[python_link]") {
  Pipe p(true);
  FrameBuffer fb;
  p.put(wire(LinkKind::task, "ok") + wire(11, "0123456789").substr(0, 9));
  REQUIRE(fb.fill(p.read));
  auto f = fb.next();
  REQUIRE(f);
  CHECK(f->body == "ok");
  CHECK_FATAL(fb.next(), "python link: frame of unknown kind 11");
}

TEST_CASE("settings round-trip every field, odd bytes included", "[python_link]") {
  RunnerSettings s;
  s.entry_script = std::string("/a/b\0c\xff\xfe.py", 12);
  s.code_dir = std::string("\x80\0", 2);
  s.argv = {std::string("\0", 1), "", "--x=\xc3\x28", "plain"};
  s.timeout_seconds = -7;
  s.format_rows = false;
  s.dataframe_header = true;
  s.module_dir = "/opt/prs/python";
  s.logging_level = "ERROR";
  s.python = "/home/u/venv/bin/python3";
  s.row_records = true;
  RunnerSettings d = decode_settings(encode_settings(s));
  CHECK(d.entry_script == s.entry_script);
  CHECK(d.entry_script.size() == 12);
  CHECK(d.code_dir == std::string("\x80\0", 2));
  CHECK(d.argv == s.argv);
  CHECK(d.timeout_seconds == -7);
  CHECK_FALSE(d.format_rows);
  CHECK(d.dataframe_header);
  CHECK(d.module_dir == "/opt/prs/python");
  CHECK(d.logging_level == "ERROR");
  CHECK(d.python == "/home/u/venv/bin/python3");
  CHECK(d.row_records);

  RunnerSettings t;
  t.timeout_seconds = 2147483647;
  t.format_rows = true;
  t.dataframe_header = false;
  RunnerSettings e = decode_settings(encode_settings(t));
  CHECK(e.entry_script.empty());
  CHECK(e.code_dir.empty());
  CHECK(e.argv.empty());
  CHECK(e.timeout_seconds == 2147483647);
  CHECK(e.format_rows);
  CHECK_FALSE(e.dataframe_header);
  CHECK(e.module_dir.empty());
  CHECK(e.logging_level.empty());
  CHECK(e.python.empty());
  CHECK_FALSE(e.row_records);
}

TEST_CASE("outcomes round-trip every field, odd bytes included", "[python_link]") {
  RunOutcome o;
  o.ok = true;
  o.timed_out = true;
  o.returned = 0xFFFFFFFFFFFFFFFFull;
  o.successes = 12345678901ull;
  o.seconds = 1.25e-3;
  o.rows = std::string("r1\0\n\xff\xc0\n", 8);
  o.header = std::string("\0h", 2);
  o.error = std::string("Traceback\0\x80", 11);
  auto [id, d] = decode_outcome(encode_outcome(0x0102030405060708ull, o));
  CHECK(id == 0x0102030405060708ull);
  CHECK(d.ok);
  CHECK(d.timed_out);
  CHECK(d.returned == 0xFFFFFFFFFFFFFFFFull);
  CHECK(d.successes == 12345678901ull);
  CHECK(d.seconds == 1.25e-3);
  CHECK(d.rows == o.rows);
  CHECK(d.rows.size() == 8);
  CHECK(d.header == o.header);
  CHECK(d.error == o.error);

  RunOutcome none;
  none.seconds = -0.5;
  auto [id0, e] = decode_outcome(encode_outcome(0, none));
  CHECK(id0 == 0);
  CHECK_FALSE(e.ok);
  CHECK_FALSE(e.timed_out);
  CHECK(e.returned == 0);
  CHECK(e.successes == 0);
  CHECK(e.seconds == -0.5);
  CHECK(e.rows.empty());
  CHECK(e.header.empty());
  CHECK(e.error.empty());
}

TEST_CASE("an outcome's rows lead its body and are moved out of it, not copied", "[python_link]") {
  RunOutcome o;
  o.rows = pattern(1 << 20, 5);
  o.error = "e";
  std::string body = encode_outcome(9, o);
  REQUIRE(body.size() == (1u << 20) + 8 + 1 + 1 + 8 + 8 + 8 + 8 + 9 + 8 + 8);  // rows, fields, their length
  CHECK(body.compare(0, o.rows.size(), o.rows) == 0);
  const char* where = body.data();
  auto [id, d] = decode_outcome(std::move(body));
  CHECK(id == 9);
  CHECK(d.rows == o.rows);
  CHECK(d.rows.data() == where);
  CHECK(d.error == "e");
}

TEST_CASE("decoding a truncated or overlong outcome throws", "[python_link]") {
  RunOutcome o;
  o.rows = "rows";
  o.header = "h";
  o.error = "e";
  const std::string body = encode_outcome(7, o);
  REQUIRE(body.size() == 4 + 8 + 1 + 1 + 8 + 8 + 8 + 9 + 9 + 8 + 8);  // rows, ... table_rows, the fields' length
  for (std::size_t n = 0; n < body.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    CHECK_THROWS_AS(decode_outcome(body.substr(0, n)), prs::Fatal);
  }
  CHECK_FATAL(decode_outcome(""), "python link: truncated message");
  CHECK_FATAL(decode_outcome(std::string(7, '\0')), "python link: truncated message");
  std::uint64_t fields = 0;
  std::memcpy(&fields, body.data() + body.size() - 8, 8);
  fields += 2;
  const std::string longer = body.substr(0, body.size() - 8) + "xy" + std::string(reinterpret_cast<const char*>(&fields), 8);
  CHECK_FATAL(decode_outcome(longer), "python link: message has 2 extra bytes");
  std::uint64_t claim = 1000;
  CHECK_FATAL(decode_outcome(body.substr(0, body.size() - 8) + std::string(reinterpret_cast<const char*>(&claim), 8)),
              "python link: an outcome of " + std::to_string(body.size()) + " bytes claims 1000 bytes of fields");
}

TEST_CASE("write_frame sends body and tail as one frame; write_outcome sends the rows it is given", "[python_link]") {
  Pipe p;
  REQUIRE(write_frame(p.write, LinkKind::task, "body", "+tail"));
  REQUIRE(write_frame(p.write, LinkKind::init_ok, "", "tail only"));
  RunOutcome o;
  o.rows = "not sent";
  o.ok = true;
  REQUIRE(write_outcome(p.write, 3, o, "sent rows\n"));
  p.close_write();
  auto a = read_frame(p.read);
  auto b = read_frame(p.read);
  auto c = read_frame(p.read);
  REQUIRE(a);
  REQUIRE(b);
  REQUIRE(c);
  CHECK(a->body == "body+tail");
  CHECK(b->kind == LinkKind::init_ok);
  CHECK(b->body == "tail only");
  CHECK(c->kind == LinkKind::outcome);
  auto [id, d] = decode_outcome(std::move(c->body));
  CHECK(id == 3);
  CHECK(d.ok);
  CHECK(d.rows == "sent rows\n");
  CHECK_FALSE(read_frame(p.read));
}

TEST_CASE("write_slot_outcome sends where the rows are, not the rows; a torn one is a clear error", "[python_link]") {
  Pipe p;
  RunOutcome o;
  o.rows = "not sent";
  o.ok = true;
  o.returned = 2;
  o.header = "h\n";
  REQUIRE(write_slot_outcome(p.write, 11, o, {5, 4194304}));
  p.close_write();
  auto f = read_frame(p.read);
  REQUIRE(f);
  CHECK(f->kind == LinkKind::slot_outcome);
  SlotRef where;
  auto [id, d] = decode_slot_outcome(f->body, where);
  CHECK(id == 11);
  CHECK(where.slot == 5);
  CHECK(where.bytes == 4194304);
  CHECK(d.ok);
  CHECK(d.returned == 2);
  CHECK(d.header == "h\n");
  CHECK(d.rows.empty());
  CHECK_FATAL(decode_slot_outcome(f->body.substr(0, 11), where), "python link: truncated message");
  CHECK_FATAL(decode_slot_outcome(f->body.substr(0, 12), where), "python link: truncated message");
  CHECK_FATAL(decode_slot_outcome(f->body.substr(0, 12) + "rows" + f->body.substr(12), where),
              "python link: a slot outcome that carries rows too");
}

TEST_CASE("FrameBuffer reads a big body in place, between small frames, with fill and with read_once",
          "[python_link]") {
  IgnoreSigpipe ignore;
  const bool blocking = GENERATE(false, true);
  INFO((blocking ? "read_once on a blocking pipe" : "fill on a non-blocking pipe"));
  Pipe p(!blocking);
  const std::string big = pattern(3 << 20, 1), big2 = pattern((1 << 18) + 1, 2);
  bool wrote = true;
  std::thread writer([&] {
    wrote = write_frame(p.write, LinkKind::init_ok, "small") && write_frame(p.write, LinkKind::outcome, big, "!") &&
            write_frame(p.write, LinkKind::task, "") && write_frame(p.write, LinkKind::outcome, big2) &&
            write_frame(p.write, LinkKind::shutdown_done, "last");
    p.close_write();
  });
  FrameBuffer fb;
  std::vector<LinkFrame> got;
  bool open = true;
  while (open && (blocking || readable(p.read))) {
    open = blocking ? fb.read_once(p.read) : fb.fill(p.read);
    while (auto f = fb.next()) got.push_back(std::move(*f));
  }
  writer.join();
  CHECK(wrote);
  CHECK_FALSE(open);
  REQUIRE(got.size() == 5);
  CHECK(got[0].body == "small");
  CHECK(got[1].kind == LinkKind::outcome);
  CHECK(got[1].body == big + "!");
  CHECK(got[2].kind == LinkKind::task);
  CHECK(got[2].body.empty());
  CHECK(got[3].body == big2);
  CHECK(got[4].kind == LinkKind::shutdown_done);
  CHECK(got[4].body == "last");
}

TEST_CASE("FrameBuffer: the other end closing in the middle of a big body leaves no frame", "[python_link]") {
  Pipe p;
  std::thread writer([&] {
    std::string torn = wire(LinkKind::outcome, pattern(1 << 20, 3));
    torn.resize(torn.size() / 2);
    std::size_t done = 0;
    while (done < torn.size()) {
      ssize_t w = ::write(p.write, torn.data() + done, torn.size() - done);
      if (w <= 0) break;
      done += static_cast<std::size_t>(w);
    }
    p.close_write();
  });
  FrameBuffer fb;
  bool open = true, in_body = false;
  int frames = 0;
  while (open) {
    open = fb.read_once(p.read);
    while (fb.next()) ++frames;
    in_body = in_body || fb.in_big_body();
  }
  writer.join();
  CHECK(frames == 0);
  CHECK(in_body);  // the head came, the body was being read in place when the writer went away
}

TEST_CASE("decoding truncated or overlong settings throws", "[python_link]") {
  RunnerSettings s;
  s.entry_script = "e.py";
  s.code_dir = "d";
  s.argv = {"e.py", "-v", "x"};
  const std::string body = encode_settings(s);
  const std::size_t after_count = 8 + 4 + 8 + 1 + 8;  // the argument count is read, no argument yet
  // ... the table reader (its dtype count last), then module_dir, logging_level and python (all ""), then
  // row_records
  REQUIRE(body.size() == after_count + 12 + 10 + 9 + 4 + 1 + 1 + 3 + 12 + 5 + 8 + 8 + 8 + 8 + 1);
  for (std::size_t n = 0; n < body.size(); ++n) {
    INFO("prefix of " << n << " bytes");
    // Fewer bytes left than arguments claimed is caught before reading them.
    if (n >= after_count && n < after_count + 3)
      CHECK_FATAL(decode_settings(body.substr(0, n)), "python link: settings claim 3 arguments");
    else
      CHECK_FATAL(decode_settings(body.substr(0, n)), "python link: truncated message");
  }
  CHECK_FATAL(decode_settings(body + "z"), "python link: message has 1 extra bytes");
}

TEST_CASE("a rows task carries the task and the columns, decoded as views of the frame", "[python_link]") {
  prs::TaskMsg t;
  t.batch_id = 7;
  t.attempt_id = 99;
  t.attempt = 2;
  t.is_table = true;
  t.table.ranges.push_back({"/d/a.h5", 40, 3, "", 0, 0});
  std::vector<prs::ColumnBytes> columns = {{"a", "int32", std::string("\1\0\0\0\2\0\0\0\3\0\0\0", 12), {}},
                                           {"s", "str", "xyzzy", {1, 1, 5}}};
  const std::string body = prs::encode_rows_task(t, columns);
  std::vector<prs::ColumnView> views;
  prs::TaskMsg back = prs::decode_rows_task(body, views);
  CHECK(back.batch_id == 7);
  CHECK(back.attempt_id == 99);
  CHECK(back.attempt == 2);
  REQUIRE(back.table.ranges.size() == 1);
  CHECK(back.table.ranges[0].path == "/d/a.h5");
  CHECK(back.table.ranges[0].offset == 40);
  CHECK(back.table.ranges[0].length == 3);
  REQUIRE(views.size() == 2);
  CHECK(views[0].name == "a");
  CHECK(views[0].dtype == "int32");
  CHECK(views[0].data == columns[0].data);
  CHECK(views[0].ends.empty());
  CHECK(views[1].data == "xyzzy");
  REQUIRE(views[1].ends.size() == 3 * sizeof(std::uint64_t));
  CHECK(views[1].data.data() >= body.data());  // a view into the frame, not a copy
  CHECK(views[1].data.data() < body.data() + body.size());
  std::uint64_t ends[3];
  std::memcpy(ends, views[1].ends.data(), sizeof ends);
  CHECK(std::vector<std::uint64_t>(ends, ends + 3) == std::vector<std::uint64_t>{1, 1, 5});
  CHECK_FATAL(prs::decode_rows_task(body.substr(0, body.size() - 1), views), "python link: truncated message");
}

TEST_CASE("append_frame builds the bytes write_frame sends, several frames go in one write_frames", "[python_link]") {
  std::string frames;
  append_frame(frames, LinkKind::task, "abc");
  CHECK(frames == wire(LinkKind::task, "abc"));
  append_frame(frames, LinkKind::task, "");
  append_frame(frames, LinkKind::shutdown, pattern(300, 3));
  Pipe p(true);
  REQUIRE(write_frames(p.write, frames));
  FrameBuffer fb;
  REQUIRE(fb.fill(p.read));
  auto x = fb.next(), y = fb.next(), z = fb.next();
  CHECK_FALSE(fb.next());
  REQUIRE((x && y && z));
  CHECK(x->body == "abc");
  CHECK((y->kind == LinkKind::task && y->body.empty()));
  CHECK((z->kind == LinkKind::shutdown && z->body == pattern(300, 3)));
}

TEST_CASE("FrameBuffer::read_once waits for bytes on a blocking pipe and says end of file", "[python_link]") {
  Pipe p;
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    write_frame(p.write, LinkKind::task, "late");  // checked by the reader: Catch2 asserts only on its thread
    p.close_write();
  });
  FrameBuffer fb;
  std::optional<LinkFrame> f;
  while (!(f = fb.next())) REQUIRE(fb.read_once(p.read));
  writer.join();
  CHECK(f->kind == LinkKind::task);
  CHECK(f->body == "late");
  CHECK_FALSE(fb.read_once(p.read));
}

TEST_CASE("an adopt body gives back the log files and the environment in order", "[python_link]") {
  const Adoption a = decode_adoption(encode_adoption("/l/out.txt", "/l/err.txt", {"B=2", "A=1=x", "EMPTY="}));
  CHECK(a.stdout_file == "/l/out.txt");
  CHECK(a.stderr_file == "/l/err.txt");
  CHECK(a.env == std::vector<std::string>{"B=2", "A=1=x", "EMPTY="});
  CHECK(decode_adoption(encode_adoption("o", "e", {})).env.empty());
  CHECK_FATAL(decode_adoption(std::string("o\0", 2)), "python link: an adopt frame without its two log files");
  CHECK_FATAL(decode_adoption(std::string("o\0e\0X=1", 7)), "python link: an adopt frame whose last entry has no end");
}
