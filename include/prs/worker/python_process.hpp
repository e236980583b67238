#pragma once
// A worker rank's handle on the process that runs the entry script: this binary re-executed in its Python mode
// (python_main.hpp), linked by two pipes (python_link.hpp), in a process group of its own (so the job's signals go
// to the ranks and a hard kill takes the script's own children too) and killed with its rank (PR_SET_PDEATHSIG).
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "prs/worker/python_link.hpp"

namespace prs {

// "killed by signal 11 (SIGSEGV)" or "exited with code 3", from a waitpid status.
std::string describe_exit(int wait_status);

// This program's own path (/proc/self/exe), which the worker re-executes in its Python mode. Throws prs::Fatal.
std::string this_executable();

// The Python process of one worker rank. Move-only; the destructor kills what is left of it and never throws.
class PythonProcess {
 public:
  // Starts `exe --python-process` with the link on fds 3 and 4 (and region_fd, the rows region, on 5 if >= 0) and
  // sends it the settings; its stdout and stderr are appended to the two files (created as needed; "" keeps the
  // rank's own). Throws prs::Fatal.
  static PythonProcess start(const std::string& exe, const RunnerSettings& settings, int region_fd = -1,
                             const std::string& stdout_file = "", const std::string& stderr_file = "");
  // Starts `exe --python-process --prestart python [--preload SCRIPT CODE_DIR]` with env (NAME=VALUE entries) as
  // its environment, region_fd on fd 5 as start() does, its fds 1 and 2 on /dev/null: it starts the interpreter and the runner (with preload = {script,
  // code folder}, it imports the script's installed imports: preload.hpp) and waits for adopt(). Throws prs::Fatal.
  static PythonProcess prestart(const std::string& exe, const std::string& python, int region_fd,
                                const std::vector<std::string>& env, const std::vector<std::string>& preload = {});
  // Hands a prestarted process its log files (created here as start() creates them; the process appends to them),
  // its environment (env: what it would have inherited) and its settings. Throws prs::Fatal as start() does.
  void adopt(const RunnerSettings& settings, const std::string& stdout_file, const std::string& stderr_file,
             const std::vector<std::string>& env);
  PythonProcess() = default;
  PythonProcess(PythonProcess&& other) noexcept;
  PythonProcess& operator=(PythonProcess&& other) noexcept;
  PythonProcess(const PythonProcess&) = delete;
  PythonProcess& operator=(const PythonProcess&) = delete;
  ~PythonProcess();

  // A process was started and not yet reaped.
  bool alive() const { return pid_ > 0; }
  // Its process id (and process group id).
  pid_t pid() const { return pid_; }
  // Sends a frame; false if the process is gone.
  bool send(LinkKind kind, const std::string& body);
  // Sends a frame whose body's pages are lent to the pipe (lend_frame): body stays unchanged until the process
  // has read it; false if the process is gone.
  bool lend(LinkKind kind, std::string_view body);
  // Sends frames made by append_frame in one write; false if the process is gone.
  bool send_frames(const std::string& frames);
  // Waits up to `wait` for frames and returns the complete ones; closed becomes true at end of file.
  std::vector<LinkFrame> receive(std::chrono::microseconds wait, bool& closed);
  // Reaps the process if it ended and returns its waitpid status; nullopt while it runs.
  std::optional<int> try_reap();
  // Reaps it, waiting up to `patience` after killing its process group; the status, or nullopt if it would not go.
  std::optional<int> kill_and_reap(std::chrono::milliseconds patience);
  // Its resident memory in bytes (/proc/PID/statm); 0 when unknown.
  std::uint64_t rss_bytes() const;

 private:
  // Spawns exe args with envp, the link on fds 3 and 4, region_fd (>= 0) on 5, stdout_fd/stderr_fd (>= 0) on 1
  // and 2, or with quiet /dev/null on 1 and 2.
  static PythonProcess spawn(const std::string& exe, const std::vector<std::string>& args, char* const envp[],
                             int region_fd, int stdout_fd, int stderr_fd, bool quiet);
  void close_pipes();
  pid_t pid_ = -1;
  int to_fd_ = -1;    // rank -> Python
  int from_fd_ = -1;  // Python -> rank, non-blocking
  FrameBuffer frames_;
};

}  // namespace prs
