#include "prs/mpi/prefetch.hpp"

#include <algorithm>
#include <cmath>

namespace prs {

void RunTimeAverage::add(double seconds) {
  seconds = std::max(0.0, seconds);
  mean_ = known_ ? 0.75 * mean_ + 0.25 * seconds : seconds;
  known_ = true;
}

int tasks_ahead(const RunTimeAverage& run, int floor, int ceiling, double cover_seconds) {
  if (!run.known()) return floor;
  if (run.mean() * ceiling <= cover_seconds) return ceiling;  // also a mean of 0: no division
  double ahead = 1 + std::floor(cover_seconds / run.mean());
  return std::clamp(static_cast<int>(ahead), floor, ceiling);
}

int fair_depth(int depth, int floor, std::uint64_t left, int workers) {
  const std::uint64_t n = static_cast<std::uint64_t>(std::max(workers, 1));
  const std::uint64_t share = 1 + (left + n - 1) / n;
  if (share >= static_cast<std::uint64_t>(depth)) return depth;
  return std::max(floor, static_cast<int>(share));
}

std::chrono::microseconds poll_cap(const RunTimeAverage& run) {
  constexpr double kShortest = 20e-6, kLongest = 1e-3;
  if (!run.known()) return std::chrono::microseconds(1000);
  const double cap = std::clamp(4 * run.mean(), kShortest, kLongest);
  return std::chrono::microseconds(static_cast<long>(std::lround(cap * 1e6)));
}

std::chrono::microseconds resting_cap(const RunTimeAverage& run, double running_seconds, int share) {
  constexpr double kLongest = 20e-3;  // 50 wake-ups a second at most
  const double resting = std::min(kLongest, std::max(run.mean(), running_seconds) / std::max(share, 1));
  return std::max(poll_cap(run), std::chrono::microseconds(std::lround(resting * 1e6)));
}

}  // namespace prs
