#include "prs/worker/rows_ahead.hpp"

#include "prs/error.hpp"
#include "prs/worker/python_link.hpp"

namespace prs {

std::string RowsAhead::frame(const TaskMsg& task) {
  const TableRange& rows = task.table.ranges.at(0);  // a read_hdf5 mini-batch is one row range of one file
  return encode_rows_task(task, reader_.read(rows.path, rows.offset, rows.length));
}

bool RowsAhead::read_ahead(const TaskMsg& task) {
  if (holds(task.attempt_id)) return !held_->error;
  held_.reset();  // its memory goes before the next mini-batch's is read
  Held h;
  h.attempt_id = task.attempt_id;
  try {
    h.body = frame(task);
  } catch (const Error& e) {
    h.error = e.what();
  }
  const bool read = !h.error;
  held_ = std::move(h);
  return read;
}

std::string RowsAhead::take(const TaskMsg& task) {
  if (!holds(task.attempt_id)) {
    held_.reset();
    return frame(task);
  }
  Held h = std::move(*held_);
  held_.reset();
  if (h.error) throw Error(*h.error);
  return std::move(h.body);
}

}  // namespace prs
