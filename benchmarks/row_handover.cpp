// prs_row_handover: the hand-over of a mini-batch's rows from the process that formats them to the one that writes
// them, alone (benchmarks/row_handover.py runs it; benchmarks/README.md "Output bandwidth"). `pairs` pairs at once,
// each a child that formats rows of 100 B (copied from rows built once, as src/worker/row_text_py.cpp does) into
// blocks and a parent that pwrites them to FILE (the pairs' blocks interleaved in the one file, as the workers' are):
//   pipe    the child writes each block to a 1 MiB pipe, the parent reads it into its own buffer (today's path);
//   shm     the child formats straight into a ring of `ring` blocks in a memfd both map once, and sends the slot's
//           number; the parent pwrites from the mapping and hands the slot back (no copy between the two);
//   direct  no hand-over: one process formats into its buffer and pwrites it (the ceiling of any hand-over).
// crc=1: the writer also takes each block's CRC-32C, as the rank does for the journal.
// Usage: prs_row_handover pipe|shm|direct FILE [total_MB=1024] [pairs=2] [block_KiB=4096] [ring=4] [crc=0]
// Prints MB/s: the bytes over the time from the first fork until the last pwrite returned (no fsync).
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct Args {
  bool shm = false;
  bool direct = false;
  std::string file;
  std::size_t total = 1024ull << 20;
  int pairs = 2;
  std::size_t block = 4u << 20;
  int ring = 4;
  bool crc = false;
};

void die(const char* what) {
  std::perror(what);
  std::_Exit(1);
}

void write_all(int fd, const void* p, std::size_t n) {
  auto* c = static_cast<const char*>(p);
  while (n > 0) {
    ssize_t w = ::write(fd, c, n);
    if (w < 0) die("write");
    c += w;
    n -= static_cast<std::size_t>(w);
  }
}

bool read_all(int fd, void* p, std::size_t n) {
  auto* c = static_cast<char*>(p);
  while (n > 0) {
    ssize_t r = ::read(fd, c, n);
    if (r < 0) die("read");
    if (r == 0) return false;
    c += r;
    n -= static_cast<std::size_t>(r);
  }
  return true;
}

void pwrite_all(int fd, const char* p, std::size_t n, off_t off) {
  while (n > 0) {
    ssize_t w = ::pwrite(fd, p, n, off);
    if (w < 0) die("pwrite");
    p += w;
    off += w;
    n -= static_cast<std::size_t>(w);
  }
}

__attribute__((target("sse4.2"))) std::uint32_t crc32c(const char* p, std::size_t n) {
  std::uint64_t c = 0xFFFFFFFFu;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
  }
  return static_cast<std::uint32_t>(c);
}

// "Formatting": rows of 100 B built once, copied into the block one by one (what the C++ formatter does).
struct Rows {
  std::vector<std::string> rows;
  Rows() {
    for (int i = 0; i < 1000; ++i) rows.push_back(std::string(99, static_cast<char>('a' + i % 26)) + "\n");
  }
  void format(char* out, std::size_t n) const {
    std::size_t k = 0;
    while (n >= 100) {
      std::memcpy(out, rows[k++ % rows.size()].data(), 100);
      out += 100;
      n -= 100;
    }
    std::memset(out, '\n', n);
  }
};

int make_pipe(int fds[2]) {
  if (::pipe(fds) != 0) die("pipe");
  ::fcntl(fds[1], F_SETPIPE_SZ, 1 << 20);
  return 0;
}

// Pair i writes blocks i, i+pairs, ... of the shared file.
std::vector<std::size_t> blocks_of(const Args& a, int i) {
  std::vector<std::size_t> out;
  std::size_t n = a.total / a.block;
  for (std::size_t b = static_cast<std::size_t>(i); b < n; b += static_cast<std::size_t>(a.pairs)) out.push_back(b);
  return out;
}

void pipe_pair(const Args& a, int i, int out_fd) {
  int fds[2];
  make_pipe(fds);
  auto blocks = blocks_of(a, i);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    Rows rows;
    std::vector<char> buf(a.block);
    for (std::size_t b : blocks) {
      (void)b;
      rows.format(buf.data(), a.block);
      write_all(fds[1], buf.data(), a.block);
    }
    std::_Exit(0);
  }
  ::close(fds[1]);
  std::vector<char> buf(a.block);
  std::uint32_t sum = 0;
  for (std::size_t b : blocks) {
    if (!read_all(fds[0], buf.data(), a.block)) die("short");
    if (a.crc) sum ^= crc32c(buf.data(), a.block);
    pwrite_all(out_fd, buf.data(), a.block, static_cast<off_t>(b * a.block));
  }
  ::waitpid(child, nullptr, 0);
  if (sum == 1) std::fprintf(stderr, " ");
}

