#include "prs/worker/python_main.hpp"

#include <pybind11/embed.h>
#include <sched.h>
#include <sys/prctl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <ctime>
#include <cstdlib>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <optional>
#include <string>

#include "prs/error.hpp"
#include "prs/logs/process_logs.hpp"
#include "prs/mpi/protocol.hpp"
#include "prs/worker/python_link.hpp"
#include "prs/worker/prestart.hpp"
#include "prs/worker/preload.hpp"
#include "prs/worker/python_runner.hpp"
#include "prs/worker/row_region.hpp"

namespace py = pybind11;

namespace prs {

namespace {

// Dies with the rank (SIGKILL on the parent's death); false if the rank is already gone.
bool tie_to_rank() {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  const char* parent = std::getenv("PRS_WORKER_PID");
  return parent != nullptr && std::to_string(getppid()) == parent;
}

bool is_pipe(int fd) {
  struct stat st{};
  return fstat(fd, &st) == 0 && S_ISFIFO(st.st_mode);
}

// The variables an MPI launcher sets for its ranks: this process is not one, and an entry script that imports
// mpi4py must find itself a singleton rather than wait for a launcher that does not know it.
void forget_mpi_launcher() {
  std::vector<std::string> names;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    std::string name = entry.substr(0, entry.find('='));
    if (is_launcher_variable(name)) names.push_back(name);
  }
  for (const auto& name : names) unsetenv(name.c_str());
}

// Python as /usr/bin/python3 starts it: the "Python configuration" (locale coercion and UTF-8 mode for the C
// locale, PYTHON* variables honoured), sys.executable = Debian's python3 (multiprocessing's spawn runs it). With
// a virtual environment, sys.executable is its bin/python3: Python's own start-up then finds its pyvenv.cfg, sets
// sys.prefix to it and puts its site-packages on sys.path (and Debian's dist-packages only with
// include-system-site-packages), exactly as running that bin/python3 would.
void start_interpreter(std::optional<py::scoped_interpreter>& interpreter, const std::string& python) {
  const char* executable = python.empty() ? PRS_PYTHON_EXECUTABLE : python.c_str();
  PyPreConfig pre;
  PyPreConfig_InitPythonConfig(&pre);
  PyStatus status = Py_PreInitialize(&pre);
  if (PyStatus_Exception(status)) throw Fatal(std::string("Python pre-initialisation failed: ") + status.err_msg);
  PyConfig config;
  PyConfig_InitPythonConfig(&config);
  config.parse_argv = 0;
  PyConfig_SetBytesString(&config, &config.executable, executable);
  PyConfig_SetBytesString(&config, &config.program_name, executable);
  interpreter.emplace(&config, 0, nullptr, false);
}

void flush_python_streams() {
  PyRun_SimpleString(
      "import sys\n"
      "for _s in (sys.stdout, sys.stderr):\n"
      "    try:\n        _s.flush()\n    except Exception:\n        pass\n");
}

// "=== 2026-12-01 10:02:03 pid 1234: Python process started, init()" on stdout and stderr: the start of this
// process's lines in its log files, which every process of the worker (and every resumed run) appends to.
void mark_start() {
  std::string line = "=== " + log_time(std::time(nullptr)) + " pid " + std::to_string(getpid()) +
                     ": Python process started, init()\n";
  for (int fd : {STDOUT_FILENO, STDERR_FILENO})
    if (::write(fd, line.data(), line.size()) < 0) continue;  // no stream: nothing to mark
}

// Leaves without finalising Python: threads the script started must not keep the process alive.
[[noreturn]] void leave(int code) {
  if (Py_IsInitialized()) flush_python_streams();
  std::cout.flush();
  std::cerr.flush();
  std::_Exit(code);
}

// The outcome to the rank: its rows in a free slot of the rows region if they fit one, else in the frame.
bool send_outcome(SlotWriter& slots, std::uint64_t attempt_id, const RunOutcome& outcome, std::string_view rows) {
  if (auto slot = slots.put(rows)) return write_slot_outcome(kLinkOutFd, attempt_id, outcome, {*slot, rows.size()});
  return write_outcome(kLinkOutFd, attempt_id, outcome, rows);
}

// Serves tasks until shutdown or the rank closes the link. Tasks the rank handed ahead are read in one go with
// the current one, so this process never waits for the rank between two mini-batches.
void serve(PythonRunner& runner, SlotWriter& slots, pid_t self) {
  FrameBuffer in;
  for (;;) {
    auto frame = in.next();
    if (!frame) {
      if (!in.read_once(kLinkInFd)) return;
      continue;
    }
    if (frame->kind == LinkKind::shutdown) {
      std::string error = runner.shutdown();
      write_frame(kLinkOutFd, LinkKind::shutdown_done, error);
      return;
    }
    if (frame->kind != LinkKind::task && frame->kind != LinkKind::rows_task)
      throw Fatal("python process: unexpected frame");
    std::vector<ColumnView> columns;  // views into frame->body
    const bool rows = frame->kind == LinkKind::rows_task;
    TaskMsg task = rows ? decode_rows_task(frame->body, columns) : decode_task(frame->body);
    runner.set_current(task.batch_id, task.attempt);
    RunOutcome outcome = rows            ? runner.run_rows(task.table.ranges.at(0), columns)
                         : task.is_table ? runner.run_table(task.table)
                                         : runner.run_files(task.items);
    if (getpid() != self) std::_Exit(0);  // a child the script forked returned from run(): it is not the worker
    runner.flush_streams();
    if (!send_outcome(slots, task.attempt_id, outcome, runner.rows())) return;
  }
}

// init(), then the tasks until shutdown; never returns.
[[noreturn]] void serve_job(const RunnerSettings& settings) {
  SlotWriter slots = SlotWriter::attach(kRowRegionFd);  // mapped before the script runs, its fd closed
  PythonRunner runner(settings);
  try {
    runner.init();
  } catch (const EntryScriptError& e) {
    write_frame(kLinkOutFd, LinkKind::init_failed, e.what());
    leave(0);
  }
  const auto returned = std::chrono::steady_clock::now().time_since_epoch();  // the rank reports the init() time
  const std::string when = std::to_string(std::chrono::duration_cast<std::chrono::nanoseconds>(returned).count());
  if (!write_frame(kLinkOutFd, LinkKind::init_ok, when)) leave(0);
  runner.keep_rows_in_python();  // copied into a slot, or written to the pipe, from the bytes run() produced
  serve(runner, slots, getpid());
  leave(0);
}

// The installed imports of the entry script (ahead: script, code folder), their output held; false if one raised
// (the process is then unfit: its modules are half imported).
// changes: the variables the imports set or removed (os.environ.setdefault at an import), which the adopted
// process keeps on top of its environment as a fresh process that imported them would have them.
bool imported_ahead(HeldOutput& held, const std::vector<std::string>& ahead, bool& imported,
                    std::vector<std::string>& changes) {
  held.hold();
  bool fit = true;
  const Environment before = Environment::current();
  try {
    imported = !import_ahead(ahead.at(0), ahead.at(1), PRS_PYTHON_MODULES).empty();
  } catch (const Fatal&) {
    fit = false;
  }
  changes = environment_changes(before.entries(), Environment::current().entries());
  flush_python_streams();
  std::fflush(nullptr);
  return fit;
}

// An adopted process that cannot serve the job as it is (an import ahead raised, or it imported ahead with other
// variables than its worker's now) becomes a fresh one: this binary re-executed as `--python-process` with the
// environment it would have inherited and its log files on fds 1 and 2, which then reads the init frame as a process
// started after MPI_Init does. Its rank sees the same process; what was held is dropped (the new imports print it).
[[noreturn]] void start_afresh(const std::vector<std::string>& env) {
  std::vector<char*> envp;
  for (const std::string& entry : env) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  std::string exe = this_executable();
  std::string mode = "--python-process";
  char* argv[] = {exe.data(), mode.data(), nullptr};
  execve(exe.c_str(), argv, envp.data());
  std::_Exit(1);  // the rank sees a process that ended at its start
}

// The adopt frame's log files on fds 1 and 2 (sys.stdout and sys.stderr write there from now on); false if one
// cannot be opened.
bool redirect_streams(const Adoption& a) {
  for (auto [path, fd] : {std::pair{&a.stdout_file, STDOUT_FILENO}, std::pair{&a.stderr_file, STDERR_FILENO}}) {
    const int file = ::open(path->c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (file < 0) return false;
    const bool moved = dup2(file, fd) == fd;  // dup2 clears close-on-exec on fd
    ::close(file);
    if (!moved) return false;
  }
  return true;
}

// A prestarted process (prestart.hpp): the interpreter and prs_mpi's runner, with an entry script the installed
// modules it imports (preload.hpp; what
// they print is held until the adoption), then the wait for the rank. Once adopted: its log files, the environment
// it would have inherited (launcher variables left out, as at the start above; what the imports ahead set in it
// kept), the start marker, what was held, and the job as any other process serves it; or, unfit (start_afresh), a
// fresh process in its place. A rank that ends first (a job refused by rank 0, an idle worker) closes the link or
// kills it: it leaves without a word, no file made. Anything that goes wrong before the adoption ends it with exit
// code 1 and nothing said: the rank starts a fresh process.
[[noreturn]] void serve_prestarted(const std::string& python, const std::vector<std::string>& ahead) {
  const Environment started = Environment::current();  // as spawned, launcher variables left out
  // SCHED_BATCH (nice unchanged) until adopted: the interpreter's start does not preempt the ranks in MPI_Init,
  // whose round trips wait for the CPU otherwise; any process may go back to SCHED_OTHER, and does below.
  sched_param normal{};
  const bool batch = sched_setscheduler(0, SCHED_BATCH, &normal) == 0;
  std::optional<py::scoped_interpreter> interpreter;
  start_interpreter(interpreter, python);
  PythonRunner::prepare();
  HeldOutput held;
  bool imported = false;
  std::vector<std::string> changes;
  const bool fit = ahead.empty() || imported_ahead(held, ahead, imported, changes);
  auto frame = read_frame(kLinkInFd);
  if (!frame) std::_Exit(0);
  if (frame->kind != LinkKind::adopt) std::_Exit(1);
  if (batch && sched_setscheduler(0, SCHED_OTHER, &normal) != 0) std::_Exit(1);  // the script runs as always
  const Adoption adoption = decode_adoption(frame->body);
  if (!redirect_streams(adoption)) std::_Exit(1);
  std::vector<std::string> env;
  for (const std::string& entry : adoption.env)
    if (!is_launcher_variable(entry.substr(0, entry.find('=')))) env.push_back(entry);
  if (!fit || (imported && !import_differences(started.entries(), env).empty())) start_afresh(env);
  clearenv();  // what os.environ does not know of goes too
  PythonRunner::set_environment(with_changes(env, changes));
  mark_start();
  held.release();
  auto init = read_frame(kLinkInFd);
  if (!init || init->kind != LinkKind::init) std::_Exit(1);
  RunnerSettings settings = decode_settings(init->body);
  if ((settings.python.empty() ? std::string(PRS_PYTHON_EXECUTABLE) : settings.python) != python) std::_Exit(1);
  serve_job(settings);
}

}  // namespace

int run_python_process(int argc, char** argv) {
  const bool ahead = argc == 7 && std::string(argv[4]) == "--preload";  // --preload SCRIPT CODE_DIR
  const bool prestarted = (argc == 4 || ahead) && std::string(argv[2]) == "--prestart";
  if ((argc != 2 && !prestarted) || !is_pipe(kLinkInFd) || !is_pipe(kLinkOutFd)) {
    std::cerr << "prs_mpi: error: --python-process is internal: a worker rank starts it with its link on fds 3 and 4"
              << std::endl;
    return 2;
  }
  if (!tie_to_rank()) return 1;
  // The job's drain signals are the ranks' business; srun delivers them to every process of the step, this one
  // included. SIGTERM and SIGINT keep their defaults, so that multiprocessing's terminate() still works.
  std::signal(SIGUSR1, SIG_IGN);
  std::signal(SIGUSR2, SIG_IGN);
  forget_mpi_launcher();
  keep_freed_buffers();
  if (prestarted) {
    serve_prestarted(argv[3], ahead ? std::vector<std::string>{argv[5], argv[6]} : std::vector<std::string>{});
  }
  auto init = read_frame(kLinkInFd);
  if (!init || init->kind != LinkKind::init) return 1;
  RunnerSettings settings = decode_settings(init->body);
  mark_start();
  std::optional<py::scoped_interpreter> interpreter;
  start_interpreter(interpreter, settings.python);
  serve_job(settings);
}

}  // namespace prs
