// prs_mpi: runs a Python entry script's init()/run(mini_batch)/shutdown() over a large input on every rank of an
// MPI job. Command line -> prs::run_app; the one top-level catch for errors found before MPI starts.
#include <iostream>

#include "prs/app.hpp"
#include "prs/config/cli.hpp"
#include "prs/error.hpp"
#include "prs/worker/python_main.hpp"

int main(int argc, char** argv) {
  try {
    if (argc >= 2 && std::string(argv[1]) == "--python-process") return prs::run_python_process(argc, argv);  // a worker's child
    auto cli = prs::parse_cli(argc, argv);
    if (!cli) return 0;  // --help or --version
    return prs::run_app(*cli, argc, argv);
  } catch (const prs::Error& e) {
    std::cerr << "prs_mpi: error: " << e.what() << std::endl;
    return static_cast<int>(prs::ExitCode::usage);
  } catch (const std::exception& e) {
    std::cerr << "prs_mpi: fatal: " << e.what() << std::endl;
    return 1;
  }
}
