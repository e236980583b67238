#pragma once
// The thin layer over MPI: the session, checked calls, message passing and collectives that wait without spinning.
//
// Open MPI's blocking calls busy-poll a whole core while they wait (measured: 3.0 s of CPU in a 3 s MPI_Recv). On a
// node where every core runs a worker, a waiting master steals real work, so every wait here is test + sleep with
// an exponential backoff (Backoff), and the collectives are their non-blocking forms waited on that way.
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <list>
#include <optional>
#include <string>
#include <vector>

#include "prs/mpi/protocol.hpp"

namespace prs {

// Throws prs::Fatal("<what>: <MPI_Error_string>") when rc is not MPI_SUCCESS.
void mpi_check(int rc, const std::string& what);

// MPI_Init_thread / MPI_Finalize. MPI_THREAD_FUNNELED: every rank calls MPI from its main thread only (a worker's
// Python runs in a process of its own). Errors on MPI_COMM_WORLD return codes instead of aborting.
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();  // MPI_Finalize; never throws
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  // This process's rank in MPI_COMM_WORLD.
  int rank() const { return rank_; }
  // The number of ranks.
  int size() const { return size_; }
  // Seconds MPI_Init_thread took on this rank.
  double init_seconds() const { return init_seconds_; }
  // Aborts every rank with this exit code (used when a rank cannot go on and the others would hang).
  [[noreturn]] void abort(int code) const;

 private:
  int rank_ = 0;
  int size_ = 1;
  double init_seconds_ = 0;
};

// One line for rank 0 when MPI_Init alone took over 0.2 s and the transports were left to Open MPI to probe (on a
// machine without InfiniBand or Omni-Path most of that time goes into probing them); "" otherwise.
std::string slow_init_hint(double init_seconds);

// Finalizes MPI from whichever thread is the one still able to, then ends the process with this code (a worker
// whose Python is stuck in C leaves this way after the final collectives).
[[noreturn]] void finalize_and_exit(int code);

// Ends every rank with this code (a rank that cannot go on, when the others would otherwise hang).
[[noreturn]] void abort_all(int code);

// Sleeps between polls: a few immediate retries, then 10 us doubling up to a cap; reset() after any progress.
class Backoff {
 public:
  explicit Backoff(std::chrono::microseconds cap = std::chrono::microseconds(1000)) : cap_(cap) {}
  // The pause to take now; each call lengthens the next one.
  std::chrono::microseconds next();
  // Sleeps for next().
  void wait();
  // Back to immediate polling.
  void reset() { polls_ = 0; }
  // A new cap for the pauses (poll_cap() in prefetch.hpp: short while run() is short).
  void set_cap(std::chrono::microseconds cap) { cap_ = cap; }

 private:
  std::chrono::microseconds cap_;
  unsigned polls_ = 0;
};

// Waits for a request without spinning a core.
void wait_without_spinning(MPI_Request& request, const std::string& what);

// A received protocol message.
struct Message {
  int source = 0;     // sender's rank
  Tag tag = Tag::ready;
  std::string bytes;  // the encoded message
};

// Receives one pending message from any rank, if there is one; never blocks.
std::optional<Message> try_receive();

// Non-blocking sends whose buffers live until MPI is done with them.
class Outbox {
 public:
  // Starts sending bytes to a rank with a tag.
  void send(int dest, Tag tag, std::string bytes);
  // Frees the sends that completed; call once per loop pass.
  void progress();
  // Waits (without spinning) until every send completed, but for those to the ranks in `skip` (lost ranks, whose
  // receives may never come: their requests are left to the abort that follows).
  void flush(const std::vector<int>& skip = {});
  // No send is under way.
  bool empty() const { return pending_.empty(); }

 private:
  struct Pending {
    MPI_Request request;
    std::string bytes;
    int dest = 0;
  };
  std::list<Pending> pending_;  // a list: MPI keeps pointers into each element's buffer
};

// Sums per-rank counters onto rank 0 (collective over MPI_COMM_WORLD); other ranks get their input back.
std::vector<std::uint64_t> reduce_sum(const std::vector<std::uint64_t>& values);
// Broadcasts an integer from rank 0 (collective).
int broadcast_int(int value);
// Broadcasts a string from rank 0 (collective).
std::string broadcast_string(const std::string& value);
// This rank in MPI_COMM_WORLD, and the number of ranks.
int world_rank();
// See world_rank.
int world_size();
// The sum of an int over every rank, on every rank (collective over MPI_COMM_WORLD).
int sum_over_ranks(int value);
// Gathers every rank's string on rank 0, in rank order (collective); other ranks get an empty list. Each string
// must be under 2 GiB (MPI counts are ints): prs::Fatal otherwise.
std::vector<std::string> gather_strings(const std::string& mine);

// Where this rank runs, from MPI_Comm_split_type(MPI_COMM_TYPE_SHARED) (collective).
struct NodeInfo {
  std::string host;          // processor name
  int node_index = 0;        // 0-based, in the order of the nodes' lowest ranks
  int node_count = 1;        // nodes in the job
  int workers_on_node = 0;   // ranks other than 0 on this node
  int worker_slot = -1;      // this rank's 0-based position among them; -1 on rank 0
};
NodeInfo discover_node();

}  // namespace prs
