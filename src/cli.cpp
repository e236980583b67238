// The command line, with Boost.Program_options.
#include "prs/cli.hpp"

#include <boost/program_options.hpp>
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
       "task.entry_script, ...) or a program_arguments setting (error_threshold, allowed_failed_percent, ...); "
       "wins over program_arguments, which win over the job file")
      ("dry-run", "validate the job and print the settings and the partition plan; one process, no mpirun needed")
      ("overwrite", "replace an existing output and journal")
      ("log-dir", po::value<std::string>()->value_name("DIR"), "write the logs there instead of logs/ beside the output")
      ("help,h", "print this help and exit")
      ("version", "print the version and exit");
  return options;
}

void print_help(const po::options_description& options) {
  std::cout << usage_line << "\n"
            << "       mpirun -np N prs_mpi JOB.yml [options]     (rank 0 schedules, the other ranks run the script)\n\n"
            << "Runs a parallel job (the v2 parallel job YAML): the entry script's init() once per worker, run() on\n"
            << "every mini-batch of input_data, shutdown() at the end.\n\n"
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
  all.add(options).add_options()("job", po::value<std::vector<std::string>>(), "the job YAML");
  po::positional_options_description positional;
  positional.add("job", -1);
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
  if (values.count("job") == 0) throw Error(std::string("no job file given; ") + usage_line);
  const auto& jobs = values["job"].as<std::vector<std::string>>();
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

}  // namespace

std::optional<CliOptions> parse_cli(int argc, const char* const* argv) {
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
  return cli;
}

}  // namespace prs
