"""Imports ahead (src/worker/preload.cpp, prestart.hpp): a prestarted worker process imports the entry script's
installed top-level imports while MPI starts. The script gets that very module, imported once; a module of the code
folder or of a PYTHONPATH folder of the job is never imported ahead, even where an installed one has its name; what
an import prints reaches the log files; what it sets in os.environ stays; an import that raises, a script that does
not parse and an environment other than predicted give what a process started after MPI_Init gives.

The installed modules live in a venv's site-packages (python_env). No PRS_PRESTART: on this machine's 2 cores the
automatic rule turns the prestart on for a script with imports ahead (prestart_wanted)."""
import os
import re
import subprocess
import uuid

import pytest

from prs_e2e import MPIEXEC, PRS_MPI, expect, expect_equal
from test_python_env import MAJOR_MINOR, make_venv

os.environ.pop("PRS_PRESTART", None)

# At its import the module records its process, whether that process is a prestarted one (its command line), where
# fd 1 pointed then and OMP_NUM_THREADS; it prints to stdout and stderr and sets a variable.
RECORDING_MODULE = """\
import os, sys

with open("/proc/self/cmdline", "rb") as _f:
    PRESTARTED = b"--prestart" in _f.read().split(b"\\0")
FD1 = os.readlink("/proc/self/fd/1")
THREADS = os.environ.get("OMP_NUM_THREADS")
ARGV = list(sys.argv)
MARK = "installed"
with open({records!r}, "a") as _f:
    _f.write(f"{{os.getpid()}} {{PRESTARTED}} {{FD1.startswith('/memfd:prs-held-stdout')}} {{THREADS}}\\n")
os.environ.setdefault("AHEAD_SET", "by-{name}")
print("{name} says hello at its import", flush=True)
print("{name} warns at its import", file=sys.stderr)
{tail}"""

SCRIPT = """
    import os
    import {module}

    def run(mini_batch):
        with open("/proc/self/cmdline", "rb") as f:
            prestarted = b"--prestart" in f.read().split(b"\\0")
        m = {module}
        return [f"{{os.path.basename(p)}} {{m.MARK}} {{m.__file__}} {{prestarted}} {{os.environ.get('AHEAD_SET')}} "
                f"{{getattr(m, 'THREADS', None) == os.environ['OMP_NUM_THREADS']}} {{m.ARGV == ['']}}"
                for p in mini_batch]
"""

ADOPTED = re.compile(r"rank 1: adopted the Python process started before MPI_Init \(pid (\d+)\)$", re.M)


def site_packages(venv):
    return os.path.join(venv, "lib", f"python{MAJOR_MINOR}", "site-packages")


def install(venv, name, records, tail=""):
    """A recording module `name` in the venv's site-packages; its path."""
    path = os.path.join(site_packages(venv), f"{name}.py")
    with open(path, "w") as f:
        f.write(RECORDING_MODULE.format(records=records, name=name, tail=tail))
    return path


