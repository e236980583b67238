// PythonRunner against small entry scripts in tests/python/scripts/, inside one interpreter owned by main().
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <pybind11/embed.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "prs/worker/python_runner.hpp"

namespace py = pybind11;
using Catch::Matchers::Contains;

namespace {

const std::string kScripts = PRS_TEST_SCRIPTS;

// Settings for one of the test scripts, with extra program arguments after argv[0].
prs::RunnerSettings settings_for(const std::string& script, const std::vector<std::string>& args = {}) {
  prs::RunnerSettings settings;
  settings.entry_script = kScripts + "/" + script;
  settings.code_dir = kScripts;
  settings.argv = {settings.entry_script};
  settings.argv.insert(settings.argv.end(), args.begin(), args.end());
  return settings;
}

// One run_files() call on a freshly initialised runner.
prs::RunOutcome run_once(const prs::RunnerSettings& settings, const std::vector<std::string>& paths) {
  prs::PythonRunner runner(settings);
  runner.init();
  return runner.run_files(paths);
}

// The outcome of returns.py for one --kind.
prs::RunOutcome returning(const std::string& kind, const std::vector<std::string>& paths = {"a.txt", "b.txt"}) {
  return run_once(settings_for("returns.py", {"--kind", kind}), paths);
}

// The entry script's module, as the runner registered it under its file stem.
py::object script_module(const char* stem) { return py::module_::import("sys").attr("modules")[stem]; }

// What the init() of a script throws, or "" when it does not.
std::string init_error(const prs::RunnerSettings& settings) {
  prs::PythonRunner runner(settings);
  try {
    runner.init();
  } catch (const prs::EntryScriptError& e) {
    return e.what();
  }
  return "";
}

// True when no ITIMER_REAL is pending: the run() timer was disarmed.
bool timer_disarmed() {
  return py::module_::import("signal").attr("getitimer")(0).cast<py::tuple>()[0].cast<double>() == 0.0;
}

}  // namespace

TEST_CASE("a list becomes str(element) lines", "[python_runner]") {
  auto out = returning("list");
  CHECK(out.ok);
  CHECK_FALSE(out.timed_out);
  CHECK(out.returned == 2);
  CHECK(out.successes == 2);
  CHECK(out.rows == "a.txt done\nb.txt done\n");
  CHECK(out.header.empty());
  CHECK(out.error.empty());
  CHECK(out.seconds >= 0);
}

TEST_CASE("a tuple and ndarrays are accepted and written with str()", "[python_runner]") {
  CHECK(returning("tuple").rows == "5\n5\n");
  auto flat = returning("ndarray_1d");
  CHECK(flat.ok);
  CHECK(flat.returned == 3);
  CHECK(flat.successes == 2);
  CHECK(flat.rows == "1.5\n2.0\n3.25\n");
  auto matrix = returning("ndarray_2d");
  CHECK(matrix.returned == 2);
  CHECK(matrix.rows == "[0 1 2]\n[3 4 5]\n");
}

TEST_CASE("non-ASCII strings are written as UTF-8", "[python_runner]") {
  CHECK(returning("unicode").rows == "h\xc3\xa9llo w\xc3\xb6rld\n\xe6\x97\xa5\xe6\x9c\xac\n");
}

TEST_CASE("paths that are not UTF-8 reach run() and the rows unchanged", "[python_runner]") {
  auto out = returning("list", {"caf\xe9.txt"});  // Latin-1 bytes, as a file name may hold
  INFO(out.error);
  CHECK(out.ok);
  CHECK(out.rows == "caf\xe9.txt done\n");
}

