// The command line, with Boost.Program_options.
#include "prs/config/cli.hpp"

#include <boost/program_options.hpp>
#include <cctype>
#include <charconv>
#include <climits>
#include <iostream>

#include "prs/error.hpp"

namespace po = boost::program_options;

namespace prs {
namespace {

const char* const usage_line = "usage: prs_mpi JOB.yml [--set key=value]... [--dry-run] [--overwrite] [--log-dir DIR]";

// The named options (the job file is positional and hidden from the list).
po::options_description named_options() {
  po::options_description options("Options");
  options.add_options()
      ("set", po::value<std::vector<std::string>>()->value_name("KEY=VALUE"),
       "override a setting; repeatable; KEY is a job file key (mini_batch_size, retry_settings.timeout, "
       "task.entry_script, a v1 name such as run_max_try, ...) or a program_arguments setting (error_threshold, "
       "allowed_failed_percent, ...); overrides the job file and program_arguments")
      ("job", po::value<std::string>()->value_name("NAME"),
       "the parallel job to run from a pipeline file (type: pipeline) that has several")
      ("dry-run", "validate the job and print the settings and the partition plan; one process, no mpirun needed")
      ("overwrite", "replace an existing output and journal")
      ("resume", "continue an interrupted or failed job, reusing its committed results (not with --overwrite)")
      ("retry-failed", "with --resume: run the mini-batches that failed again")
      ("ordered", "write the rows in input order (as ordered: true in the job file)")
      ("drain-before", po::value<std::string>()->value_name("SECONDS"),
       "stop dispatching this many seconds before the Slurm allocation ends, to finish and flush in time")
      ("log-dir", po::value<std::string>()->value_name("DIR"), "write the logs there instead of logs/ beside the output")
      ("progress", po::value<std::string>()->value_name("MODE"),
       "console progress: auto (a bar when mpirun's output is a terminal, else lines), bar, lines or none")
      ("progress-every", po::value<std::string>()->value_name("SECONDS"),
       "seconds between plain progress lines (default 5)")
      ("trace", po::value<std::string>()->value_name("FILE.json"),
       "write a timeline of the job (Chrome trace format: one span per mini-batch attempt; opens in Perfetto)")
      ("help,h", "print this help and exit")
      ("version", "print the version and exit");
  return options;
}

void print_help(const po::options_description& options) {
  std::cout << usage_line << "\n"
            << "       mpirun -np N prs_mpi JOB.yml [options]     (rank 0 schedules, the other ranks run the script)\n"
            << "       prs_mpi status JOB.yml|LOGS_DIR [--set key=value]... [--log-dir DIR]   (how the job stands: running,\n"
            << "                                                    succeeded, failed or interrupted; counts, rate, ETA)\n\n"
            << "Runs a parallel job (the v2 parallel job YAML, its v1 ParallelRunConfig names, or the parallel job of a\n"
            << "pipeline YAML): the entry script's init() once per worker, run() on every mini-batch of input_data,\n"
            << "shutdown() at the end. Keys that only mean something on the cloud (compute, environment, ...) are\n"
            << "ignored and listed.\n\n"
            << options << "\n"
            << "Exit codes:\n"
            << "  0  succeeded\n"
            << "  1  job failed (a threshold was exceeded, or no worker is left)\n"
            << "  2  bad configuration or usage\n"
            << "  3  interrupted, resumable\n";
}

// Runs Boost's parser and turns its exceptions into one-line prs::Error messages.
po::variables_map parse_arguments(int argc, const char* const* argv, const po::options_description& options) {
  po::options_description all;
  all.add(options).add_options()("job-file", po::value<std::vector<std::string>>(), "the job YAML");
  po::positional_options_description positional;
  positional.add("job-file", -1);
  const int style = po::command_line_style::default_style & ~po::command_line_style::allow_guessing;
  po::variables_map values;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(positional).style(style).run(), values);
  } catch (const po::unknown_option& e) {
    const std::string name = e.get_option_name();
    throw Error("unknown option " + name.substr(0, name.find('=')) + "; see prs_mpi --help");
  } catch (const po::error& e) {
    throw Error(std::string(e.what()) + "; see prs_mpi --help");
  }
  return values;
}

// The one job file; throws when there is none or more than one.
std::string job_file_of(const po::variables_map& values) {
  if (values.count("job-file") == 0) throw Error(std::string("no job file given; ") + usage_line);
  const auto& jobs = values["job-file"].as<std::vector<std::string>>();
  if (jobs.size() > 1) {
    throw Error("more than one job file given (" + jobs[0] + ", " + jobs[1] + "); give exactly one");
  }
  if (jobs[0].empty()) throw Error("the job file name is empty; " + std::string(usage_line));
  return jobs[0];
}

