#pragma once
// --trace FILE.json: a timeline of the job in the Chrome trace event format (opens in Perfetto and chrome://tracing).
// Rank 0 records it from what it sees (no extra MPI traffic): one complete span per mini-batch attempt on the track
// of the worker that ran it, each worker's init() and shutdown, and the master's phases. Spans are appended to an
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
  // Writes the file (a temporary, then rename). Throws prs::Error naming the path.
  void write() const;
  // The file, as given.
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string events_;  // comma-separated JSON event objects
};

// A JSON string literal (quotes and escapes) for a span's args.
std::string json_quoted(const std::string& text);

}  // namespace prs
