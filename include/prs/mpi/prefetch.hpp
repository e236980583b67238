#pragma once
// How far ahead a worker is fed, from how long its run() calls take. When run() is short, the messages' round
// trips (and, on a busy node, the wake-ups of the processes) set the pace unless several tasks wait ready at each
// hop; when run() is long, tasks queued behind it only wait, and a drain or a lost worker must hand them back.
// The same average caps the pauses of a rank's polling loop: a rank that sleeps 1 ms between polls would let a
// worker of 10 us mini-batches run dry, and one that polls every 20 us while run() takes seconds wastes a core.
// Used by the master (tasks held by a worker rank) and by a worker rank (tasks handed to its Python process ahead).
// Pure functions, no MPI.

#include <chrono>
#include <cstdint>

namespace prs {

// A running average of run() seconds, exponentially weighted (a quarter for the newest), unknown until the first.
class RunTimeAverage {
 public:
  // Adds one run() time (negative counts as 0).
  void add(double seconds);
  // At least one time was added.
  bool known() const { return known_; }
  // The average so far; 0 while unknown.
  double mean() const { return mean_; }

 private:
  double mean_ = 0;
  bool known_ = false;
};

// Tasks to keep ahead, the one running included: 1 + floor(cover_seconds / mean), within [floor, ceiling];
// `floor` while the mean is unknown, `ceiling` for a mean of 0.
int tasks_ahead(const RunTimeAverage& run, int floor, int ceiling, double cover_seconds);

// A depth no deeper than a worker's share of the work not yet handed out, the running task included:
// min(depth, max(floor, 1 + ceil(left / workers))). Quick first mini-batches must not hand the rest of a small job,
// or the end of a large one, to the first worker ready while the others wait.
int fair_depth(int depth, int floor, std::uint64_t left, int workers);

// The longest pause between two polls: 4 x the mean run() time within [20 us, 1 ms]; 1 ms while unknown.
std::chrono::microseconds poll_cap(const RunTimeAverage& run);

// The longest pause while nothing this rank could be told is urgent: the worker's Python process is in run() (its
// answer wakes the rank through the pipe), or, at the master, every worker holds its next task (the prefetch floor
// is 2). A message still waits up to this long (a commit, a cancel), so it stays a share of run(), as long as the
// mean or as the task has run so far (a first task, or one far slower than the others):
// max(poll_cap, min(max(mean, running_seconds) / share, 20 ms)). The master waiting for the last results of a job
// and a worker rank without a task take a smaller share (kTailShare): the job's end, or a task, waits for them.
std::chrono::microseconds resting_cap(const RunTimeAverage& run, double running_seconds = 0, int share = 16);

// The share of run() the master rests while some worker holds no next task (the end of a job), and a worker rank
// whose Python process holds no task.
constexpr int kTailShare = 256;

}  // namespace prs
