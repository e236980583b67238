#pragma once
// --trace FILE.json: a timeline of the job in the Chrome trace event format (opens in Perfetto and chrome://tracing).
// Rank 0 records it from what it sees (no extra MPI traffic): one complete span per mini-batch attempt on the track
// of the worker that ran it, each worker's init() and shutdown, rank 0's start-up phases (MPI_Init, the checks,
// the listing, the fingerprint) and the master's phases. Time zero is rank 0's start. Spans are appended to an
// in-memory buffer (a few dozen bytes each) and the file is written once, at the end.
#include <string>

namespace prs {

// Collects trace events; does nothing when off.
class TraceRecorder {
 public:
  // path: the file to write at the end; "" = off.
  explicit TraceRecorder(std::string path = "");
  // Whether events are recorded.
  bool on() const { return !path_.empty(); }
  // Names the one process the tracks belong to.
  void process(const std::string& name);
  // Names a track: track 0 is the master, track N is rank N (written as pid 1, tid N + 1: viewers take 0 for idle).
  void track(int track, const std::string& name);
  // A complete span [start, start + seconds) on a track (seconds since the master started); args_json: "" or the members of an object without its
  // braces, already JSON ("\"batch\":3,\"attempt\":1").
  void span(int track, const std::string& name, const char* category, double start, double seconds,
            const std::string& args_json = "");
  // Spans given from now on are placed `seconds` later: rank 0 records its start-up phases in seconds since its
  // start, then shifts by the time the master loop started, whose clock the master's spans use.
  void shift(double seconds) { shift_ = seconds; }
  // The wall-clock time (Unix seconds) of the trace's zero, written as otherData.origin_unix_seconds.
  void origin(double unix_seconds) { origin_unix_ = unix_seconds; }
  // Writes the file (a temporary, then rename). Throws prs::Error naming the path.
  void write() const;
  // The file, as given.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string events_;  // comma-separated JSON event objects
  double shift_ = 0;
  double origin_unix_ = 0;
};

// A JSON string literal (quotes and escapes) for a span's args.
std::string json_quoted(const std::string& text);

}  // namespace prs
