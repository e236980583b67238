#pragma once
// The master's bookkeeping, without MPI: which mini-batch runs where, attempts and retries, where committed rows go
// in the shared output, and the failure thresholds. The master loop only moves messages between this and MPI.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "prs/input/partition.hpp"
#include "prs/logs/job_outcome.hpp"
#include "prs/master/journal.hpp"
#include "prs/mpi/protocol.hpp"

namespace prs {

// The failure limits of a job (-1 / 100 ignore).
struct Thresholds {
  std::int64_t mini_batch_error_threshold = -1;  // failed mini-batches allowed
  std::int64_t error_threshold = -1;             // failed items allowed
  int allowed_failed_percent = 100;              // failed mini-batches in percent of all, once all are scheduled
};

// One dispatched attempt of a mini-batch.
struct Attempt {
  std::uint64_t batch_id = 0;
  std::uint64_t attempt_id = 0;  // unique over the job
  std::uint32_t number = 0;      // 1 for the first try
  int worker = 0;                // the rank running it
};

// What the master must tell the worker after a result.
struct Verdict {
  enum class Action { none, commit, discard } action = Action::none;
  std::uint64_t offset = 0;     // with commit: where the rows go
  bool with_header = false;     // with commit: the worker writes the header line first
  bool batch_ended = false;     // the batch succeeded or failed for good
  bool retried = false;         // the batch goes back to the queue for another attempt
  std::optional<BatchEnd> ended_now;  // the batch ended with nothing to write: journal it now
};

// A batch that ended, with what the journal records for it.
struct Committed {
  std::uint64_t batch_id = 0;
  BatchEnd end;
};

// Batch states, attempts, retries, offsets and thresholds for one job.
class Scheduler {
 public:
  Scheduler(const Partition& partition, int max_retries, Thresholds thresholds, bool dataframe_header);

  // The next attempt for a worker: a retry it has not failed, else a new batch, else a retry it failed already
  // but only once every one of the `working` workers has failed it (retries go elsewhere while they can).
  std::optional<Attempt> next_for(int worker, int working = 1);
  // Records how an attempt ended and says what to do with its rows. Throws prs::Fatal for an unknown attempt.
  Verdict on_result(const ResultMsg& result);
  // Records that a committed attempt's rows are in the file; returns what the journal records for its batch.
  Committed on_written(std::uint64_t attempt_id);
  // Takes back the unanswered attempts of a worker (a drain that stops waiting); returns their batches, which go
  // back to the queue.
  std::vector<std::uint64_t> take_back_worker(int worker);
  // The unanswered attempts of a worker, oldest first (the one it runs, then the ones queued behind it).
  std::vector<Attempt> attempts_of(int worker) const;
  // Forgets the committed writes a worker never acknowledged (it was lost or broke): those batches are not in the
  // journal and run again on --resume, so they count as unconfirmed, no longer as succeeded; returns them.
  std::vector<std::uint64_t> forget_writes(int worker);

  // Continues from a journal (--resume): ended batches are skipped with their counts kept, attempts go on from
  // their tries, and a batch whose attempts are all used ends as failed (returned with its end, to be journaled)
  // unless retry_failed, which gives failed batches a fresh set of attempts. output_bytes: the committed size.
  std::vector<Committed> restore(const JournalState& state, std::uint64_t output_bytes, bool retry_failed);

  // The threshold exceeded so far, as a sentence naming it and the counts; nullopt while within limits.
  std::optional<std::string> exceeded_threshold() const;
  // Batches waiting to be dispatched: never dispatched, or back in the queue for another attempt.
  std::uint64_t waiting() const { return unscheduled_ + retry_queue_.size(); }
  // Every batch has been dispatched at least once (and no more can come: the plan is whole).
  bool all_scheduled() const { return unscheduled_ == 0 && !growing_; }
  // Every batch ended and every committed write is acknowledged (and no more can come).
  bool finished() const;
  // A listing that goes on: the plan is the first mini-batches of partition, which replaces the one so far
  // (the same first batches, more of them); growing: more may come. Throws prs::Fatal if it has fewer batches.
  void grow(const Partition& partition, bool growing);
  // More mini-batches may still join the plan.
  bool growing() const { return growing_; }
  // Nothing to dispatch or wait for until the plan grows.
  bool waits_for_plan() const { return growing_ && waiting() == 0 && in_flight() == 0; }
  // Attempts dispatched and not yet answered, plus writes not yet acknowledged.
  std::size_t in_flight() const { return attempts_.size() + writing_.size(); }
  // The attempt is dispatched and unanswered (not taken back).
  bool is_running(std::uint64_t attempt_id) const { return attempts_.count(attempt_id) > 0; }
  // The batch an attempt belongs to (for logs); throws prs::Fatal for an unknown attempt.
  const Attempt& attempt(std::uint64_t attempt_id) const;
  // The items of a batch.
  ItemRange batch_range(std::uint64_t batch_id) const { return partition_.batch(batch_id); }
  // Number of items in a batch: its files, or a tabular batch's rows once a worker parsed them (1 until then: a
  // range that never parsed counts as one failed item).
  std::uint64_t batch_items(std::uint64_t batch_id) const;
  // Tabular input: items are rows, learnt from the results (rank 0 never reads table data); call before restore().
  void count_rows();
  // Notes the rows a worker parsed for a tabular batch (ResultMsg::rows; kNoRows is ignored).
  void learn_rows(std::uint64_t batch_id, std::uint64_t rows);
  // The counts so far.
  const JobCounts& counts() const { return counts_; }

 private:
  Verdict judge(const ResultMsg& result);
  Attempt dispatch(std::uint64_t batch_id, int worker);
  std::optional<std::uint64_t> take_retry(int worker, int working);
  bool failed_on(std::uint64_t batch, int worker) const;
  Verdict end_batch(const Attempt& a, const ResultMsg& r, bool succeeded);
  Verdict place_rows(const ResultMsg& r);
  void count_end(std::uint64_t batch, const BatchEnd& end);
  void count_unconfirmed(std::uint64_t batch, const BatchEnd& end);  // takes count_end's counts back

  Partition partition_;
  int max_retries_;
  Thresholds thresholds_;
  bool dataframe_header_;
  bool header_placed_ = false;
  bool growing_ = false;                              // the listing goes on: more batches may come
  std::uint64_t next_new_ = 0;                        // first batch never dispatched
  std::uint64_t unscheduled_ = 0;                     // batches neither dispatched nor ended
  std::deque<std::uint64_t> retry_queue_;             // batches waiting for another attempt
  std::vector<std::uint32_t> tries_;                  // attempts dispatched per batch (cancelled ones excluded)
  std::vector<int> last_worker_;                      // where each batch last ran
  std::unordered_map<std::uint64_t, Attempt> attempts_;  // in flight, by attempt id
  struct Writing {
    Committed committed;
    int worker = 0;
  };
  std::unordered_map<std::uint64_t, Writing> writing_;  // by attempt id: committed, write not yet acknowledged
  std::unordered_map<std::uint64_t, std::vector<int>> failed_by_;  // batches with failed attempts: on which workers
  std::vector<bool> ended_;                           // per batch
  std::vector<std::uint64_t> rows_;                   // tabular: rows per batch (kNoRows: not parsed yet)
  std::uint64_t next_attempt_id_ = 1;
  std::uint64_t batches_ended_ = 0;
  JobCounts counts_;
};

}  // namespace prs
