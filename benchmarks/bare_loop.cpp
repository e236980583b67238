// prs_bare_loop: prs_mpi's master/worker message pattern with nothing else, the floor dispatch_peers.py compares
// prs_mpi against (a benchmark, not part of the product).
//
//   mpiexec -np N+1 prs_bare_loop --batches B --output FILE [--cap-us US]
//
// The same four messages per mini-batch as prs_mpi, encoded by the same protocol code (src/mpi/protocol.cpp):
// task (master -> worker, one item per mini-batch), result (worker -> master, the row's byte count), commit (master
// -> worker, the row's offset in the shared output), written (worker -> master, the row's CRC-32C field; here 0).
// The same waits: MPI_Iprobe / MPI_Test with prs::Backoff, non-blocking sends through prs::Outbox, each worker fed
// kPrefetch = 2 tasks ahead, rows written by the worker with MPI_File_write_at into a file opened by every rank.
// Left out, on purpose: the scheduler, the journal, the logs, the Python process (the worker's "run()" turns the
// item into its row in C++). --cap-us sets the backoff's cap (default 1000 us, prs::Backoff's; 0 = never sleep,
// the pattern's floor without wake-ups). Rank 0 prints one JSON line: batches, dispatch seconds (first task sent to
// the last written), the master's CPU seconds over that time, and each worker's CPU seconds from its first task to
// stop.
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "prs/error.hpp"
#include "prs/mpi/mpi_comm.hpp"
#include "prs/mpi/protocol.hpp"

namespace {

constexpr int kPrefetch = 2;  // as src/master/master_loop.hpp: the task running and the next

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

struct Args {
  std::uint64_t batches = 20000;
  std::string output = "bare_loop_rows.txt";
  long cap_us = 1000;  // the backoff's cap, as prs::Backoff's default
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--batches" && i + 1 < argc) a.batches = std::strtoull(argv[++i], nullptr, 10);
    else if (s == "--output" && i + 1 < argc) a.output = argv[++i];
    else if (s == "--cap-us" && i + 1 < argc) a.cap_us = std::strtol(argv[++i], nullptr, 10);
    else {
      std::fprintf(stderr, "usage: mpiexec -np N+1 prs_bare_loop [--batches B] [--output FILE] [--cap-us US]\n");
      std::exit(2);
    }
  }
  return a;
}

// The item of mini-batch i: a path as long as the benchmark's input files' paths.
std::string item_of(std::uint64_t i) {
  char name[64];
  std::snprintf(name, sizeof name, "/tmp/prs_bench_bare/data/%07llu", static_cast<unsigned long long>(i));
  return name;
}

void run_master(const Args& a, int world) {
  prs::Outbox out;
  std::deque<int> hungry;
  std::uint64_t next = 0, written = 0, offset = 0, attempt_ids = 0;
  int finished = 0;
  double t0 = 0, cpu0 = 0, t1 = 0, cpu1 = 0;
  prs::Backoff backoff{std::chrono::microseconds(a.cap_us)};
  while (finished < world - 1) {
    bool progress = false;
    while (auto m = prs::try_receive()) {
      progress = true;
      switch (m->tag) {
        case prs::Tag::ready: {
          prs::decode_ready(m->bytes);
          for (int i = 0; i < kPrefetch; ++i) hungry.push_back(m->source);
          break;
        }
        case prs::Tag::result: {
          prs::ResultMsg r = prs::decode_result(m->bytes);
          out.send(m->source, prs::Tag::commit, prs::encode(prs::CommitMsg{r.attempt_id, offset, false}));
          offset += r.row_bytes;
          hungry.push_back(m->source);
          break;
        }
        case prs::Tag::written: {
          prs::decode_written(m->bytes);
          if (++written == a.batches) {
            t1 = now();
            cpu1 = cpu_seconds();
            for (int r = 1; r < world; ++r) out.send(r, prs::Tag::stop, "");
          }
          break;
        }
        case prs::Tag::finished: ++finished; break;
        default: throw prs::Fatal("bare loop: unexpected message");
      }
    }
    if (progress) {  // feed, as Master::feed does after every pass that heard something
      for (; !hungry.empty() && next < a.batches; hungry.pop_front()) {
        if (next == 0) {
          t0 = now();
          cpu0 = cpu_seconds();
        }
        prs::TaskMsg t;
        t.batch_id = next;
        t.attempt_id = ++attempt_ids;
        t.attempt = 1;
        t.items.push_back(item_of(next++));
        out.send(hungry.front(), prs::Tag::task, prs::encode(t));
      }
      backoff.reset();
    } else {
      backoff.wait();
    }
    out.progress();
  }
  out.flush();
  std::vector<double> worker_cpu(static_cast<std::size_t>(world), 0.0);
  double mine = cpu1 - cpu0;
  MPI_Gather(&mine, 1, MPI_DOUBLE, worker_cpu.data(), 1, MPI_DOUBLE, 0, MPI_COMM_WORLD);
  std::printf("{\"batches\": %llu, \"workers\": %d, \"dispatch_seconds\": %.6f, \"master_cpu_seconds\": %.6f, "
              "\"worker_cpu_seconds\": [",
              static_cast<unsigned long long>(a.batches), world - 1, t1 - t0, cpu1 - cpu0);
  for (int r = 1; r < world; ++r) std::printf("%s%.6f", r > 1 ? ", " : "", worker_cpu[static_cast<std::size_t>(r)]);
  std::printf("], \"output_bytes\": %llu}\n", static_cast<unsigned long long>(offset));
}

