#pragma once
// How far ahead a worker is fed, from how long its run() calls take. When run() is short, the messages' round
// trips (and, on a busy node, the wake-ups of the processes) set the pace unless several tasks wait ready at each
// hop; when run() is long, tasks queued behind it only wait, and a drain or a lost worker must hand them back.
// Used by the master (tasks held by a worker rank) and by a worker rank (tasks handed to its Python process ahead).
// Pure functions, no MPI.

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

}  // namespace prs
