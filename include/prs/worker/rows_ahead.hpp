#pragma once
// A worker rank's read_hdf5 rows, read one mini-batch ahead: while its Python process runs a mini-batch, the rank
// reads and frames the next queued task's rows, so the read leaves the gap between two run() calls whenever run()
// takes longer than the read. At most one mini-batch is held ahead (beside the one the Python process holds): the
// rank's memory stays bounded by one mini-batch's rows. A read that fails is held as its error and fails that
// attempt when its turn comes, as a read then would have.
#include <cstdint>
#include <optional>
#include <string>

#include "prs/input/hdf5_table.hpp"
#include "prs/mpi/protocol.hpp"

namespace prs {

// The rows of at most one task, read ahead of its turn.
class RowsAhead {
 public:
  // Reads the table read_hdf5 names (reader.format is hdf5); opens nothing yet.
  explicit RowsAhead(TableReader reader) : reader_(std::move(reader)) {}
  // Reads task's rows now, before its turn, unless they (or their error) are held already; what was held for
  // another task is dropped first: one mini-batch ahead at most. false: the read failed (its error is held).
  bool read_ahead(const TaskMsg& task);
  // The rows (or the error of reading them) of this attempt are held.
  bool holds(std::uint64_t attempt_id) const { return held_ && held_->attempt_id == attempt_id; }
  // The rows_task frame body of task (python_link.hpp), read ahead or, when none was, read now; nothing is held
  // after it. Throws prs::Error as Hdf5RowReader::read (the file changed or vanished since planning), with the
  // same text whether read ahead or now.
  std::string take(const TaskMsg& task);
  // Drops what is held (a cancel, a restart of the Python process, the end of the job).
  void drop() { held_.reset(); }

 private:
  std::string frame(const TaskMsg& task);  // reads and frames task's rows; throws prs::Error
  // A task's rows as a frame body, or the error of reading them.
  struct Held {
    std::uint64_t attempt_id = 0;       // whose rows
    std::string body;                   // encode_rows_task's, when read
    std::optional<std::string> error;   // the read's prs::Error text, when it failed
  };
  Hdf5RowReader reader_;      // keeps the file it read last open
  std::optional<Held> held_;  // at most one task's
};

}  // namespace prs