void run_worker(const Args& a, MPI_File file) {
  prs::Outbox out;
  std::deque<prs::TaskMsg> queue;
  std::unordered_map<std::uint64_t, std::string> held;  // rows waiting for their commit
  char host[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(host, &len);
  out.send(0, prs::Tag::ready, prs::encode(prs::ReadyMsg{std::string(host, len), false, 0}));
  double cpu0 = -1;
  bool stopped = false;
  prs::Backoff backoff{std::chrono::microseconds(a.cap_us)};
  while (!stopped) {
    bool progress = false;
    while (auto m = prs::try_receive()) {
      progress = true;
      if (m->tag == prs::Tag::task) {
        if (cpu0 < 0) cpu0 = cpu_seconds();
        queue.push_back(prs::decode_task(m->bytes));
      } else if (m->tag == prs::Tag::commit) {
        prs::CommitMsg c = prs::decode_commit(m->bytes);
        auto it = held.find(c.attempt_id);
        MPI_Status status;
        prs::mpi_check(MPI_File_write_at(file, static_cast<MPI_Offset>(c.offset), it->second.data(),
                                         static_cast<int>(it->second.size()), MPI_BYTE, &status),
                       "MPI_File_write_at");
        held.erase(it);
        out.send(0, prs::Tag::written, prs::encode(prs::WrittenMsg{c.attempt_id, 0}));
      } else if (m->tag == prs::Tag::stop) {
        stopped = true;
        break;
      }
    }
    if (!queue.empty()) {  // "run()": the item becomes its row, as a no-op entry script's returned list would
      progress = true;
      prs::TaskMsg t = std::move(queue.front());
      queue.pop_front();
      std::string row = t.items.front() + "\n";
      prs::ResultMsg r;
      r.attempt_id = t.attempt_id;
      r.status = prs::AttemptStatus::ok;
      r.returned = r.successes = 1;
      r.row_bytes = row.size();
      held[t.attempt_id] = std::move(row);
      out.send(0, prs::Tag::result, prs::encode(r));
    }
    if (progress) backoff.reset();
    else backoff.wait();
    out.progress();
  }
  double mine = cpu0 < 0 ? 0 : cpu_seconds() - cpu0;
  out.send(0, prs::Tag::finished, "");
  out.flush();
  MPI_Gather(&mine, 1, MPI_DOUBLE, nullptr, 0, MPI_DOUBLE, 0, MPI_COMM_WORLD);
}

}  // namespace

int main(int argc, char** argv) {
  prs::MpiSession mpi(argc, argv);
  Args a = parse(argc, argv);
  if (mpi.size() < 2) {
    std::fprintf(stderr, "prs_bare_loop: needs at least 2 ranks (a master and a worker)\n");
    return 2;
  }
  try {
    MPI_File file;
    prs::mpi_check(MPI_File_open(MPI_COMM_WORLD, a.output.c_str(), MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL,
                                 &file),
                   "MPI_File_open " + a.output);
    prs::mpi_check(MPI_File_set_size(file, 0), "MPI_File_set_size " + a.output);  // collective: a rerun starts empty
    if (mpi.rank() == 0) run_master(a, mpi.size());
    else run_worker(a, file);
    MPI_File_close(&file);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "prs_bare_loop: %s\n", e.what());
    mpi.abort(1);
  }
  return 0;
}
