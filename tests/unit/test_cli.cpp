// Tests of the command line: options, --help, --version and every usage error.
#include <catch2/catch.hpp>
#include <initializer_list>
#include <iostream>
#include <sstream>

#include "prs/config/cli.hpp"
#include "prs/error.hpp"

namespace {

// Runs parse_cli on "prs_mpi ARGS...".
std::optional<prs::CliOptions> parse(std::initializer_list<const char*> args) {
  std::vector<const char*> argv{"prs_mpi"};
  argv.insert(argv.end(), args.begin(), args.end());
  return prs::parse_cli(static_cast<int>(argv.size()), argv.data());
}

std::string error_of(std::initializer_list<const char*> args) {
  try {
    parse(args);
  } catch (const prs::Error& e) {
    return e.what();
  }
  FAIL("expected a prs::Error");
  return "";
}

// What parse_cli prints on std::cout, and its result.
struct Printed {
  std::string text;
  bool returned_options;
};

Printed printed_by(std::initializer_list<const char*> args) {
  std::ostringstream captured;
  std::streambuf* old = std::cout.rdbuf(captured.rdbuf());
  bool returned_options = false;
  try {
    returned_options = parse(args).has_value();
  } catch (...) {
    std::cout.rdbuf(old);
    throw;
  }
  std::cout.rdbuf(old);
  return {captured.str(), returned_options};
}

}  // namespace

TEST_CASE("cli: a job file alone gives the defaults", "[cli]") {
  const auto cli = parse({"job.yml"});
  REQUIRE(cli);
  CHECK(cli->job_file == "job.yml");
  CHECK(cli->sets.empty());
  CHECK_FALSE(cli->dry_run);
  CHECK_FALSE(cli->overwrite);
  CHECK_FALSE(cli->log_dir);
  CHECK_FALSE(cli->pipeline_job);
  CHECK_FALSE(cli->resume);
  CHECK_FALSE(cli->retry_failed);
  CHECK_FALSE(cli->ordered);
  CHECK_FALSE(cli->drain_before);
}

TEST_CASE("cli: every option, in any order around the job file", "[cli]") {
  const auto cli = parse({"--dry-run", "jobs/job.yml", "--set", "mini_batch_size=100", "--overwrite",
                          "--set=retry_settings.timeout=30", "--log-dir", "/tmp/logs", "--set", "a=b=c"});
  REQUIRE(cli);
  CHECK(cli->job_file == "jobs/job.yml");
  CHECK(cli->sets == std::vector<std::string>{"mini_batch_size=100", "retry_settings.timeout=30", "a=b=c"});
  CHECK(cli->dry_run);
  CHECK(cli->overwrite);
  CHECK(cli->log_dir == std::optional<std::string>("/tmp/logs"));
  CHECK(parse({"job.yml", "--log-dir=out/logs"})->log_dir == std::optional<std::string>("out/logs"));
  CHECK(parse({"job.yml", "--set", "task.program_arguments="})->sets == std::vector<std::string>{"task.program_arguments="});
}

TEST_CASE("cli: --help prints usage, options and exit codes and returns nothing", "[cli]") {
  for (const char* flag : {"--help", "-h"}) {
    const Printed help = printed_by({flag});
    CHECK_FALSE(help.returned_options);
    CHECK(help.text.rfind("usage: prs_mpi JOB.yml [--set key=value]... [--dry-run] [--overwrite] [--log-dir DIR]\n", 0) == 0);
    for (const char* expected : {"--set KEY=VALUE", "--dry-run", "--overwrite", "--log-dir DIR", "--version",
                                 "--job NAME", "--resume", "--retry-failed", "--ordered", "--drain-before SECONDS",
                                 "Exit codes:\n  0  succeeded\n  1  job failed", "  2  bad configuration or usage\n",
                                 "  3  interrupted, resumable\n"}) {
      CHECK(help.text.find(expected) != std::string::npos);
    }
  }
  CHECK_FALSE(printed_by({"job.yml", "--help"}).returned_options);
}

TEST_CASE("cli: --version prints the version and returns nothing", "[cli]") {
  const Printed version = printed_by({"--version"});
  CHECK_FALSE(version.returned_options);
  CHECK(version.text == std::string("prs_mpi ") + PRS_VERSION + "\n");
}

