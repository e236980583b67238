"""Starting a job: run (mpirun, the console streamed), submit (sbatch of slurm/prs_mpi.sbatch), dry_run (prs_mpi
--dry-run), and the job file each of them starts from."""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading

from . import _yamlio
from ._args import check

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # python/prs_mpi/ -> repo


class ConfigError(ValueError):
    """prs_mpi refused the job file (exit code 2); the message is its error line without "prs_mpi: error: "."""

    def __init__(self, message, exit_code, stderr):
        super().__init__(message)
        self.exit_code = exit_code
        self.stderr = stderr


class RunResult:
    """What run() returns: unpacks as (exit_code, summary); also the job file, the log folder and the console."""

    def __init__(self, exit_code, summary, job_file, log_dir, stdout, stderr):
        self.exit_code = exit_code
        self.summary = summary    # job_summary.json, parsed; None when the job did not get that far
        self.job_file = job_file
        self.log_dir = log_dir
        self.stdout = stdout
        self.stderr = stderr

    def __iter__(self):
        return iter((self.exit_code, self.summary))

    def __repr__(self):
        return f"RunResult(exit_code={self.exit_code}, job_file={self.job_file!r}, log_dir={self.log_dir!r})"


def find_binary():
    """prs_mpi: $PRS_MPI, else prs_mpi on PATH, else the repository's build/prs_mpi."""
    if os.environ.get("PRS_MPI"):
        return os.environ["PRS_MPI"]
    on_path = shutil.which("prs_mpi")
    if on_path:
        return on_path
    built = os.path.join(REPO, "build", "prs_mpi")
    if os.path.exists(built):
        return built
    raise FileNotFoundError("prs_mpi not found: set PRS_MPI=/path/to/prs_mpi, put it on PATH, or build it "
                            f"(scripts/build.sh makes {built})")


def find_mpiexec():
    """The MPI launcher: $PRS_MPIEXEC, else mpirun."""
    launcher = os.environ.get("PRS_MPIEXEC") or "mpirun"
    found = shutil.which(launcher)
    if found is None:
        raise FileNotFoundError(f"{launcher} not found: install openmpi-bin or set PRS_MPIEXEC")
    return found


