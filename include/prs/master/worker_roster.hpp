#pragma once
// The master's view of its workers, without MPI: what each one does, the prefetch slots waiting for work, what it
// holds, when it was last heard from, and its run of failures (quarantine). The master loop moves messages; the
// decisions about workers live here, where unit tests drive them directly.
#include <cstdint>
#include <string>
#include <vector>

#include "prs/mpi/prefetch.hpp"

namespace prs {

// What a worker rank does, as the master knows it.
enum class WorkerState {
  starting,     // not yet ready (init() runs)
  active,       // takes work
  restarting,   // its Python process is being replaced; takes work again once ready
  idle,         // beyond max_concurrency_per_instance on its node
  retired,      // init() failed
  quarantined,  // its mini-batches kept failing while others succeeded
  lost,         // stopped answering while it held work
  broken,       // said fatal (e.g. its output write failed)
};

// One worker rank.
struct WorkerInfo {
  WorkerState state = WorkerState::starting;
  std::string host;
  std::int64_t pid = 0;
  double last_heard = 0;          // seconds since the job started
  int holding = 0;                // attempts unanswered plus commits unacknowledged
  int tasks = 0;                  // attempts sent and not answered (its prefetch in use)
  int slots = 0;                  // its free prefetch slots, waiting in the master's list for work
  RunTimeAverage run;             // its run() times: how far ahead it is fed (prefetch.hpp)
  int failures_in_row = 0;        // attempts that failed since its last success
  std::uint64_t ok_at_streak = 0;  // the job's successes when the current run of failures began
  bool finished = false;          // answered stop with finished
};

// All workers of a job (ranks 1..world_size-1).
class WorkerRoster {
 public:
  // quarantine_after: failures in a row that quarantine a worker while others succeed; 0 = never.
  WorkerRoster(int world_size, int quarantine_after);

  // The worker at a rank (1-based; rank 0 is the master).
  WorkerInfo& at(int rank) { return workers_[rank]; }
  const WorkerInfo& at(int rank) const { return workers_[rank]; }
  // "rank 3 (node7)".
  std::string where(int rank) const;
  // Number of ranks, the master's included.
  int world_size() const { return static_cast<int>(workers_.size()); }
  // Changes a worker's state, keeping the counts below; a lost worker stays lost.
  void set_state(int rank, WorkerState state);
  // Notes that a message came from the rank.
  void heard(int rank, double now) { workers_[rank].last_heard = now; }

  // Workers not yet ready for the first time.
  int starting() const { return starting_; }
  // Workers that take work now or will once their fresh Python process is ready.
  int working() const { return active_ + restarting_; }
  // Workers that take work now.
  int active() const { return active_; }
  // Workers that take work now or may later (still in their first init(), or restarting): a retry waits for one
  // of them rather than go back to a worker that failed it.
  int may_work() const { return starting_ + active_ + restarting_; }

  // Records how an attempt of the rank ended; returns the ranks to quarantine now (never the last active one).
  // A worker that failed quarantine_after attempts in a row is quarantined once another worker succeeds; until
  // then it is held (gets no work) unless every active worker is held, when the failures are the data's.
  std::vector<int> record_attempt(int rank, bool failed);
  // The rank is held: no work for it while some active worker is not held.
  bool held(int rank) const;
  // Every worker that works or may work is held (then the failures are the data's, not the workers').
  bool all_held() const;
  // Every active worker holds its next task behind the one it runs (two attempts or more), and one is active:
  // no result is urgent then (the master may rest: resting_cap in prefetch.hpp). False at a job's end, when the
  // last results and writes are what the job waits for.
  bool all_fed() const;
  // Ranks that hold work and have been silent for longer than `after` seconds.
  std::vector<int> silent(double now, double after) const;

 private:
  std::vector<WorkerInfo> workers_;  // indexed by rank; entry 0 unused
  int quarantine_after_;
  int starting_ = 0, active_ = 0, restarting_ = 0;
  std::uint64_t successes_ = 0;  // attempts that succeeded, job-wide
  std::vector<int> held_;        // ranks held after a run of failures with no success anywhere since
};

}  // namespace prs