TEST_CASE("the fast text rows are byte for byte the general formatter's, and it takes only what it must",
          "[python_runner]") {
  prs::PythonRunner runner(settings_for("row_values.py"));
  runner.init();
  py::object script = script_module("row_values");
  py::object fast = py::module_::import("sys").attr("modules")["_prs_runner"].attr("format_text_rows");
  py::dict cases = script.attr("CASES");
  py::set fast_cases = script.attr("FAST");
  REQUIRE(cases.size() == 23);
  for (auto item : cases) {
    const std::string name = item.first.cast<std::string>();
    INFO("case " << name);
    const bool takes = !fast(item.second).is_none();
    CHECK(takes == fast_cases.contains(item.first));
    if (name == "counted") script.attr("Counted").attr("calls") = 0;
    prs::RunOutcome out = runner.run_files({name});
    if (name == "bad_surrogate" || name == "huge_int") {  // the general formatter's own error, as before
      CHECK_FALSE(out.ok);
      CHECK_THAT(out.error, Contains(name == "bad_surrogate" ? "UnicodeEncodeError: 'utf-8' codec can't encode "
                                                               "character '\\ud800' in position 5: surrogates not "
                                                               "allowed"
                                                             : "ValueError: Exceeds the limit (4300 digits)"));
      continue;
    }
    REQUIRE(out.ok);
    if (name == "counted") script.attr("Counted").attr("calls") = 0;  // old_rows calls str() afresh: the same text
    CHECK(out.rows == script.attr("old_rows")(item.second).cast<std::string>());
  }
  CHECK(runner.run_files({"surrogateescape"}).rows == "caf\xe9.txt\nok\n");
  CHECK(runner.run_files({"str_returns_subclass"}).rows == "plus:made\nafter\n");
  CHECK(runner.run_files({"list_subclass"}).rows == "second\nfirst\n");
  CHECK(runner.run_files({"str_subclass"}).rows == "sub\nSHOUT\nplain\n");
  CHECK(runner.run_files({"long_rows"}).rows.size() == 200002);
}

TEST_CASE("keep_rows_in_python leaves outcome.rows empty and rows() views the last run's rows", "[python_runner]") {
  prs::PythonRunner runner(settings_for("returns.py", {"--kind", "list"}));
  runner.init();
  CHECK(runner.rows().empty());
  CHECK(runner.run_files({"a"}).rows == "a done\n");
  CHECK(runner.rows().empty());  // not kept: copied out
  runner.keep_rows_in_python();
  prs::RunOutcome out = runner.run_files({"a", "b"});
  CHECK(out.ok);
  CHECK(out.returned == 2);
  CHECK(out.rows.empty());
  CHECK(runner.rows() == "a done\nb done\n");
  CHECK(runner.run_files({}).rows.empty());
  CHECK(runner.rows().empty());

  prs::PythonRunner failing(settings_for("returns.py", {"--kind", "dict"}));
  failing.init();
  failing.keep_rows_in_python();
  CHECK_FALSE(failing.run_files({"a"}).ok);
  CHECK(failing.rows().empty());
}

TEST_CASE("a DataFrame is written as pandas writes it", "[python_runner]") {
  auto simple = run_once(settings_for("frames.py", {"--kind", "simple"}), {"x"});
  CHECK(simple.ok);
  CHECK(simple.returned == 2);
  CHECK(simple.successes == 1);
  CHECK(simple.rows == "a 1\nb 2\n");
  CHECK(simple.header.empty());

  auto quoted = run_once(settings_for("frames.py", {"--kind", "quoted"}), {"x", "y", "z"});
  CHECK(quoted.ok);
  CHECK(quoted.returned == 3);
  CHECK(quoted.rows == "1 \"x y\" 1.5\n2 \"he said \"\"hi\"\"\" \n3 \"two\nlines\" -0.25\n");
  auto frame = script_module("frames").attr("make_frame")("quoted");
  auto pandas_text = frame.attr("to_csv")(py::arg("sep") = " ", py::arg("header") = false, py::arg("index") = false);
  CHECK(quoted.rows == pandas_text.cast<std::string>());
}

TEST_CASE("dataframe_header gives a DataFrame's header line only", "[python_runner]") {
  auto settings = settings_for("frames.py", {"--kind", "quoted"});
  settings.dataframe_header = true;
  auto out = run_once(settings, {"x"});
  CHECK(out.header == "id text value\n");
  CHECK(out.rows.rfind("1 \"x y\" 1.5\n", 0) == 0);

  auto list_settings = settings_for("returns.py", {"--kind", "list"});
  list_settings.dataframe_header = true;
  CHECK(run_once(list_settings, {"a"}).header.empty());
}