def default_job_file(job):
    """Where run(), dry_run() and submit() write a job: NAME.prs_mpi.yml in the folder its paths are relative to
    (the working directory it was made in), so that outputs without a path land beside it, in outputs/NAME."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", getattr(job, "name", None) or "job")
    return os.path.join(job._base_path, f"{name}.prs_mpi.yml")


def job_file_for(job, job_file=None):
    """The job file to start: a path as it is, else the job written to job_file or to default_job_file()."""
    if isinstance(job, (str, os.PathLike)):
        return os.fspath(job)
    path = job_file or default_job_file(job)
    if job_file is None and os.path.exists(path) and not _yamlio.written_by_us(path):
        raise FileExistsError(f"{path} exists and was not written by prs_mpi's Python package; pass job_file=")
    job.dump(path)
    return _shown_path(path)


def _shown_path(path):
    """The path relative to the working directory when it is inside it (prs_mpi's messages name it as given)."""
    relative = os.path.relpath(os.path.abspath(path))
    return path if relative.startswith("..") else relative


def child_env(env=None):
    """The environment of prs_mpi's launcher: ours, env over it, and Open MPI's run-as-root consent as root."""
    result = dict(os.environ)
    result.update(env or {})
    if os.geteuid() == 0:
        result.setdefault("OMPI_ALLOW_RUN_AS_ROOT", "1")
        result.setdefault("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
    return result


def _pump(stream, sink, lines):
    for line in stream:
        lines.append(line)
        sink.write(line)
        sink.flush()


def _log_dir(lines):
    """The log folder prs_mpi's last console line names ("...; results: ...; logs: DIR")."""
    for line in reversed(lines):
        found = re.match(r"prs_mpi: .*; logs: (.+)$", line.rstrip("\n"))
        if found:
            return found.group(1)
    return None


def run(job, np, *, args=(), step=None, job_file=None, mpiexec_args=(), env=None, cwd=None, stdout=None,
        stderr=None):
    """Writes the job file and runs mpirun -np NP prs_mpi JOB_FILE [--job STEP] [ARGS], streaming its console.

    Returns a RunResult, which unpacks as (exit_code, summary): prs_mpi's exit code (0 succeeded, 1 failed, 2 bad
    job, 3 interrupted) and the job_summary.json it wrote (None if it wrote none). Ctrl-C is passed to mpirun as
    SIGINT (prs_mpi drains and exits 3, resumable with args=["--resume"]).
    """
    check("run", "np", np, "int")
    path = job_file_for(job, job_file)
    command = [find_mpiexec(), *mpiexec_args, "-np", str(np), find_binary(), path,
               *(["--job", step] if step else []), *args]
    out_lines, err_lines = [], []
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
                               env=child_env(env), cwd=cwd)
    errors = threading.Thread(target=_pump, args=(process.stderr, stderr or sys.stderr, err_lines), daemon=True)
    errors.start()
    try:
        _pump(process.stdout, stdout or sys.stdout, out_lines)
        process.wait()
    except KeyboardInterrupt:
        process.send_signal(signal.SIGINT)
        process.wait()
        raise
    finally:
        errors.join()
    log_dir = _log_dir(out_lines)
    summary_file = os.path.join(log_dir, "job_summary.json") if log_dir else None
    summary = None
    if summary_file and os.path.exists(summary_file):
        with open(summary_file) as f:
            summary = json.load(f)
    return RunResult(process.returncode, summary, path, log_dir, "".join(out_lines), "".join(err_lines))


def dry_run(job, *, args=(), step=None, job_file=None, env=None, cwd=None):
    """prs_mpi JOB_FILE --dry-run (one process, no MPI): the resolved settings and the plan, as text. Raises
    ConfigError with prs_mpi's message when it refuses the job."""
    path = job_file_for(job, job_file)
    command = [find_binary(), path, "--dry-run", *(["--job", step] if step else []), *args]
    done = subprocess.run(command, capture_output=True, text=True, env=child_env(env), cwd=cwd)
    if done.returncode != 0:
        lines = [line for line in done.stderr.splitlines() if line.startswith("prs_mpi: error: ")]
        message = lines[-1][len("prs_mpi: error: "):] if lines else done.stderr.strip()
        raise ConfigError(message, done.returncode, done.stderr)
    return done.stdout


def sbatch_command(job_file, *, nodes, tasks_per_node=None, time=None, args=(), step=None, sbatch_args=(),
                   binary, script, chdir):
    """The sbatch command line submit() runs: slurm/prs_mpi.sbatch with the job file, prs_mpi given as PRS_MPI."""
    check("submit", "nodes", nodes, "int")
    check("submit", "tasks_per_node", tasks_per_node, "int")
    check("submit", "time", time, "str")
    if "," in binary:
        raise ValueError(f"submit: the prs_mpi path {binary} holds a comma, which sbatch --export cannot pass")
    command = ["sbatch", "--parsable", f"--nodes={nodes}"]
    if tasks_per_node is not None:
        command.append(f"--ntasks-per-node={tasks_per_node}")
    if time is not None:
        command.append(f"--time={time}")
    command += [f"--chdir={chdir}", f"--export=ALL,PRS_MPI={binary}", *sbatch_args, script,
                os.path.abspath(job_file), *(["--job", step] if step else []), *args]
    return command


def submit(job, nodes=1, tasks_per_node=None, time=None, *, args=(), step=None, job_file=None, sbatch_args=(),
           env=None, cwd=None):
    """Writes the job file and submits it with sbatch slurm/prs_mpi.sbatch (one MPI rank per task; a drain before
    the time limit, requeue and --resume until done). Returns the Slurm job id."""
    path = job_file_for(job, job_file)
    script = os.environ.get("PRS_SBATCH") or os.path.join(REPO, "slurm", "prs_mpi.sbatch")
    command = sbatch_command(path, nodes=nodes, tasks_per_node=tasks_per_node, time=time, args=args, step=step,
                             sbatch_args=sbatch_args, binary=os.path.abspath(find_binary()), script=script,
                             chdir=os.path.abspath(cwd or os.getcwd()))
    if shutil.which("sbatch") is None:
        raise FileNotFoundError("sbatch not found: submit() needs Slurm's client (slurm-client)")
    done = subprocess.run(command, capture_output=True, text=True, env=child_env(env))
    if done.returncode != 0:
        raise RuntimeError(f"sbatch failed (exit {done.returncode}): {done.stderr.strip()}")
    return done.stdout.strip().split(";")[0]