def records(path):
    """The lines the recording modules wrote: (pid, prestarted, fd 1 held, OMP_NUM_THREADS)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [tuple(line.split()) for line in f.read().splitlines()]


def host_of(job):
    return os.listdir(job.path("out/logs/sys/node"))[0]


def user_log(job, stream):
    return job.read(f"out/logs/user/{stream}/{host_of(job)}/process001.{stream}.txt")


def sys_log(job):
    return job.read(f"out/logs/sys/node/{host_of(job)}/process001.txt")


def venv_job(make_job, tmp_path, name, script, extra=""):
    venv = make_venv(str(tmp_path / "venv"))
    job = make_job(name, script, items=4, batch=2, extra=f"python_env: {venv}\nlogging_level: DEBUG\n{extra}")
    return venv, job


def test_an_installed_import_is_imported_ahead_once_and_is_the_script_s(make_job, tmp_path):
    venv, job = venv_job(make_job, tmp_path, "once", SCRIPT.format(module="aheadmod"))
    module = install(venv, "aheadmod", str(tmp_path / "imports.txt"))
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} installed {module} True by-aheadmod True True" for item in job.items],
                 "rows: the venv's module, in the prestarted process, its variable kept, the final thread count, "
                 "sys.argv [''] at its import", proc)
    adopted = ADOPTED.findall(sys_log(job))
    expect_equal(len(adopted), 1, "rank 1 adopted its prestarted process", proc)
    expect_equal([r[:3] for r in records(str(tmp_path / "imports.txt"))], [(adopted[0], "True", "True")],
                 "imported once, ahead (fd 1 held), by the adopted process", proc)
    for stream, line in (("stdout", "aheadmod says hello at its import"), ("stderr", "aheadmod warns at its import")):
        lines = user_log(job, stream).splitlines()
        expect_equal(lines[:2], [f"=== {lines[0][4:23]} pid {adopted[0]}: Python process started, init()", line],
                     f"the {stream} log: the start marker, then what the import printed", proc)


def test_modules_of_the_code_folder_and_of_pythonpath_are_not_imported_ahead(make_job, tmp_path):
    # The venv has all three; the code folder has shadowmod, the job's PYTHONPATH folder pathmod. Only aheadmod may
    # be imported ahead; the script gets the job's own two, and the venv's two are never imported at all.
    script = """
        import os
        import aheadmod, shadowmod, pathmod

        def run(mini_batch):
            return [f"{os.path.basename(p)} {aheadmod.MARK} {shadowmod.MARK} {pathmod.MARK}" for p in mini_batch]
    """
    venv, job = venv_job(make_job, tmp_path, "shadow", script,
                         extra=f"environment_variables: {{PYTHONPATH: {tmp_path / 'lib'}}}\n")
    install(venv, "aheadmod", str(tmp_path / "ahead.txt"))
    install(venv, "shadowmod", str(tmp_path / "venv_shadow.txt"))
    install(venv, "pathmod", str(tmp_path / "venv_path.txt"))
    job.write("src/shadowmod.py", 'MARK = "code-folder"\n')
    os.makedirs(tmp_path / "lib")
    with open(tmp_path / "lib" / "pathmod.py", "w") as f:
        f.write('MARK = "pythonpath"\n')
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} installed code-folder pythonpath" for item in job.items], "rows", proc)
    adopted = ADOPTED.findall(sys_log(job))
    expect_equal(len(adopted), 1, "rank 1 adopted its prestarted process", proc)
    expect_equal([r[:3] for r in records(str(tmp_path / "ahead.txt"))], [(adopted[0], "True", "True")],
                 "aheadmod imported ahead, once", proc)
    expect_equal(records(str(tmp_path / "venv_shadow.txt")) + records(str(tmp_path / "venv_path.txt")), [],
                 "the venv's shadowmod and pathmod never imported", proc)


def run_twice(job):
    """The job without the prestart, then with it (the automatic rule); both CompletedProcesses, out/ removed
    between them."""
    off = job.run(np=2, env={"PRS_PRESTART": "off"})
    subprocess.run(["rm", "-rf", job.path("out")], check=True)
    auto = job.run(np=2)
    return off, auto


def prs_lines(proc):
    return [line for line in proc.stderr.splitlines() if line.startswith("prs_mpi:")]


def test_a_script_that_does_not_parse_fails_as_without_the_prestart(make_job, tmp_path):
    venv, job = venv_job(make_job, tmp_path, "syntax", "import aheadmod\n\ndef run(mini_batch):\n    return [\n")
    install(venv, "aheadmod", str(tmp_path / "imports.txt"))
    off, auto = run_twice(job)
    expect(off.returncode != 0 and any("SyntaxError" in line for line in prs_lines(off)),
           "without the prestart: the SyntaxError", off)
    expect_equal((auto.returncode, prs_lines(auto)), (off.returncode, prs_lines(off)),
                 "exit code and prs_mpi's lines, with the prestart", auto)
    expect(ADOPTED.search(sys_log(job)) is not None, "rank 1 adopted its prestarted process", auto)
    expect_equal(records(str(tmp_path / "imports.txt")), [], "nothing imported, ahead or later", auto)


def test_an_installed_import_that_raises_fails_as_without_the_prestart(make_job, tmp_path):
    # The prestarted process's import ahead raises: once adopted it re-executes itself (the same pid) as a fresh
    # process, whose import raises as it does without the prestart.
    venv, job = venv_job(make_job, tmp_path, "raises", SCRIPT.format(module="brokenmod"))
    install(venv, "brokenmod", str(tmp_path / "imports.txt"),
            tail='raise ImportError("brokenmod is broken on purpose")\n')
    off = job.run(np=2, env={"PRS_PRESTART": "off"})
    without = records(str(tmp_path / "imports.txt"))
    os.remove(tmp_path / "imports.txt")
    subprocess.run(["rm", "-rf", job.path("out")], check=True)
    auto = job.run(np=2)
    expect(off.returncode != 0 and any("brokenmod is broken on purpose" in line for line in prs_lines(off)),
           "without the prestart: the ImportError", off)
    expect_equal((auto.returncode, prs_lines(auto)), (off.returncode, prs_lines(off)),
                 "exit code and prs_mpi's lines, with the prestart", auto)
    adopted = ADOPTED.findall(sys_log(job))
    expect_equal(len(adopted), 1, "rank 1 adopted its prestarted process", auto)
    imports = records(str(tmp_path / "imports.txt"))
    expect_equal([r[1:3] for r in imports], [("True", "True")] + [("False", "False")] * len(without),
                 "one import ahead, then as many as without the prestart", auto)
    expect_equal(imports[1][0], adopted[0], "the first fresh import in the adopted process's pid", auto)
    expect_equal(user_log(job, "stdout").count("brokenmod says hello at its import"), len(without),
                 "what the import ahead printed is dropped; the fresh imports print theirs", auto)


def test_an_environment_other_than_predicted_imports_afresh(make_job, tmp_path):
    # The worker rank is told it has 5 local ranks (the launcher's variable, before MPI_Init): its process imports
    # ahead with OMP_NUM_THREADS for 4 workers; node discovery finds 1, so the adopted process re-executes itself
    # (the same pid) and imports again with the worker's own thread count.
    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: the thread counts of 1 and 4 workers are both 1")
    venv, job = venv_job(make_job, tmp_path, "afresh", SCRIPT.format(module="aheadmod"))
    module = install(venv, "aheadmod", str(tmp_path / "imports.txt"))
    cmd = [MPIEXEC, "--oversubscribe", "-np", "1", PRS_MPI, "job.yml", ":",
           "-np", "1", "env", "OMPI_COMM_WORLD_LOCAL_SIZE=5", PRS_MPI, "job.yml"]
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMEXPR_NUM_THREADS")}
    proc = subprocess.run(cmd, cwd=job.dir, capture_output=True, text=True, timeout=300, env=env)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} installed {module} False by-aheadmod True False"
                                      for item in job.items],
                 "rows: a fresh process, the worker's thread count and the script's sys.argv at the import", proc)
    adopted = ADOPTED.findall(sys_log(job))
    expect_equal(len(adopted), 1, "rank 1 adopted its prestarted process", proc)
    threads = str(max(1, os.cpu_count() // 4))
    expect_equal(records(str(tmp_path / "imports.txt")),
                 [(adopted[0], "True", "True", threads), (adopted[0], "False", "False", str(os.cpu_count()))],
                 "imported ahead with 4 workers' threads, then afresh with 1 worker's, in the same pid", proc)
    expect_equal(user_log(job, "stdout").count("aheadmod says hello at its import"), 1,
                 "printed once: by the fresh import", proc)
    expect("rank 1: rows of 2 mini-batches came through the shared rows region, of 0 through the pipe" in sys_log(job),
           "the re-executed process found the rank's rows region on fd 5", proc)


def test_a_refused_job_with_imports_ahead_leaves_no_process_and_no_output(make_job, tmp_path):
    # Rank 0 refuses the job (its logs folder is a file) while the workers' prestarted processes may be importing
    # ahead: exit 2, prs_mpi's one error line, no process left behind, nothing written but what the module itself
    # writes at its import (its records, if it got that far).
    from test_prestart import processes_tagged
    venv, job = venv_job(make_job, tmp_path, "refused", SCRIPT.format(module="aheadmod"))
    install(venv, "aheadmod", str(tmp_path / "imports.txt"))
    job.write("not_a_folder", "")
    args = ["--log-dir", job.path("not_a_folder")]
    off = job.run(np=3, args=args, env={"PRS_PRESTART": "off"})
    expect_equal(records(str(tmp_path / "imports.txt")), [], "without the prestart: nothing imported", off)
    left = tree(job.dir)
    subprocess.run(["rm", "-rf", job.path("out")], check=True)
    tag = uuid.uuid4().hex
    proc = job.run(np=3, args=args, env={"PRS_TEST_TAG": tag})
    expect_equal(proc.returncode, 2, "exit code", proc)
    errors = [line for line in proc.stderr.splitlines() if line.startswith("prs_mpi:")]
    expect_equal(errors, [f"prs_mpi: error: {job.path('not_a_folder')}: cannot create the folder: Not a directory"],
                 "prs_mpi's one error line", proc)
    expect_equal((off.returncode, prs_lines(off)), (proc.returncode, errors), "as without the prestart", proc)
    expect_equal(processes_tagged(tag), [], "processes left behind", proc)
    expect_equal(tree(job.dir), left, "the job folder, as without the prestart", proc)
    expect(all(r[1:3] == ("True", "True") for r in records(str(tmp_path / "imports.txt"))),
           "imported, if at all, only ahead", proc)


def tree(folder):
    """Every path under folder, relative, sorted."""
    return sorted(os.path.relpath(os.path.join(root, name), folder)
                  for root, dirs, files in os.walk(folder) for name in dirs + files)


def test_a_submodule_taken_by_from_import_is_imported_ahead_too(make_job, tmp_path):
    # `from aheadpkg import sub, VALUE`: sub is a submodule (imported ahead with its package), VALUE a name of the
    # package (nothing more to import).
    script = """
        import os
        from aheadpkg import sub, VALUE

        def run(mini_batch):
            return [f"{os.path.basename(p)} {VALUE} {sub.MARK} {sub.PRESTARTED}" for p in mini_batch]
    """
    venv, job = venv_job(make_job, tmp_path, "submodule", script)
    package = os.path.join(site_packages(venv), "aheadpkg")
    os.makedirs(package)
    with open(os.path.join(package, "__init__.py"), "w") as f:
        f.write('VALUE = "package-value"\n')
    with open(os.path.join(package, "sub.py"), "w") as f:
        f.write(RECORDING_MODULE.format(records=str(tmp_path / "imports.txt"), name="sub", tail=""))
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} package-value installed True" for item in job.items], "rows", proc)
    adopted = ADOPTED.findall(sys_log(job))
    expect_equal(len(adopted), 1, "rank 1 adopted its prestarted process", proc)
    expect_equal([r[:3] for r in records(str(tmp_path / "imports.txt"))], [(adopted[0], "True", "True")],
                 "the submodule imported once, ahead", proc)
