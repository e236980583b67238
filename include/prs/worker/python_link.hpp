#pragma once
// The link between a worker rank and its Python process: frames over two pipes, [u64 body length][u8 kind][body].
//
// rank -> Python:  [adopt(log files, environment): a prestarted process only] init(settings), then task(TaskMsg) or rows_task(TaskMsg, columns)* one at a time, then shutdown.
//                  A rows_task's body is lent to the pipe (lend_frame: vmsplice), not copied in.
// Python -> rank:  init_ok(when init() returned: steady-clock ns, as text) | init_failed(traceback),
//                  outcome(attempt, RunOutcome: its rows first) or slot_outcome(slot, bytes, attempt, RunOutcome: its
//                  rows in the rows region, row_region.hpp) per task, shutdown_done(error).
// The Python process is not an MPI process: fork and multiprocessing inside run() are safe there, and whatever it
// does (a segfault, os._exit, an OOM kill, a hang in C) the rank sees it and carries on.
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "prs/input/hdf5_table.hpp"
#include "prs/worker/python_runner.hpp"

namespace prs {

// The kinds of frame.
enum class LinkKind : std::uint8_t {
  init = 1, task, shutdown, init_ok, init_failed, outcome, shutdown_done,
  rows_task,  // a read_hdf5 task with the rows its rank read: the TaskMsg, then the columns' bytes
  adopt,      // to a prestarted process (prestart.hpp): its log files and its environment, before init
  slot_outcome,  // an outcome whose rows are in a slot of the rows region (row_region.hpp), not in the frame
};

// One frame.
struct LinkFrame {
  LinkKind kind = LinkKind::init;
  std::string body;
};

// Bytes of a frame's head: the body's length and its kind.
constexpr std::size_t kFrameHeadBytes = sizeof(std::uint64_t) + 1;

// The file descriptors the Python process finds its link on.
constexpr int kLinkInFd = 3;   // frames from the rank
constexpr int kLinkOutFd = 4;  // frames to the rank

// Writes one whole frame whose body is body then tail, from where they are (blocking, EINTR retried); false if the
// reader is gone (EPIPE and the like).
bool write_frame(int fd, LinkKind kind, std::string_view body, std::string_view tail = {});

// Writes one whole frame as write_frame does, but lends body's pages to a pipe (vmsplice(2)) instead of copying
// them in: the reader copies them out once, and the writer is done as soon as the pipe holds them. body must stay
// allocated and unchanged until the reader has read all of it. A fd that is not a pipe gets the bytes written.
// false if the reader is gone.
bool lend_frame(int fd, LinkKind kind, std::string_view body);

// Appends one whole frame to `out`, to be written with others in one go (write_frames).
void append_frame(std::string& out, LinkKind kind, const std::string& body);

// Writes frames made by append_frame (blocking, EINTR retried); false if the reader is gone.
bool write_frames(int fd, const std::string& frames);

// Reads one frame, blocking; nullopt at end of file. Throws prs::Fatal on a torn frame.
std::optional<LinkFrame> read_frame(int fd);

// Collects frames from a non-blocking pipe as bytes arrive.
class FrameBuffer {
 public:
  // Reads what the pipe holds now; false at end of file (the writer closed it or died).
  bool fill(int fd);
  // One read(2) of what a blocking pipe holds, waiting for at least a byte; false at end of file or on an error.
  bool read_once(int fd);
  // The next complete frame, if one is there. Throws prs::Fatal on a frame of an unknown kind.
  std::optional<LinkFrame> next();
  // True while a big frame's body is being read in place: the rest of it is on its way.
  bool in_big_body() const { return big_.has_value(); }

 private:
  static constexpr std::size_t kChunk = std::size_t{1} << 16;        // bytes of one read into bytes_
  static constexpr std::size_t kDirectBody = std::size_t{1} << 18;   // a body this big is read into its own string
  ssize_t read_to(int fd);  // one read(2) into big_ or bytes_: >0 bytes, 0 end of file, -1 an error
  std::string bytes_;
  std::size_t pos_ = 0;                // start of the first frame not yet returned
  std::optional<LinkFrame> big_;       // a big frame whose body is being read in place
  std::size_t big_got_ = 0;            // bytes of big_'s body read so far
  std::vector<LinkFrame> done_;        // big frames read whole, not yet returned (at most one)
};

// Makes malloc keep the memory of freed buffers up to tens of MB (both ends of the link call it once): a mini-batch's
// rows come and go as MB-sized buffers, which glibc otherwise maps and unmaps, or trims, each time (page faults).
void keep_freed_buffers();

// Frame bodies.
std::string encode_settings(const RunnerSettings& s);
RunnerSettings decode_settings(const std::string& body);
// An adopt body: the stdout and stderr files, then the environment's NAME=VALUE entries, each ended by a NUL.
std::string encode_adoption(const std::string& stdout_file, const std::string& stderr_file,
                            const std::vector<std::string>& env);
// What an adopt body holds.
struct Adoption {
  std::string stdout_file;       // the process's fd 1 appends here
  std::string stderr_file;       // its fd 2
  std::vector<std::string> env;  // its environment, in order
};
// An adopt body's parts back. Throws prs::Fatal on a body without both files or with an entry without its end.
Adoption decode_adoption(const std::string& body);
// An outcome: its rows, then the other fields and their length (decode_outcome moves the rows out, no copy).
std::string encode_outcome(std::uint64_t attempt_id, const RunOutcome& o);
// Writes an outcome frame whose rows are `rows` (o.rows is not sent), from where they are: no copy in user space.
bool write_outcome(int fd, std::uint64_t attempt_id, const RunOutcome& o, std::string_view rows);
std::pair<std::uint64_t, RunOutcome> decode_outcome(std::string body);
// Where a slot_outcome's rows are.
struct SlotRef {
  std::uint32_t slot = 0;   // the slot of the rows region
  std::uint64_t bytes = 0;  // bytes of rows at its start
};
// Writes a slot_outcome frame: the outcome's fields (o.rows is not sent) and where its rows are.
bool write_slot_outcome(int fd, std::uint64_t attempt_id, const RunOutcome& o, SlotRef rows);
// A slot_outcome body's attempt, outcome (without rows) and where its rows are. Throws prs::Fatal on a torn body.
std::pair<std::uint64_t, RunOutcome> decode_slot_outcome(std::string body, SlotRef& rows);
// A rows_task body: the task as the master sent it, then each column's name, dtype, bytes and string ends.
std::string encode_rows_task(const TaskMsg& task, const std::vector<ColumnBytes>& columns);
// The task of a rows_task body; columns get views into body, which must outlive them.
TaskMsg decode_rows_task(const std::string& body, std::vector<ColumnView>& columns);

}  // namespace prs
