#include "prs/worker/python_runner.hpp"

#include <pybind11/embed.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <utility>

#include "row_records_py.hpp"
#include "row_text_py.hpp"
#include "table_reader.hpp"

namespace py = pybind11;

namespace prs {
namespace {

// The module that holds our helper code; created once per interpreter and shared by every runner.
constexpr const char* kHelperName = "_prs_runner";
// The file name its frames carry; format_error() hides them from the user's tracebacks.
constexpr const char* kHelperFile = "<prs_mpi python_runner>";

// Everything that must behave exactly like the cloud service (row formatting, pandas quoting, tracebacks) and the
// run() timer are done in Python: the semantics are Python's, and one call per batch keeps the C++ side thin.
constexpr const char* kHelperSource = R"PY(
# Only what the interpreter's start has imported already (importlib.util: with Debian's site-packages): the rest
# (traceback for an error, logging for logging_level) is imported when it is needed, not on every worker's start.
import _signal, importlib.util, os, sys, types

_FILE = sys._getframe().f_code.co_filename  # kHelperFile
_timer = {"armed": False, "fired": False, "seconds": 0}
_state = {}  # "prs": the native module; "traceback": the standard module, once an error needed it
_SIGALRM = _signal.SIGALRM
_TRACEBACK_PY = os.path.join(os.path.dirname(os.__file__), "traceback.py")  # the standard library's


def _on_alarm(signum, frame):
    # A late alarm (run() already returned) is ignored: it must not surface in the next, unrelated Python call.
    if _timer["armed"]:
        _timer["armed"] = False
        _timer["fired"] = True
        raise TimeoutError(f"run() exceeded the timeout of {_timer['seconds']} s")


def _interpreter():
    # "/v/bin/python3 (Python 3.11.2, virtual environment /v, without system site packages)"
    where = "no virtual environment"
    if sys.prefix != sys.base_prefix:
        system = "without"
        try:
            with open(os.path.join(sys.prefix, "pyvenv.cfg")) as cfg:
                for line in cfg:
                    key, _, value = line.partition("=")
                    if key.strip().lower() == "include-system-site-packages" and value.strip().lower() == "true":
                        system = "with"
        except OSError:
            pass
        where = f"virtual environment {sys.prefix}, {system} system site packages"
    return f"{sys.executable} (Python {sys.version.split()[0]}, {where})"


def _traceback():
    # The standard traceback module, imported at the first error. A module of that name the script brought (its
    # code folder is first on sys.path) does not stand in for it: the standard file is then loaded on its own,
    # outside sys.modules.
    tb = _state.get("traceback")
    if tb is None:
        tb = sys.modules.get("traceback")
        if tb is None and getattr(importlib.util.find_spec("traceback"), "origin", None) == _TRACEBACK_PY:
            import traceback as tb
        if getattr(tb, "__file__", None) != _TRACEBACK_PY:
            spec = importlib.util.spec_from_file_location("traceback", _TRACEBACK_PY)
            tb = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(tb)
        _state["traceback"] = tb
    return tb


def format_error(exc):
    # Only the user's frames: ours and importlib's plumbing tell them nothing.
    traceback = _traceback()
    te = traceback.TracebackException.from_exception(exc)
    te.stack = traceback.StackSummary.from_list(
        [f for f in te.stack if f.filename != _FILE and not f.filename.startswith("<frozen importlib")])
    text = "".join(te.format())
    if isinstance(exc, ImportError):  # the last line, which the console shows, names the module and the interpreter
        text += f"cannot import {exc.name or 'a module'}: {exc}; the interpreter is {_interpreter()}\n"
    return text


def guarded(fn, *args):
    try:
        return fn(*args), None
    except BaseException as exc:
        return None, format_error(exc)


def _native_module():
    # `import prs`: where this process runs and what it runs now (mini_batch_id and attempt inside run()).
    prs = types.ModuleType("prs", "prs_mpi's view of the worker process that runs the entry script.")
    env = os.environ
    prs.rank = int(env.get("PRS_RANK", "0") or 0)
    prs.node = env.get("PRS_NODE", "")
    prs.local_rank = int(env.get("PRS_LOCAL_RANK", "0") or 0)
    prs.mini_batch_id = None
    prs.attempt = None
    prs.log_dir = env.get("PRS_LOG_DIR", "")
    prs.output_dir = env.get("AZUREML_BI_OUTPUT_PATH", "")

    def entry_script():
        from azureml_user.parallel_run import EntryScript
        return EntryScript()

