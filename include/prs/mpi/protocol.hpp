#pragma once
// The master/worker protocol: one tag per message kind, the messages, and their byte encoding.
//
// A worker's life:  ready | init_failed  ->  (task -> result [-> commit -> written | discard])*  ->  stop -> finished.
// A worker rank supervises the process that runs the entry script: when that process dies (a signal, an exit, the
// hard timeout, recycling) the worker reports the attempt it ran, hands back its queued tasks as cancelled, says
// restarting, and says ready again once a fresh process finished init() (or init_failed: the worker is retired).
// A worker that can no longer work (its output write failed) says fatal; the master stops the job.
// The master keeps each worker fed ahead (prefetch), so a worker has its next task before its current one ends.
// Rows never pass through the master: a result says how many bytes the worker holds, the master answers with
// commit (write them at this offset of the shared output) or discard (a retried attempt's rows), and the
// worker's written acknowledges that the bytes are in the file, with their CRC-32C for the journal.
#include <cstdint>
#include <string>
#include <vector>

namespace prs {

// MPI tags, one per message kind.
enum class Tag : int {
  ready = 1,    // worker -> master: init() done (or the worker is idle: a node's concurrency cap)
  init_failed,  // worker -> master: the entry script cannot serve; traceback attached
  task,         // master -> worker: run this attempt of a mini-batch
  result,       // worker -> master: how an attempt ended
  commit,       // master -> worker: write the attempt's rows at this offset
  discard,      // master -> worker: drop the attempt's rows (it will be retried)
  written,      // worker -> master: the committed rows are in the file
  cancel,       // master -> worker: drop the tasks not yet started (each comes back as a cancelled result)
  stop,         // master -> worker: no more work; call shutdown(), answer finished, join the final collectives
  restarting,   // worker -> master: its Python process ended and a fresh one runs init(); it holds no task now
  fatal,        // worker -> master: this rank cannot go on (e.g. writing the output failed); the text says why
  finished,     // worker -> master: stopped and shut down; it is about to join the final collectives
};

// Human-readable tag name, for logs and errors.
const char* tag_name(Tag tag);

// How an attempt ended.
enum class AttemptStatus : std::uint8_t { ok, failed, timed_out, cancelled };

// Tag::ready
struct ReadyMsg {
  std::string host;   // the worker's host name
  bool idle = false;  // beyond max_concurrency_per_instance on its node: takes no work
  std::int64_t pid = 0;  // the worker rank's process id (logs; a lost rank can be named)
  double init_seconds = 0;  // from the start of its Python process until init() returned (0 when idle)
  double ready_for = 0;     // seconds since init() returned: the ready waited that long for the job's plan
};

// Tag::restarting and Tag::fatal: one line of text (why).
struct TextMsg {
  std::string text;
};

// Tag::init_failed
struct InitFailedMsg {
  std::string host;       // the worker's host name
  std::string traceback;  // what the entry script raised, or why it cannot serve
};

// A tabular mini-batch: bytes of one file, whole records, and where the header naming its columns lies. The worker
// reads and parses them itself (how: the job's MLTable reader, known to every rank).
struct TableRange {
  std::string path;                 // the file
  std::uint64_t offset = 0;         // first byte (a record start)
  std::uint64_t length = 0;         // bytes
  std::string header_path;          // the file whose header names the columns; empty: no header (Column1..N)
  std::uint64_t header_offset = 0;  // the header record's first byte in header_path
  std::uint64_t header_length = 0;  // its bytes, newline included
};

// How a partitioned tabular mini-batch (partition_keys) uses its key values.
enum class KeyUse : std::uint8_t {
  none,         // not partitioned: the ranges' rows as they are
  add_columns,  // keys from hive-style folders: each key becomes a column of its value (a string)
  keep_rows,    // keys are columns: only the rows whose key columns hold key_values are kept
};

// A tabular mini-batch: one or more ranges read in order into one DataFrame, and what its keys do.
struct TableTask {
  std::vector<TableRange> ranges;       // >= 1 unless a key group's files hold no rows
  KeyUse key_use = KeyUse::none;
  std::vector<std::string> key_names;   // partition_keys, in the job's order
  std::vector<std::string> key_values;  // this mini-batch's value of each key (raw text as in the file or path)
};

// Tag::task
struct TaskMsg {
  std::uint64_t batch_id = 0;    // mini-batch number, dense in input order
  std::uint64_t attempt_id = 0;  // unique over the job
  std::uint32_t attempt = 0;     // 1 for the first try of this batch
  std::vector<std::string> items;  // file paths (a file-list mini-batch)
  bool is_table = false;           // a tabular mini-batch: table holds it, items is empty
  TableTask table;                 // with is_table
};

// ResultMsg::rows when the worker parsed no table (a file list, or the range failed to parse).
constexpr std::uint64_t kNoRows = UINT64_MAX;

// Tag::result
struct ResultMsg {
  std::uint64_t attempt_id = 0;
  AttemptStatus status = AttemptStatus::failed;
  std::uint64_t returned = 0;      // len() of what run() returned
  std::uint64_t successes = 0;     // returned, capped at the batch's item count
  std::uint64_t row_bytes = 0;     // bytes the worker holds for this attempt
  std::uint64_t header_bytes = 0;  // bytes of a DataFrame header line it can write before the rows
  double seconds = 0;              // run() wall time
  std::string error;               // traceback when not ok
  std::uint64_t rows = kNoRows;    // a tabular mini-batch's rows, as parsed: its items
};

// Tag::commit
struct CommitMsg {
  std::uint64_t attempt_id = 0;
  std::uint64_t offset = 0;  // where the bytes go in the shared output
  bool with_header = false;  // write the header line first (once per job)
};

// Tag::discard
struct AttemptMsg {
  std::uint64_t attempt_id = 0;
};

// Tag::written
struct WrittenMsg {
  std::uint64_t attempt_id = 0;
  std::uint32_t checksum = 0;  // CRC-32C of the bytes written (header line included): the journal keeps it
};

// Encoding: each message to and from a flat byte buffer (one MPI_BYTE message). decode_* throw prs::Fatal on a
// truncated or malformed buffer.
std::string encode(const ReadyMsg& m);
std::string encode(const TextMsg& m);
std::string encode(const InitFailedMsg& m);
std::string encode(const TaskMsg& m);
std::string encode(const ResultMsg& m);
std::string encode(const CommitMsg& m);
std::string encode(const AttemptMsg& m);
std::string encode(const WrittenMsg& m);
ReadyMsg decode_ready(const std::string& bytes);
TextMsg decode_text(const std::string& bytes);
InitFailedMsg decode_init_failed(const std::string& bytes);
TaskMsg decode_task(const std::string& bytes);
ResultMsg decode_result(const std::string& bytes);
CommitMsg decode_commit(const std::string& bytes);
AttemptMsg decode_attempt(const std::string& bytes);
WrittenMsg decode_written(const std::string& bytes);

}  // namespace prs