TEST_CASE("cli: usage errors are one line pointing at --help", "[cli]") {
  CHECK(error_of({"job.yml", "--foo"}) == "unknown option --foo; see prs_mpi --help");
  CHECK(error_of({"--foo=3", "job.yml"}) == "unknown option --foo; see prs_mpi --help");
  CHECK(error_of({"job.yml", "--over"}) == "unknown option --over; see prs_mpi --help");  // no abbreviations
  CHECK(error_of({"job.yml", "-x"}) == "unknown option -x; see prs_mpi --help");
  CHECK(error_of({}) ==
        "no job file given; usage: prs_mpi JOB.yml [--set key=value]... [--dry-run] [--overwrite] [--log-dir DIR]");
  CHECK(error_of({"--dry-run"}) ==
        "no job file given; usage: prs_mpi JOB.yml [--set key=value]... [--dry-run] [--overwrite] [--log-dir DIR]");
  CHECK(error_of({"a.yml", "b.yml"}) == "more than one job file given (a.yml, b.yml); give exactly one");
  CHECK(error_of({"job.yml", "--set", "mini_batch_size"}) ==
        "--set mini_batch_size: expected key=value, e.g. --set mini_batch_size=100");
  CHECK(error_of({"job.yml", "--set", "=5"}) == "--set =5: expected key=value, e.g. --set mini_batch_size=100");
  CHECK(error_of({"job.yml", "--set"}) ==
        "the required argument for option '--set' is missing; see prs_mpi --help");
  CHECK(error_of({"job.yml", "--log-dir", "a", "--log-dir", "b"}) ==
        "option '--log-dir' cannot be specified more than once; see prs_mpi --help");
  CHECK(error_of({"job.yml", "--log-dir", ""}) == "--log-dir: expected a folder, got nothing");
  CHECK(error_of({"job.yml", "--log-dir"}) ==
        "the required argument for option '--log-dir' is missing; see prs_mpi --help");
}

TEST_CASE("cli: --job, --resume, --retry-failed, --ordered and --drain-before", "[cli]") {
  const auto cli = parse({"pipeline.yml", "--job", "batch_prediction", "--resume", "--retry-failed", "--ordered",
                          "--drain-before", "120"});
  REQUIRE(cli);
  CHECK(cli->pipeline_job == std::optional<std::string>("batch_prediction"));
  CHECK(cli->resume);
  CHECK(cli->retry_failed);
  CHECK(cli->ordered);
  CHECK(cli->drain_before == std::optional<int>(120));
  CHECK(parse({"job.yml", "--job=score"})->pipeline_job == std::optional<std::string>("score"));
  CHECK(parse({"job.yml", "--drain-before=1"})->drain_before == std::optional<int>(1));
  CHECK(parse({"job.yml", "--drain-before", "2147483647"})->drain_before == std::optional<int>(2147483647));
  CHECK(parse({"job.yml", "--overwrite", "--ordered"})->overwrite);
}

TEST_CASE("cli: errors of --job, --resume and --drain-before", "[cli]") {
  CHECK(error_of({"job.yml", "--resume", "--overwrite"}) == "--resume and --overwrite exclude each other");
  CHECK(error_of({"--overwrite", "job.yml", "--resume"}) == "--resume and --overwrite exclude each other");
  CHECK(error_of({"job.yml", "--drain-before", "0"}) ==
        "--drain-before: must be a whole number of seconds in [1, 2147483647], got 0");
  CHECK(error_of({"job.yml", "--drain-before=-5"}) ==
        "--drain-before: must be a whole number of seconds in [1, 2147483647], got -5");
  CHECK(error_of({"job.yml", "--drain-before", "1.5"}) ==
        "--drain-before: must be a whole number of seconds in [1, 2147483647], got 1.5");
  CHECK(error_of({"job.yml", "--drain-before", "soon"}) ==
        "--drain-before: must be a whole number of seconds in [1, 2147483647], got soon");
  CHECK(error_of({"job.yml", "--drain-before", "2147483648"}) ==
        "--drain-before: must be a whole number of seconds in [1, 2147483647], got 2147483648");
  CHECK(error_of({"job.yml", "--drain-before", ""}) ==
        "--drain-before: must be a whole number of seconds in [1, 2147483647], got nothing");
  CHECK(error_of({"job.yml", "--drain-before"}) ==
        "the required argument for option '--drain-before' is missing; see prs_mpi --help");
  CHECK(error_of({"job.yml", "--job"}) == "the required argument for option '--job' is missing; see prs_mpi --help");
  CHECK(error_of({"job.yml", "--job", ""}) == "--job: expected the name of a job in the pipeline, got nothing");
  CHECK(error_of({"job.yml", "--job", "a", "--job", "b"}) ==
        "option '--job' cannot be specified more than once; see prs_mpi --help");
  CHECK(error_of({"job.yml", "--resume=yes"}).rfind("option '--resume' does not take any arguments", 0) == 0);
}