    prs.EntryScript = entry_script
    if "prs" not in sys.modules and importlib.util.find_spec("prs") is None:  # a script's own prs.py wins
        sys.modules["prs"] = prs
    _state["prs"] = prs
    return prs


def set_current(batch_id, attempt):
    prs = _state.get("prs") or _native_module()
    prs.mini_batch_id, prs.attempt = batch_id, attempt


class _LevelOnImport:
    # First on sys.meta_path until `logging` is imported (by the script, or by anything it imports): the module is
    # the one the other finders find (a code folder's own logging.py too), loaded by its own loader, after which
    # the root logger takes the job's logging_level.
    def __init__(self, level):
        self.level = level

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        for finder in [f for f in sys.meta_path if not isinstance(f, _LevelOnImport)]:
            find = getattr(finder, "find_spec", None)
            spec = find(name, path, target) if find is not None else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _ThenLevel(spec.loader, self.level)
                return spec
        return None


class _ThenLevel:
    # A loader that runs the module with its own (and leaves it that one), then sets the root logger's level.
    def __init__(self, loader, level):
        self.loader, self.level = loader, level

    def __getattr__(self, name):  # get_source, is_package, ...: the module's loader answers
        return getattr(self.loader, name)

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader
        _drop_level_finders()
        self.loader.exec_module(module)
        module.getLogger().setLevel(self.level)


def _drop_level_finders():
    # A new list, not the old one changed: another thread's import may be going through the old one.
    if any(isinstance(f, _LevelOnImport) for f in sys.meta_path):
        sys.meta_path = [f for f in sys.meta_path if not isinstance(f, _LevelOnImport)]


def _root_level_on_import(level):
    # The root logger at the job's logging_level as soon as `logging` exists: now if it was imported already,
    # else when the script imports it (a script that never does pays nothing for it).
    _drop_level_finders()  # a runner before this one in the same interpreter (the unit tests) left its own
    logging = sys.modules.get("logging")
    if logging is not None:
        logging.getLogger().setLevel(level)
    else:
        sys.meta_path.insert(0, _LevelOnImport(level))


def _check_pandas():
    # The table reader parses mini-batches with pandas: without it every attempt would fail, so init() does.
    try:
        import pandas  # noqa: F401
    except ImportError as exc:
        raise ModuleNotFoundError(
            f"the table input (type: mltable) needs pandas: {exc}; make the virtual environment with "
            "--system-site-packages (Debian's python3-pandas) or install pandas in it", name="pandas") from None


def load(path, code_dir, argv, module_dir="", logging_level="", needs_pandas=False):
    if sys.path[:1] != [code_dir]:
        sys.path.insert(0, code_dir)
    if module_dir and module_dir not in sys.path:
        sys.path.insert(1, module_dir)  # azureml_user.parallel_run, after the user's own code
    if logging_level:
        _root_level_on_import(logging_level)
    _native_module()
    if needs_pandas:
        _check_pandas()
    sys.argv = list(argv) or [path]
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None:
        raise ImportError(f"cannot import the entry script {path}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # before exec: dataclasses and pickle look the module up by name
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return module


def set_environment(entries):
    # The environment the rank gives its process: os.environ and the C one (putenv, unsetenv) in step, in order
    # (os.environb shares os.environ's data, which on POSIX is posix.environ itself).
    env = os.environb
    for key in list(env):
        del env[key]
    for entry in entries:
        key, sep, value = entry.partition(b"=")
        if sep and key:
            env[key] = value


def flush_streams():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass


def _call_run(run, mini_batch, timeout):
    _timer.update(armed=False, fired=False, seconds=timeout)
    try:
        if timeout > 0:
            # Re-installed if the script replaced it: the timeout must keep working. _signal's getsignal, not
            # signal's: that wrapper's enum lookup raises and catches a ValueError for a function (~4 us a call).
            if _signal.getsignal(_SIGALRM) is not _on_alarm:
                _signal.signal(_SIGALRM, _on_alarm)
            _timer["armed"] = True
            _signal.setitimer(_signal.ITIMER_REAL, timeout)
        try:
            return run(mini_batch), None, False
        finally:
            if timeout > 0:
                _timer["armed"] = False
                _signal.setitimer(_signal.ITIMER_REAL, 0)
    except BaseException as exc:  # KeyboardInterrupt and SystemExit too: a failed attempt, nothing more
        return None, format_error(exc), _timer["fired"]


def _instance_of(obj, module, name):
    # A DataFrame or an ndarray implies its module is loaded: never import pandas just to check.
    mod = sys.modules.get(module)
    return mod is not None and isinstance(obj, getattr(mod, name))


def _format_result(result, format_rows, want_header):
    is_frame = _instance_of(result, "pandas", "DataFrame")
    if not (is_frame or isinstance(result, (list, tuple)) or _instance_of(result, "numpy", "ndarray")):
        return ("run() must return a pandas DataFrame, list, tuple or numpy.ndarray, "
                f"got {type(result).__name__}")
    count = len(result)
    if not format_rows:
        return count, b"", b""
    if format_rows == 2:  # a .h5 output: one binary record (row_records_py.cpp)
        return count, rows_record(result, is_frame), b""
    header = ""
    if is_frame:
        rows = result.to_csv(sep=" ", header=False, index=False)
        if want_header:
            header = result.head(0).to_csv(sep=" ", header=True, index=False)
    else:
        rows = format_text_rows(result)  # row_text_py.cpp: the same bytes for lists of str, int and float
        if rows is not None:
            return count, rows, b""
        rows = "".join(str(element) + "\n" for element in result)
    # surrogateescape: a path that was not valid UTF-8 goes back to its original bytes.
    return count, rows.encode("utf-8", "surrogateescape"), header.encode("utf-8", "surrogateescape")


def run_batch(run, mini_batch, timeout, format_rows, want_header):
    """One attempt: (ok, timed_out, returned, rows, header, error)."""
    result, error, timed_out = _call_run(run, mini_batch, timeout)
    if error is None:
        formatted, error = guarded(_format_result, result, format_rows, want_header)
        if isinstance(formatted, str):
            error = formatted
    if error is not None:
        return False, timed_out, 0, b"", b"", error
    return (True, False) + formatted + ("",)
)PY";

// Compiles and runs Python source in the helper module's namespace.
void run_in(const py::module_& helper, const char* source) {
  auto builtins = py::module_::import("builtins");
  builtins.attr("exec")(builtins.attr("compile")(source, kHelperFile, "exec"), helper.attr("__dict__"));
}

// The helper module, compiled and registered in sys.modules on first use.
py::module_ helper_module() {
  py::dict modules = py::module_::import("sys").attr("modules");
  if (modules.contains(kHelperName)) return modules[kHelperName].cast<py::module_>();
  py::module_ helper = py::module_::import("types").attr("ModuleType")(kHelperName);
  run_in(helper, kHelperSource);
  helper.attr("format_text_rows") = format_text_rows_function();
  modules[kHelperName] = helper;
  return helper;
}

// The helper module with the parts only some jobs use, added once each: the table reader (a table input: its
// source alone takes ~2 ms to compile, and imports json and re) and the .h5 row records.
py::module_ helper_module_for(const RunnerSettings& s) {
  py::module_ helper = helper_module();
  if (s.table.format != TableFormat::file_list && !py::hasattr(helper, "run_table"))
    run_in(helper, table_reader_source());
  if (s.row_records && !py::hasattr(helper, "rows_record")) run_in(helper, row_records_source());
  return helper;
}

// A str decoded as Python decodes file names and argv (surrogateescape), so any path round-trips.
py::str fs_str(const std::string& s) {
  PyObject* decoded = PyUnicode_DecodeFSDefaultAndSize(s.data(), static_cast<Py_ssize_t>(s.size()));
  if (decoded == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::str>(decoded);
}

// The traceback of an error that escaped the helpers (a Python error in our own plumbing).
std::string describe(const py::error_already_set& e) {
  try {
    return helper_module().attr("format_error")(e.value()).cast<std::string>();
  } catch (const py::error_already_set&) {
    return e.what();
  }
}

// The value of a helper guarded() call; its error text becomes an EntryScriptError.
py::object value_or_throw(const py::object& guarded_result) {
  auto pair = guarded_result.cast<py::tuple>();
  if (!pair[1].is_none()) throw EntryScriptError(pair[1].cast<std::string>());
  return pair[0];
}

// module.name if it is callable, else None.
py::object function_or_none(const py::object& module, const char* name) {
  py::object fn = py::getattr(module, name, py::none());
  return PyCallable_Check(fn.ptr()) ? fn : py::none();
}

}  // namespace

// Hidden like pybind11's own types (its namespace is hidden), which GCC otherwise warns about.
struct __attribute__((visibility("hidden"))) PythonRunner::State {
  py::module_ helper;   // _prs_runner
  py::object module;    // the entry script's module
  py::object run;       // its run(mini_batch)
  py::object shutdown;  // its shutdown(), None without one (or once called)
  py::object flush;     // _prs_runner.flush_streams
  py::object rows;      // the last run's rows (bytes), with keep_rows_in_python(); None before and on a failure
};

void PythonRunner::prepare() { helper_module(); }

void PythonRunner::set_environment(const std::vector<std::string>& entries) {
  py::list list;
  for (const std::string& entry : entries) list.append(py::bytes(entry));
  helper_module().attr("set_environment")(list);
}

PythonRunner::PythonRunner(RunnerSettings settings) : settings_(std::move(settings)) {}

// Out of line, where State is complete; runs while the caller's interpreter is still alive.
PythonRunner::~PythonRunner() = default;

void PythonRunner::init() {
  if (state_) throw std::logic_error("PythonRunner::init() called twice");
  try {
    auto state = std::make_unique<State>();
    state->helper = helper_module_for(settings_);
    py::list argv;
    for (const auto& arg : settings_.argv) argv.append(fs_str(arg));
    auto guarded = state->helper.attr("guarded");
    state->module = value_or_throw(guarded(state->helper.attr("load"), fs_str(settings_.entry_script),
                                           fs_str(settings_.code_dir), argv, fs_str(settings_.module_dir),
                                           settings_.logging_level, settings_.table.format != TableFormat::file_list));
    state->run = function_or_none(state->module, "run");
    if (state->run.is_none()) {
      throw EntryScriptError("entry script " + settings_.entry_script + " has no run(mini_batch) function");
    }
    // The service requires init() too; a script without one simply has nothing to prepare.
    py::object init_fn = function_or_none(state->module, "init");
    if (!init_fn.is_none()) value_or_throw(guarded(init_fn));
    state->shutdown = function_or_none(state->module, "shutdown");
    state->flush = state->helper.attr("flush_streams");
    state_ = std::move(state);
  } catch (const py::error_already_set& e) {
    throw EntryScriptError(describe(e));
  }
}

namespace {

// The fields of run_batch's (and run_table's) tuple; the rows into `kept` instead of outcome.rows if it is given.
void take_result(const py::tuple& result, RunOutcome& outcome, py::object* kept) {
  outcome.ok = result[0].cast<bool>();
  outcome.timed_out = result[1].cast<bool>();
  outcome.returned = result[2].cast<std::uint64_t>();
  if (kept != nullptr)
    *kept = result[3];
  else
    outcome.rows = result[3].cast<std::string>();
  outcome.header = result[4].cast<std::string>();
  outcome.error = result[5].cast<std::string>();
}

// run_table's and run_rows's tuple: run_batch's plus the rows read (-1: none could be read).
void take_table_result(const py::tuple& result, RunOutcome& outcome, py::object* kept) {
  take_result(result, outcome, kept);
  const auto rows = result[6].cast<std::int64_t>();
  if (rows >= 0) outcome.table_rows = static_cast<std::uint64_t>(rows);
  outcome.successes = rows >= 0 ? std::min<std::uint64_t>(outcome.returned, outcome.table_rows) : 0;
}

// run_batch's format_rows: 0 count only, 1 text rows, 2 one binary row record (a .h5 output).
int row_format(const RunnerSettings& s) { return !s.format_rows ? 0 : s.row_records ? 2 : 1; }

const char* format_name(TableFormat format) { return format == TableFormat::json_lines ? "json_lines" : "delimited"; }

const char* key_use_name(KeyUse use) {
  return use == KeyUse::add_columns ? "add_columns" : use == KeyUse::keep_rows ? "keep_rows" : "none";
}

py::dict reader_dict(const TableReader& r) {
  py::dict d;
  d["format"] = format_name(r.format);
  d["delimiter"] = std::string(1, r.delimiter);
  d["encoding"] = r.encoding;
  d["empty_as_string"] = r.empty_as_string;
  d["include_path_column"] = r.include_path_column;
  d["infer_column_types"] = r.infer_column_types;
  d["drop_invalid_lines"] = r.drop_invalid_lines;
  py::dict dtype;
  for (const auto& [column, type] : r.dtype) dtype[py::str(column)] = type;
  d["dtype"] = dtype;
  return d;
}

}  // namespace

// The frame of every run_*: before init() a logic error; the rows of the previous call dropped; the call timed; an
// error of our own plumbing (the helpers catch the script's) is just a failed attempt.
template <typename Call>
RunOutcome PythonRunner::guarded_run(const char* name, Call call) {
  if (!state_) throw std::logic_error(std::string("PythonRunner::") + name + "() called before a successful init()");
  state_->rows = py::none();
  RunOutcome outcome;
  auto start = std::chrono::steady_clock::now();
  try {
    call(outcome);
  } catch (const py::error_already_set& e) {
    outcome = RunOutcome{};
    state_->rows = py::none();
    outcome.error = describe(e);
  }
  outcome.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return outcome;
}

RunOutcome PythonRunner::run_files(const std::vector<std::string>& paths) {
  return guarded_run("run_files", [&](RunOutcome& outcome) {
    py::list mini_batch;
    for (const auto& path : paths) mini_batch.append(fs_str(path));
    take_result(state_->helper.attr("run_batch")(state_->run, mini_batch, settings_.timeout_seconds,
                                                 row_format(settings_), settings_.dataframe_header)
                    .cast<py::tuple>(),
                outcome, keep_rows_ ? &state_->rows : nullptr);
    outcome.successes = std::min<std::uint64_t>(outcome.returned, paths.size());
  });
}

void PythonRunner::set_current(std::uint64_t batch_id, std::uint32_t attempt) {
  if (!state_) return;
  try {
    state_->helper.attr("set_current")(batch_id, attempt);
  } catch (const py::error_already_set&) {  // only our own plumbing: prs.mini_batch_id stays stale
  }
}

RunOutcome PythonRunner::run_table(const TableTask& task) {
  return guarded_run("run_table", [&](RunOutcome& outcome) {
    py::list ranges;
    for (const TableRange& t : task.ranges)
      ranges.append(py::make_tuple(fs_str(t.path), t.offset, t.length, fs_str(t.header_path), t.header_offset,
                                   t.header_length));
    py::list keys;  // raw bytes: decoded by the reader with the file's encoding
    for (std::size_t i = 0; i < task.key_names.size(); ++i)
      keys.append(py::make_tuple(py::bytes(task.key_names[i]), py::bytes(task.key_values[i])));
    auto result = state_->helper.attr("run_table")(state_->run, reader_dict(settings_.table), ranges,
                                                  key_use_name(task.key_use), keys, settings_.timeout_seconds,
                                                  row_format(settings_), settings_.dataframe_header)
                      .cast<py::tuple>();
    take_table_result(result, outcome, keep_rows_ ? &state_->rows : nullptr);
  });
}

RunOutcome PythonRunner::run_rows(const TableRange& t, const std::vector<ColumnView>& columns) {
  return guarded_run("run_rows", [&](RunOutcome& outcome) {
    // Views of the frame's bytes, no copy: the DataFrame copies them once, and run_rows releases the views
    // before run() is called (the frame dies after this call).
    py::list cols;
    for (const ColumnView& c : columns)
      cols.append(py::make_tuple(c.name, c.dtype, py::memoryview::from_memory(c.data.data(), c.data.size()),
                                 py::memoryview::from_memory(c.ends.data(), c.ends.size())));
    auto result = state_->helper.attr("run_rows")(state_->run, cols, fs_str(t.path), t.offset, t.length,
                                                 settings_.timeout_seconds, row_format(settings_),
                                                 settings_.dataframe_header)
                      .cast<py::tuple>();
    take_table_result(result, outcome, keep_rows_ ? &state_->rows : nullptr);
  });
}

void PythonRunner::keep_rows_in_python() { keep_rows_ = true; }

std::string_view PythonRunner::rows() const {
  if (!state_ || !state_->rows || !PyBytes_Check(state_->rows.ptr())) return {};
  return {PyBytes_AS_STRING(state_->rows.ptr()), static_cast<std::size_t>(PyBytes_GET_SIZE(state_->rows.ptr()))};
}

void PythonRunner::flush_streams() {
  if (!state_) return;
  try {
    state_->flush();
  } catch (const py::error_already_set&) {  // only our own plumbing: the streams flush at exit instead
  }
}

std::string PythonRunner::shutdown() {
  if (!state_ || state_->shutdown.is_none()) return "";
  py::object shutdown_fn = std::exchange(state_->shutdown, py::none());  // called at most once
  try {
    py::object error = state_->helper.attr("guarded")(shutdown_fn).cast<py::tuple>()[1];
    return error.is_none() ? std::string() : error.cast<std::string>();
  } catch (const py::error_already_set& e) {
    return describe(e);
  }
}

}  // namespace prs
