#pragma once
// The whole program after the command line: dry run, or MPI start, checks on rank 0, master or worker, the
// collective end, job_result.txt and the exit code.
#include "prs/config/cli.hpp"

namespace prs {

// Runs prs_mpi as the command line asks; returns the process exit code. Throws prs::Error (exit 2) for bad input
// found before MPI starts; MPI-time errors are handled inside (every rank leaves with the same code).
int run_app(const CliOptions& cli, int& argc, char**& argv);

}  // namespace prs
