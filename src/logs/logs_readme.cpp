#include "prs/logs/job_logs.hpp"

namespace prs {

std::string logs_readme() {
  return R"TXT(The logs of a prs_mpi job (the layout of the cloud service's parallel run logs).
<node> is a host name; processNNN is the worker's MPI rank, zero-padded to 3 digits (process003 = rank 3).
Every file is appended to: a restarted Python process and a resumed run (--resume) add to the same files; each
start of a worker's Python process writes a line "=== <time> pid <pid>: Python process started, init()".

`prs_mpi status JOB.yml` (or the logs folder) reads them from any shell while the job runs or after.

readme.txt                  this file
job_result.txt              succeeded, failed or interrupted, why, the counts, where to look next ("running: ..."
                            while the job runs, or if it was killed)
job_summary.json            the same for machines: counts, throughput, init() and run() times (p50/p95/max),
                            per-worker and per-node stats, the resolved settings, the ignored keys
job_progress_overview.<timestamp>.txt
                            updated every 5 s while the job runs (one file per run): "Processed N of M mini batches
                            in H:MM:SS. Estimated remaining time H:MM:SS.", failed and retried counts
journal.bin                 every mini-batch sent, answered, ended: what --resume continues from (for a .h5
                            output, the rows it names are in <output>.h5.rows, from which the .h5 is built)
job.lock                    held by the running job: one job per output
sys/master_role.txt         rank 0: scheduling decisions, thresholds, ignored keys, stops, lost workers
sys/perf/<node>/processNNN.csv
                            every resource_monitor_interval seconds (0 = off; 600 by default): time, rank, the
                            Python process's pid, its CPU % since the last line, its RSS, the node's 1-minute load,
                            available memory and free disk under the logs folder
sys/job_progress.json       the progress snapshot `prs_mpi status` reads: rate, time left, the slowest running
                            mini-batches and where they run
sys/node/<node>/processNNN.txt
                            one line per attempt the worker ran: time it started, rank, mini-batch, attempt, status,
                            items total/succeeded/failed, duration and time inside run(); and the Python process's
                            starts and restarts
user/error.txt              every entry-script error of the job (all workers): rank, host, mini-batch, attempt and
                            the traceback
user/error/<node>/processNNN.txt
                            the errors of one worker: time, mini-batch, attempt, the first items of the mini-batch
                            and the full traceback (the console's line for a failed attempt names this file)
user/stdout/<node>/processNNN.stdout.txt, user/stderr/<node>/processNNN.stderr.txt
                            the entry script's standard output and error: print(), logging (the root logger writes
                            to stderr at logging_level), and whatever C extensions or child processes write to
                            file descriptors 1 and 2
user/entry_script_log/<node>/processNNN.log.txt
                            the lines of EntryScript().logger (from azureml_user.parallel_run import EntryScript)
)TXT";
}

}  // namespace prs
