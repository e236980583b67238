#pragma once
// SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 mean "drain": stop dispatching, let running mini-batches finish, exit 3.
// (Slurm's time limit and preemption send SIGTERM, or SIGUSR1 with --signal; mpirun forwards both to the ranks.)

namespace prs {

// Installs handlers that only record the signal (every rank, before Python starts, so none of them kills a rank).
void install_drain_handlers();

// The first drain signal received so far, or 0.
int drain_signal();

// "SIGTERM" for SIGTERM, ...
const char* signal_name(int signal);

}  // namespace prs
