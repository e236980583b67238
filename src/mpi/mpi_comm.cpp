#include "prs/mpi/mpi_comm.hpp"

#include <climits>
#include <sys/prctl.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "prs/error.hpp"

namespace prs {

void mpi_check(int rc, const std::string& what) {
  if (rc == MPI_SUCCESS) return;
  char text[MPI_MAX_ERROR_STRING];
  int len = 0;
  MPI_Error_string(rc, text, &len);
  throw Fatal(what + ": " + std::string(text, len));
}

MpiSession::MpiSession(int& argc, char**& argv) {
  // The polling loops' pauses are short and deliberate: Linux's default slack of 50 us turns a 10 us sleep into
  // ~60-80 us, and a worker of short mini-batches runs dry meanwhile.
  prctl(PR_SET_TIMERSLACK, 1000UL);  // 1 us, in ns
  int provided = 0;
  auto start = std::chrono::steady_clock::now();
  mpi_check(MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided), "MPI_Init_thread");
  init_seconds_ = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  if (provided < MPI_THREAD_FUNNELED)
    throw Fatal("this MPI library does not provide MPI_THREAD_FUNNELED, which prs_mpi needs");
}

MpiSession::~MpiSession() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (!finalized) MPI_Finalize();
}

void MpiSession::abort(int code) const { abort_all(code); }

std::string slow_init_hint(double init_seconds) {
  if (init_seconds <= 0.2) return "";
  for (const char* chosen : {"OMPI_MCA_pml", "OMPI_MCA_mtl", "OMPI_MCA_btl"})
    if (std::getenv(chosen) != nullptr) return "";  // the user chose the transports already
  char seconds[16];
  std::snprintf(seconds, sizeof seconds, "%.2f", init_seconds);
  return std::string("prs_mpi: note: MPI_Init took ") + seconds +
         " s; without InfiniBand or Omni-Path, OMPI_MCA_pml=ob1 (or OMPI_MCA_mtl=^psm,psm2,ofi) skips probing for "
         "them (docs/user_guide.md, Performance)";
}

void finalize_and_exit(int code) {
  std::fflush(nullptr);
  MPI_Finalize();
  std::_Exit(code);
}

void abort_all(int code) {
  std::fflush(nullptr);
  MPI_Abort(MPI_COMM_WORLD, code);
  std::abort();
}

std::chrono::microseconds Backoff::next() {
  unsigned polls = polls_++;
  if (polls < 4) return std::chrono::microseconds(0);
  unsigned shift = std::min(polls - 4, 11u);  // up to 20.48 ms (resting_cap in prefetch.hpp)
  return std::min(cap_, std::chrono::microseconds(10 << shift));
}

void Backoff::wait() {
  auto pause = next();
  if (pause.count() > 0) std::this_thread::sleep_for(pause);
}

void wait_without_spinning(MPI_Request& request, const std::string& what) {
  Backoff backoff;
  for (;;) {
    int done = 0;
    mpi_check(MPI_Test(&request, &done, MPI_STATUS_IGNORE), what);
    if (done) return;
    backoff.wait();
  }
}

std::optional<Message> try_receive() {
  int flag = 0;
  MPI_Status status;
  mpi_check(MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &status), "MPI_Iprobe");
  if (!flag) return std::nullopt;
  int count = 0;
  mpi_check(MPI_Get_count(&status, MPI_BYTE, &count), "MPI_Get_count");
  Message m{status.MPI_SOURCE, static_cast<Tag>(status.MPI_TAG), std::string(count, '\0')};
  mpi_check(MPI_Recv(m.bytes.data(), count, MPI_BYTE, status.MPI_SOURCE, status.MPI_TAG, MPI_COMM_WORLD,
                     MPI_STATUS_IGNORE),
            std::string("MPI_Recv of a ") + tag_name(m.tag) + " message");
  return m;
}

void Outbox::send(int dest, Tag tag, std::string bytes) {
  pending_.push_back({MPI_REQUEST_NULL, std::move(bytes), dest});
  auto& p = pending_.back();
  mpi_check(MPI_Isend(p.bytes.data(), static_cast<int>(p.bytes.size()), MPI_BYTE, dest, static_cast<int>(tag),
                      MPI_COMM_WORLD, &p.request),
            std::string("MPI_Isend of a ") + tag_name(tag) + " message to rank " + std::to_string(dest));
}

void Outbox::progress() {
  for (auto it = pending_.begin(); it != pending_.end();) {
    int done = 0;
    mpi_check(MPI_Test(&it->request, &done, MPI_STATUS_IGNORE), "MPI_Test of a send");
    it = done ? pending_.erase(it) : std::next(it);
  }
}

void Outbox::flush(const std::vector<int>& skip) {
  for (auto& p : pending_)
    if (std::find(skip.begin(), skip.end(), p.dest) == skip.end()) wait_without_spinning(p.request, "MPI_Isend");
  pending_.clear();
}

