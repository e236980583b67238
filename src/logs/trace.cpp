#include "prs/logs/trace.hpp"

#include <cstdio>

#include "prs/logs/job_logs.hpp"
#include "prs/logs/json_text.hpp"

namespace prs {

TraceRecorder::TraceRecorder(std::string path) : path_(std::move(path)) {}

namespace {

// Tracks are threads of one process; ids start at 1 (viewers treat pid and tid 0 as the kernel's idle task).
std::string tid_of(int track) { return std::to_string(track + 1); }

}  // namespace

void TraceRecorder::process(const std::string& name) {
  if (!on()) return;
  if (!events_.empty()) events_ += ",\n";
  events_ += "{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"args\":{\"name\":" + json_quoted(name) + "}}";
}

void TraceRecorder::track(int track, const std::string& name) {
  if (!on()) return;
  if (!events_.empty()) events_ += ",\n";
  events_ += "{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":" + tid_of(track) +
             ",\"args\":{\"name\":" + json_quoted(name) + "}},\n";
  events_ += "{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":" + tid_of(track) +
             ",\"args\":{\"sort_index\":" + std::to_string(track) + "}}";
}

void TraceRecorder::span(int track, const std::string& name, const char* category, double start, double seconds,
                         const std::string& args_json) {
  if (!on()) return;
  char head[160];
  std::snprintf(head, sizeof head, "\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%.0f,\"dur\":%.0f", track + 1, (start + shift_) * 1e6,
                seconds < 0 ? 0.0 : seconds * 1e6);
  if (!events_.empty()) events_ += ",\n";
  events_ += "{\"name\":" + json_quoted(name) + ",\"cat\":\"" + category + "\"," + head;
  if (!args_json.empty()) events_ += ",\"args\":{" + args_json + "}";
  events_ += "}";
}

void TraceRecorder::write() const {
  if (!on()) return;
  char origin[96];
  std::snprintf(origin, sizeof origin, "\"otherData\":{\"origin_unix_seconds\":%.6f},", origin_unix_);
  write_file_atomically(path_, std::string("{\"displayTimeUnit\":\"ms\",") + origin + "\"traceEvents\":[\n" + events_ +
                                   "\n]}\n");
}

std::string json_quoted(const std::string& text) {
  std::string out = json_text(Json(text));  // nlohmann's escaping; invalid UTF-8 replaced
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

}  // namespace prs