TEST_CASE("successes are capped at the inputs, returned is not", "[python_runner]") {
  auto more = returning("more");
  CHECK(more.ok);
  CHECK(more.returned == 6);
  CHECK(more.successes == 2);
  CHECK(more.rows == "a.txt\nb.txt\na.txt\nb.txt\na.txt\nb.txt\n");

  auto fewer = returning("fewer", {"a", "b", "c"});
  CHECK(fewer.ok);
  CHECK(fewer.returned == 1);
  CHECK(fewer.successes == 1);
  CHECK(fewer.rows == "a\n");

  auto empty = returning("empty");
  CHECK(empty.ok);
  CHECK(empty.returned == 0);
  CHECK(empty.rows.empty());
}

TEST_CASE("a wrong return type fails the attempt with its type name", "[python_runner]") {
  const std::string expected = "run() must return a pandas DataFrame, list, tuple or numpy.ndarray, got ";
  for (auto [kind, type] : std::vector<std::pair<std::string, std::string>>{
           {"none", "NoneType"}, {"str", "str"}, {"dict", "dict"}, {"int", "int"}}) {
    auto out = returning(kind);
    INFO(kind);
    CHECK_FALSE(out.ok);
    CHECK(out.error == expected + type);
    CHECK(out.returned == 0);
    CHECK(out.successes == 0);
    CHECK(out.rows.empty());
  }
  // A 0-d array has no len(): a failed attempt with the traceback, not a crash.
  auto scalar = returning("scalar_array");
  CHECK_FALSE(scalar.ok);
  CHECK_THAT(scalar.error, Contains("TypeError"));
}

TEST_CASE("an exception in run() comes back as its traceback", "[python_runner]") {
  prs::PythonRunner runner(settings_for("raises.py"));
  runner.init();
  auto out = runner.run_files({"a.txt"});
  CHECK_FALSE(out.ok);
  CHECK_FALSE(out.timed_out);
  CHECK(out.successes == 0);
  CHECK_THAT(out.error, Contains("Traceback (most recent call last):"));
  CHECK_THAT(out.error, Contains("File \"" + kScripts + "/raises.py\", line 9, in run"));
  CHECK_THAT(out.error, Contains("ValueError: cannot score a.txt"));
  CHECK_THAT(out.error, !Contains("prs_mpi python_runner"));  // our own frames are hidden
  CHECK(timer_disarmed());

  auto interrupted = runner.run_files({"interrupt"});
  CHECK_FALSE(interrupted.ok);
  CHECK_THAT(interrupted.error, Contains("KeyboardInterrupt"));
  auto exited = runner.run_files({"exit"});
  CHECK_FALSE(exited.ok);
  CHECK_THAT(exited.error, Contains("SystemExit: 3"));
  CHECK(runner.run_files({"b.txt"}).error.find("cannot score b.txt") != std::string::npos);
}

TEST_CASE("an entry script that cannot serve fails init() with the reason", "[python_runner]") {
  auto raised = init_error(settings_for("init_raises.py"));
  CHECK_THAT(raised, Contains("Traceback (most recent call last):"));
  CHECK_THAT(raised, Contains("File \"" + kScripts + "/init_raises.py\", line 5, in init"));
  CHECK_THAT(raised, Contains("RuntimeError: model file missing"));

  CHECK(init_error(settings_for("no_run.py")) ==
        "entry script " + kScripts + "/no_run.py has no run(mini_batch) function");

  auto syntax = init_error(settings_for("syntax_error.py"));
  CHECK_THAT(syntax, Contains("File \"" + kScripts + "/syntax_error.py\", line 3"));
  CHECK_THAT(syntax, Contains("SyntaxError"));
  CHECK_THAT(syntax, !Contains("<frozen importlib"));
  CHECK_FALSE(py::module_::import("sys").attr("modules").contains("syntax_error"));  // a failed import leaves no module
}