std::vector<std::uint64_t> reduce_sum(const std::vector<std::uint64_t>& values) {
  std::vector<std::uint64_t> out(values.size(), 0);
  MPI_Request request;
  mpi_check(MPI_Ireduce(values.data(), out.data(), static_cast<int>(values.size()), MPI_UINT64_T, MPI_SUM, 0,
                        MPI_COMM_WORLD, &request),
            "MPI_Ireduce of the counters");
  wait_without_spinning(request, "MPI_Ireduce of the counters");
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank == 0 ? out : values;
}

int broadcast_int(int value) {
  MPI_Request request;
  mpi_check(MPI_Ibcast(&value, 1, MPI_INT, 0, MPI_COMM_WORLD, &request), "MPI_Ibcast");
  wait_without_spinning(request, "MPI_Ibcast");
  return value;
}

std::string broadcast_string(const std::string& value) {
  std::string s = value;
  s.resize(static_cast<std::size_t>(broadcast_int(static_cast<int>(s.size()))));
  MPI_Request request;
  mpi_check(MPI_Ibcast(s.data(), static_cast<int>(s.size()), MPI_CHAR, 0, MPI_COMM_WORLD, &request), "MPI_Ibcast");
  wait_without_spinning(request, "MPI_Ibcast");
  return s;
}

std::vector<std::string> gather_strings(const std::string& mine) {
  if (mine.size() > static_cast<std::size_t>(INT_MAX)) throw Fatal("gather: a rank's result exceeds 2 GiB");
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int n = static_cast<int>(mine.size());
  std::vector<int> sizes(rank == 0 ? static_cast<std::size_t>(size) : 0);
  MPI_Request request;
  mpi_check(MPI_Igather(&n, 1, MPI_INT, sizes.data(), 1, MPI_INT, 0, MPI_COMM_WORLD, &request), "MPI_Igather");
  wait_without_spinning(request, "MPI_Igather");
  std::vector<int> displs(sizes.size(), 0);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    displs[i] = static_cast<int>(total);
    total += static_cast<std::uint64_t>(sizes[i]);
    if (total > static_cast<std::uint64_t>(INT_MAX)) throw Fatal("gather: the results exceed 2 GiB");
  }
  std::string all(static_cast<std::size_t>(total), '\0');
  mpi_check(MPI_Igatherv(mine.data(), n, MPI_BYTE, all.data(), sizes.data(), displs.data(), MPI_BYTE, 0,
                         MPI_COMM_WORLD, &request),
            "MPI_Igatherv");
  wait_without_spinning(request, "MPI_Igatherv");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < sizes.size(); ++i)
    out.push_back(all.substr(static_cast<std::size_t>(displs[i]), static_cast<std::size_t>(sizes[i])));
  return out;
}

namespace {

// Sums an int over a communicator, waiting without spinning.
int allreduce_sum(int value, MPI_Comm comm) {
  int out = 0;
  MPI_Request request;
  mpi_check(MPI_Iallreduce(&value, &out, 1, MPI_INT, MPI_SUM, comm, &request), "MPI_Iallreduce");
  wait_without_spinning(request, "MPI_Iallreduce");
  return out;
}

}  // namespace

int sum_over_ranks(int value) { return allreduce_sum(value, MPI_COMM_WORLD); }

int world_rank() {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  return rank;
}

int world_size() {
  int size = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  return size;
}

namespace {

// The rank's position among the ranks below it that satisfy a predicate (exclusive scan).
int exclusive_count(int value, MPI_Comm comm) {
  int out = 0;
  MPI_Request request;
  mpi_check(MPI_Iexscan(&value, &out, 1, MPI_INT, MPI_SUM, comm, &request), "MPI_Iexscan");
  wait_without_spinning(request, "MPI_Iexscan");
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  return rank == 0 ? 0 : out;  // MPI leaves rank 0's result undefined
}

}  // namespace

NodeInfo discover_node() {
  NodeInfo info;
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(name, &len);
  info.host.assign(name, len);
  int world_rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  MPI_Comm node;
  mpi_check(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, world_rank, MPI_INFO_NULL, &node),
            "MPI_Comm_split_type");
  int node_rank = 0;
  MPI_Comm_rank(node, &node_rank);
  int is_worker = world_rank != 0;
  info.workers_on_node = allreduce_sum(is_worker, node);
  int slot = exclusive_count(is_worker, node);
  info.worker_slot = is_worker ? slot : -1;
  int leader = node_rank == 0;  // one leader per node, nodes ordered by their leader's world rank
  info.node_count = allreduce_sum(leader, MPI_COMM_WORLD);
  int index = exclusive_count(leader, MPI_COMM_WORLD);
  MPI_Request request;  // every rank of a node takes its leader's index
  mpi_check(MPI_Ibcast(&index, 1, MPI_INT, 0, node, &request), "MPI_Ibcast of the node index");
  wait_without_spinning(request, "MPI_Ibcast of the node index");
  info.node_index = index;
  MPI_Comm_free(&node);
  return info;
}

}  // namespace prs