// A ring of `ring` blocks in one memfd mapped by both; the child sends a slot number when it filled it, the
// parent sends it back once written.
void shm_pair(const Args& a, int i, int out_fd) {
  int full[2], free_[2];
  make_pipe(full);
  make_pipe(free_);
  std::size_t bytes = a.block * static_cast<std::size_t>(a.ring);
  int mfd = ::memfd_create("ring", 0);
  if (mfd < 0 || ::ftruncate(mfd, static_cast<off_t>(bytes)) != 0) die("memfd");
  auto blocks = blocks_of(a, i);
  pid_t child = ::fork();
  if (child == 0) {
    ::close(full[0]);
    ::close(free_[1]);
    char* base = static_cast<char*>(::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0));
    if (base == MAP_FAILED) die("mmap");
    Rows rows;
    int in_use = 0;
    for (std::size_t k = 0; k < blocks.size(); ++k) {
      int slot;
      if (in_use < a.ring) {
        slot = in_use++;
      } else if (!read_all(free_[0], &slot, sizeof slot)) {
        die("free");
      }
      rows.format(base + static_cast<std::size_t>(slot) * a.block, a.block);
      write_all(full[1], &slot, sizeof slot);
    }
    std::_Exit(0);
  }
  ::close(full[1]);
  ::close(free_[0]);
  char* base = static_cast<char*>(::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, mfd, 0));
  if (base == MAP_FAILED) die("mmap");
  std::uint32_t sum = 0;
  for (std::size_t b : blocks) {
    int slot;
    if (!read_all(full[0], &slot, sizeof slot)) die("full");
    const char* p = base + static_cast<std::size_t>(slot) * a.block;
    if (a.crc) sum ^= crc32c(p, a.block);
    pwrite_all(out_fd, p, a.block, static_cast<off_t>(b * a.block));
    if (::write(free_[1], &slot, sizeof slot) < 0 && errno != EPIPE) die("write free");  // the child may be done
  }
  ::waitpid(child, nullptr, 0);
  if (sum == 1) std::fprintf(stderr, " ");
}

// The ceiling of any hand-over: one process formats into its own buffer and pwrites it (no second process).
void direct_pair(const Args& a, int i, int out_fd) {
  Rows rows;
  std::vector<char> buf(a.block);
  std::uint32_t sum = 0;
  for (std::size_t b : blocks_of(a, i)) {
    rows.format(buf.data(), a.block);
    if (a.crc) sum ^= crc32c(buf.data(), a.block);
    pwrite_all(out_fd, buf.data(), a.block, static_cast<off_t>(b * a.block));
  }
  if (sum == 1) std::fprintf(stderr, " ");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s pipe|shm|direct FILE [total_MB] [pairs] [block_KiB] [ring] [crc]\n", argv[0]);
    return 2;
  }
  Args a;
  a.shm = std::string(argv[1]) == "shm";
  a.direct = std::string(argv[1]) == "direct";
  a.file = argv[2];
  if (argc > 3) a.total = std::strtoull(argv[3], nullptr, 10) << 20;
  if (argc > 4) a.pairs = std::atoi(argv[4]);
  if (argc > 5) a.block = std::strtoull(argv[5], nullptr, 10) << 10;
  if (argc > 6) a.ring = std::atoi(argv[6]);
  if (argc > 7) a.crc = std::atoi(argv[7]) != 0;
  ::signal(SIGPIPE, SIG_IGN);
  int out_fd = ::open(a.file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (out_fd < 0) die("open");
  auto t0 = std::chrono::steady_clock::now();
  std::vector<pid_t> pids;
  for (int i = 0; i < a.pairs; ++i) {
    pid_t p = ::fork();
    if (p == 0) {
      if (a.direct)
        direct_pair(a, i, out_fd);
      else if (a.shm)
        shm_pair(a, i, out_fd);
      else
        pipe_pair(a, i, out_fd);
      std::_Exit(0);
    }
    pids.push_back(p);
  }
  int bad = 0;
  for (pid_t p : pids) {
    int st = 0;
    ::waitpid(p, &st, 0);
    bad |= !(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::close(out_fd);
  if (bad) return 1;
  std::printf("%.0f\n", static_cast<double>(a.total) / 1e6 / s);
  return 0;
}
