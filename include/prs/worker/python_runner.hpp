#pragma once
// The entry script inside the embedded interpreter: init() once, run(mini_batch) per attempt, shutdown() at the end.
//
// Interpreter lifetime: the caller owns one pybind11::scoped_interpreter (created with init_signal_handlers=false
// so that Ctrl-C never becomes a KeyboardInterrupt inside run()); a PythonRunner must be destroyed before it.
// All calls happen on the thread that created the interpreter (the process's main thread, where Python's signal
// handlers run: the run() timeout is a SIGALRM turned into TimeoutError there).
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "prs/input/mltable.hpp"
#include "prs/mpi/protocol.hpp"

namespace prs {

// What the runner needs to know; filled from JobConfig by the worker.
struct RunnerSettings {
  std::string entry_script;                    // absolute path of the .py file
  std::string code_dir;                        // prepended to sys.path
  std::vector<std::string> argv;               // sys.argv, argv[0] = entry script path
  int timeout_seconds = 60;                    // run() is interrupted with TimeoutError after this; 0 = never
  bool format_rows = true;                     // false with summary_only: rows are counted, not formatted
  bool dataframe_header = false;               // also format a DataFrame's header line (RunOutcome::header)
  bool row_records = false;                    // a .h5 output: rows as one binary record (prs/output/row_record.hpp)
  std::string module_dir;                      // put on sys.path after code_dir: azureml_user.parallel_run
  std::string logging_level;                   // the root logger's level ("INFO"); "" leaves Python's default
  TableReader table;                           // how a tabular mini-batch's bytes are parsed
  std::string python;                          // sys.executable: a virtual environment's bin/python3, "" = Debian's
};

// One column of a read_hdf5 mini-batch inside the frame the Python process received (not copied).
struct ColumnView {
  std::string name;        // the DataFrame column
  std::string dtype;       // numpy dtype of data; "str": UTF-8 values one after another
  std::string_view data;   // the values
  std::string_view ends;   // "str": where each value ends in data (uint64, native order); else empty
};

// The outcome of one run(mini_batch) call.
struct RunOutcome {
  bool ok = false;              // run() returned a DataFrame, list, tuple or ndarray
  bool timed_out = false;       // run() was interrupted by the timeout
  std::uint64_t returned = 0;   // len() of what run() returned
  std::uint64_t successes = 0;  // returned, capped at the number of inputs
  std::string rows;             // the append_row bytes or row record (empty with summary_only or when !ok)
  std::string header;           // a DataFrame's header line, with dataframe_header (the master writes it once)
  std::string error;            // the Python traceback (or the wrong-return message) when !ok
  double seconds = 0;           // wall time of the call
  std::uint64_t table_rows = kNoRows;  // a tabular mini-batch's rows as parsed (kNoRows: a file list, or no parse)
};

// Raised by init() when the entry script cannot serve: import error, init() raised, no run() function.
class EntryScriptError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;  // what(): the traceback or the reason
};

// The entry script's module and functions, cached; dies before the interpreter.
class PythonRunner {
 public:
  explicit PythonRunner(RunnerSettings settings);
  ~PythonRunner();
  PythonRunner(const PythonRunner&) = delete;
  PythonRunner& operator=(const PythonRunner&) = delete;

  // Compiles prs_mpi's own helper module into the interpreter, as init() would; no user code, nothing of the job
  // (a prestarted process does it before it knows its job): the parts only some jobs use (the table reader, the
  // .h5 row records) wait for init(). Throws pybind11::error_already_set.
  static void prepare();
  // Makes os.environ (and os.environb, posix.environ: the same data) these NAME=VALUE entries, in order, putenv() and unsetenv()
  // changing the C environment with it. Throws pybind11::error_already_set.
  static void set_environment(const std::vector<std::string>& entries);

  // Sets sys.path and sys.argv, imports the entry script from its path and calls init() if it has one; the root
  // logger takes logging_level once `logging` is imported (now if it is already). Throws EntryScriptError with the
  // traceback.
  void init();

  // Calls run() with a list of path strings. Never throws for Python errors: they come back in the outcome.
  RunOutcome run_files(const std::vector<std::string>& paths);

  // Sets prs.mini_batch_id and prs.attempt (the native `prs` module) for the next run() call.
  void set_current(std::uint64_t batch_id, std::uint32_t attempt);
  // Reads and parses a tabular mini-batch's ranges into one pandas.DataFrame (keys added or rows kept as its
  // KeyUse says) and calls run() with it. A bad record fails the attempt with a message naming the file and byte
  // offset. Never throws for Python errors.
  RunOutcome run_table(const TableTask& task);
  // Builds a pandas.DataFrame of the columns a rank read (read_hdf5; numpy.frombuffer, one copy) and calls run()
  // with it. Never throws for Python errors.
  RunOutcome run_rows(const TableRange& range, const std::vector<ColumnView>& columns);
  // Flushes sys.stdout and sys.stderr (what run() printed reaches its log files before its outcome is reported).
  // Never throws.
  void flush_streams();

  // Calls shutdown() if the script has one; returns the traceback if it raised, else "".
  std::string shutdown();

  // From now on the run_*() calls leave outcome.rows empty and keep the rows in Python, for rows() (no copy).
  void keep_rows_in_python();
  // The rows of the last run_*() call with keep_rows_in_python(), valid until the next call; empty otherwise.
  std::string_view rows() const;

 private:
  template <typename Call>
  RunOutcome guarded_run(const char* name, Call call);  // the frame every run_* shares
  struct State;
  RunnerSettings settings_;
  std::unique_ptr<State> state_;
  bool keep_rows_ = false;  // keep_rows_in_python() was called
};

}  // namespace prs