// The --set values, each checked to look like key=value.
std::vector<std::string> sets_of(const po::variables_map& values) {
  if (values.count("set") == 0) return {};
  const auto sets = values["set"].as<std::vector<std::string>>();
  for (const std::string& set : sets) {
    const std::size_t equals = set.find('=');
    if (equals == std::string::npos || equals == 0) {
      throw Error("--set " + set + ": expected key=value, e.g. --set mini_batch_size=100");
    }
  }
  return sets;
}

// --drain-before SECONDS and --progress-every SECONDS: a whole number of seconds > 0.
int seconds_of(const std::string& text, const char* option) {
  int seconds = 0;
  const char* end = text.data() + text.size();
  const auto [stop, error] = std::from_chars(text.data(), end, seconds);
  const bool digits_only = !text.empty() && std::isdigit(static_cast<unsigned char>(text[0])) != 0;
  if (!digits_only || error != std::errc() || stop != end || seconds < 1) {
    throw Error(std::string(option) + ": must be a whole number of seconds in [1, " + std::to_string(INT_MAX) + "], got " +
                (text.empty() ? std::string("nothing") : text));
  }
  return seconds;
}

// The options for interruption and resumption (--resume, --retry-failed, --ordered, --drain-before).
void read_run_options(const po::variables_map& values, CliOptions& cli) {
  cli.resume = values.count("resume") != 0;
  cli.retry_failed = values.count("retry-failed") != 0;
  cli.ordered = values.count("ordered") != 0;
  if (cli.resume && cli.overwrite) throw Error("--resume and --overwrite exclude each other");
  if (values.count("drain-before") != 0) cli.drain_before = seconds_of(values["drain-before"].as<std::string>(), "--drain-before");
  if (values.count("job") != 0) {
    cli.pipeline_job = values["job"].as<std::string>();
    if (cli.pipeline_job->empty()) throw Error("--job: expected the name of a job in the pipeline, got nothing");
  }
}

// The options for watching a job (--progress, --progress-every, --trace).
void read_watch_options(const po::variables_map& values, CliOptions& cli) {
  if (values.count("progress") != 0) cli.progress = values["progress"].as<std::string>();
  if (cli.progress != "auto" && cli.progress != "bar" && cli.progress != "lines" && cli.progress != "none")
    throw Error("--progress: expected auto, bar, lines or none, got " +
                (cli.progress.empty() ? std::string("nothing") : cli.progress));
  if (values.count("progress-every") != 0)
    cli.progress_every = seconds_of(values["progress-every"].as<std::string>(), "--progress-every");
  if (values.count("trace") != 0) {
    cli.trace = values["trace"].as<std::string>();
    if (cli.trace->empty()) throw Error("--trace: expected a file name, got nothing");
  }
}

}  // namespace

std::optional<CliOptions> parse_cli(int argc, const char* const* argv) {
  if (argc > 1 && std::string(argv[1]) == "status") {  // prs_mpi status TARGET [--set ...] [--log-dir DIR] [--job]
    auto cli = parse_cli(argc - 1, argv + 1);  // "status" takes the place of the program name
    if (!cli) return cli;
    if (cli->dry_run || cli->resume || cli->overwrite || cli->retry_failed || cli->ordered || cli->trace)
      throw Error("status: only --set, --job and --log-dir apply (it reads the logs of JOB.yml or of LOGS_DIR)");
    cli->status = true;
    return cli;
  }
  const po::options_description options = named_options();
  const po::variables_map values = parse_arguments(argc, argv, options);
  if (values.count("help") != 0) {
    print_help(options);
    return std::nullopt;
  }
  if (values.count("version") != 0) {
    std::cout << "prs_mpi " << PRS_VERSION << "\n";
    return std::nullopt;
  }
  CliOptions cli;
  cli.job_file = job_file_of(values);
  cli.sets = sets_of(values);
  cli.dry_run = values.count("dry-run") != 0;
  cli.overwrite = values.count("overwrite") != 0;
  if (values.count("log-dir") != 0) {
    cli.log_dir = values["log-dir"].as<std::string>();
    if (cli.log_dir->empty()) throw Error("--log-dir: expected a folder, got nothing");
  }
  read_run_options(values, cli);
  read_watch_options(values, cli);
  return cli;
}

}  // namespace prs