TEST_CASE("a missing entry script fails init()", "[python_runner]") {
  CHECK_THAT(init_error(settings_for("does_not_exist.py")), Contains("does_not_exist.py"));
  prs::PythonRunner runner(settings_for("does_not_exist.py"));
  CHECK_THROWS_AS(runner.init(), prs::EntryScriptError);
  CHECK_THROWS_AS(runner.run_files({"a"}), std::logic_error);
}

TEST_CASE("the script sees sys.argv and code_dir first on sys.path, and is importable by name",
          "[python_runner]") {
  auto settings = settings_for("environment.py", {"--model", "/models/m 1", "--allowed_failed_percent", "30"});
  prs::PythonRunner runner(settings);
  runner.init();
  auto module = script_module("environment");
  CHECK(module.attr("SEEN_ARGV").cast<std::vector<std::string>>() == settings.argv);
  CHECK(module.attr("SEEN_PATH0").cast<std::string>() == kScripts);
  auto out = runner.run_files({"a.txt", "b c.txt"});
  INFO(out.error);
  CHECK(out.ok);
  CHECK(out.rows == "a.txt\nb c.txt\n--model /models/m 1 --allowed_failed_percent 30\n");
  CHECK(out.returned == 3);
  CHECK(out.successes == 2);
}

TEST_CASE("a run() past its timeout is interrupted and the runner goes on", "[python_runner]") {
  auto settings = settings_for("sleeper.py");
  settings.timeout_seconds = 1;
  prs::PythonRunner runner(settings);
  runner.init();
  auto out = runner.run_files({"sleep"});
  INFO(out.error);
  CHECK_FALSE(out.ok);
  CHECK(out.timed_out);
  CHECK(out.seconds >= 0.9);
  CHECK(out.seconds < 2.0);
  CHECK_THAT(out.error, Contains("in run"));
  CHECK_THAT(out.error, Contains("TimeoutError: run() exceeded the timeout of 1 s"));
  CHECK(timer_disarmed());

  auto next = runner.run_files({"a", "b"});
  CHECK(next.ok);
  CHECK_FALSE(next.timed_out);
  CHECK(next.rows == "a\nb\n");
  CHECK(timer_disarmed());
  // No alarm left to fire later, outside run().
  py::module_::import("time").attr("sleep")(1.2);
}

TEST_CASE("summary_only counts without formatting", "[python_runner]") {
  auto settings = settings_for("frames.py", {"--kind", "quoted"});
  settings.format_rows = false;
  settings.dataframe_header = true;
  auto out = run_once(settings, {"x", "y"});
  CHECK(out.ok);
  CHECK(out.returned == 3);
  CHECK(out.successes == 2);
  CHECK(out.rows.empty());
  CHECK(out.header.empty());
}

TEST_CASE("shutdown() is called once and its exception reported", "[python_runner]") {
  {
    prs::PythonRunner runner(settings_for("lifecycle.py"));
    runner.init();
    runner.run_files({"a"});
    CHECK(runner.shutdown().empty());
    CHECK(runner.shutdown().empty());
    CHECK(script_module("lifecycle").attr("CALLS").cast<std::vector<std::string>>() ==
          std::vector<std::string>{"init", "run", "shutdown"});
  }
  prs::PythonRunner failing(settings_for("lifecycle.py", {"--fail-shutdown"}));
  failing.init();
  auto error = failing.shutdown();
  CHECK_THAT(error, Contains("lifecycle.py\", line 19, in shutdown"));
  CHECK_THAT(error, Contains("OSError: could not flush the model cache"));

  prs::PythonRunner without(settings_for("sleeper.py"));
  without.init();
  CHECK(without.shutdown().empty());
}

TEST_CASE("Ctrl-C does not become a KeyboardInterrupt inside the interpreter", "[python_runner]") {
  // The interpreter was created with init_signal_handlers=false: Python installs no SIGINT handler of its own.
  auto signal = py::module_::import("signal");
  CHECK_FALSE(signal.attr("getsignal")(signal.attr("SIGINT")).is(signal.attr("default_int_handler")));
}

int main(int argc, char* argv[]) {
  py::scoped_interpreter guard{false};  // one interpreter for the whole run; every py::object dies before it
  return Catch::Session().run(argc, argv);
}
