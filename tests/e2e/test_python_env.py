"""The user's own packages: a virtual environment of the embedded Python (python_env: in the job, or VIRTUAL_ENV) is
the workers' Python: its site-packages (and .pth files) on sys.path, Debian's packages only with
--system-site-packages, sys.executable its bin/python3 (so multiprocessing's spawn runs it too). A venv of another
Python, a missing one or a folder that is none is one line and exit 2 before any worker starts; an import that fails
names the module and the interpreter; a table job in a venv without pandas says so."""
import os
import socket
import subprocess

import pytest

from prs_e2e import expect, expect_equal

PYTHON = "/usr/bin/python3"
VERSION = subprocess.run([PYTHON, "-c", "import sys; print(sys.version.split()[0])"], capture_output=True,
                         text=True, check=True).stdout.strip()
MAJOR_MINOR = ".".join(VERSION.split(".")[:2])
HOST = socket.gethostname()

# run() reports where it runs: the venv-only module, the .pth-only module, numpy's presence, azureml_user, and what
# a spawned child (multiprocessing) sees.
SCRIPT = """
    import importlib.util, multiprocessing, os, sys
    import venvonly, pthonly
    from azureml_user.parallel_run import EntryScript
    import prs

    def init():
        EntryScript().logger.info("init in %s", sys.prefix)

    def run(mini_batch):
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(1) as pool:
            child = pool.apply(venvonly.where)
        numpy = importlib.util.find_spec("numpy") is not None
        return [f"{os.path.basename(p)} {venvonly.VALUE} {pthonly.VALUE} numpy={numpy} rank={prs.rank > 0} "
                f"{sys.executable} {sys.prefix} child: {child}" for p in mini_batch]
"""

VENVONLY = """\
import sys
VALUE = "from-the-venv"


def where():
    return f"{VALUE} {sys.executable} {sys.prefix}"
"""


def make_venv(folder, system_site_packages=False):
    """A venv of Debian's Python (no pip: nothing is downloaded) holding venvonly.py, and pthonly.py reached only
    through a .pth file in its site-packages."""
    args = [PYTHON, "-m", "venv", "--without-pip", folder]
    if system_site_packages:
        args.insert(3, "--system-site-packages")
    subprocess.run(args, check=True)
    site = os.path.join(folder, "lib", f"python{MAJOR_MINOR}", "site-packages")
    with open(os.path.join(site, "venvonly.py"), "w") as f:
        f.write(VENVONLY)
    extra = os.path.join(folder, "extra")
    os.makedirs(extra)
    with open(os.path.join(extra, "pthonly.py"), "w") as f:
        f.write('VALUE = "from-a-pth"\n')
    with open(os.path.join(site, "extra.pth"), "w") as f:
        f.write(extra + "\n")
    return folder


def expected_rows(job, venv, numpy):
    python = f"{venv}/bin/python3"
    return sorted(f"{item} from-the-venv from-a-pth numpy={numpy} rank=True {python} {venv} "
                  f"child: from-the-venv {python} {venv}" for item in job.items)


def env_line(venv, origin, system):
    return (f"prs_mpi: Python environment: {venv} ({origin}), Python {VERSION}, {system} system site packages; "
            f"interpreter {venv}/bin/python3")


def test_python_env_isolated_venv_packages_pth_and_spawn(make_job):
    job = make_job("isolated", SCRIPT, items=6, batch=2, extra="python_env: ./venv\n")
    venv = make_venv(job.path("venv"))
    proc = job.run(np=3, timeout=180)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), expected_rows(job, venv, numpy=False), "rows from the venv's Python", proc)
    line = env_line(venv, "python_env, job.yml:9", "without")
    expect(line + "\n" in proc.stdout, f"the console names the environment: {line}", proc)
    expect(line[len("prs_mpi: "):] in job.read("out/logs/sys/master_role.txt"), "and master_role.txt", proc)
    settings = {s["key"]: s for s in job.summary()["settings"]}
    expect_equal((settings["python_env"]["value"], settings["python_env"]["origin"]), (venv, "job.yml:9"),
                 "the resolved setting", proc)


def test_virtual_env_with_system_site_packages_also_sees_numpy(make_job):
    # numpy comes from Debian's dist-packages; yaml too (python3-yaml), but the venv's own yaml.py comes first.
    script = SCRIPT.replace("import venvonly", "import numpy, yaml, venvonly").replace(
        "def init():\n", "def init():\n        assert yaml.__file__.startswith(sys.prefix), yaml.__file__\n")
    job = make_job("system_site", script, items=4, batch=2)
    venv = make_venv(job.path("venv"), system_site_packages=True)
    with open(os.path.join(venv, "lib", f"python{MAJOR_MINOR}", "site-packages", "yaml.py"), "w") as f:
        f.write("SHADOW = True\n")
    proc = job.run(np=2, timeout=180, env={"VIRTUAL_ENV": venv})
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), expected_rows(job, venv, numpy=True), "rows with numpy from Debian", proc)
    expect(env_line(venv, "VIRTUAL_ENV", "with") + "\n" in proc.stdout, "the console names VIRTUAL_ENV", proc)


def test_python_env_wins_over_virtual_env(make_job):
    job = make_job("both", SCRIPT, items=2, batch=2, extra="python_env: ./venv\n")
    venv = make_venv(job.path("venv"))
    other = make_venv(job.path("other"))
    proc = job.run(np=2, timeout=180, env={"VIRTUAL_ENV": other})
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), expected_rows(job, venv, numpy=False), "the python_env one is used", proc)
    line = env_line(venv, "python_env, job.yml:9", "without") + f" (VIRTUAL_ENV={other} is not used: python_env wins)"
    expect(line + "\n" in proc.stdout, f"the console says which: {line}", proc)


def fake_venv(folder, cfg):
    """A folder laid out as a venv, with the pyvenv.cfg given (None: none)."""
    os.makedirs(os.path.join(folder, "bin"))
    os.symlink(PYTHON, os.path.join(folder, "bin", "python3"))
    if cfg is not None:
        with open(os.path.join(folder, "pyvenv.cfg"), "w") as f:
            f.write(cfg)


@pytest.mark.parametrize("case", ["other_version", "virtualenv_version_info", "other_python_same_version", "missing",
                                  "no_pyvenv_cfg", "virtual_env_missing"])
def test_a_bad_environment_is_one_line_exit_2_before_any_worker(make_job, case):
    job = make_job(case, SCRIPT, items=2, batch=2, extra="" if case.startswith("virtual_env") else "python_env: venv\n")
    venv = job.path("venv")
    env = None
    if case == "other_version":
        fake_venv(venv, "home = /opt/py37/bin\ninclude-system-site-packages = false\nversion = 3.7.3\n")
        what = (f"{venv} is a virtual environment of Python 3.7.3 (pyvenv.cfg: home = /opt/py37/bin), but the "
                f"workers run Python {MAJOR_MINOR} ({PYTHON}); make it again with {PYTHON} -m venv --clear {venv}")
    elif case == "virtualenv_version_info":
        fake_venv(venv, "home = /opt/py312/bin\nimplementation = CPython\nversion_info = 3.12.1.final.0\n")
        what = (f"{venv} is a virtual environment of Python 3.12.1.final.0 (pyvenv.cfg: home = /opt/py312/bin), but "
                f"the workers run Python {MAJOR_MINOR} ({PYTHON}); make it again with {PYTHON} -m venv --clear {venv}")
    elif case == "other_python_same_version":
        fake_venv(venv, f"home = /opt/py/bin\ninclude-system-site-packages = false\nversion = {MAJOR_MINOR}.99\n")
        what = (f"{venv} was made from another Python (pyvenv.cfg: home = /opt/py/bin, version = {MAJOR_MINOR}.99), "
                f"but the workers run {PYTHON}: its standard library and compiled packages are not theirs; make it "
                f"again with {PYTHON} -m venv --clear {venv}")
    elif case == "no_pyvenv_cfg":
        fake_venv(venv, None)
        what = (f"{venv} is not a virtual environment (it has no pyvenv.cfg); make it with {PYTHON} -m venv {venv} "
                "(add --system-site-packages to keep Debian's packages)")
    else:
        what = f"{venv}: no such folder; make it with {PYTHON} -m venv {venv} (add --system-site-packages to keep " \
               "Debian's packages)"
    where = "VIRTUAL_ENV" if case.startswith("virtual_env") else "job.yml:9: python_env"
    if case.startswith("virtual_env"):
        env = {"VIRTUAL_ENV": venv}
    for np, args in ((3, ()), (0, ("--dry-run",))):
        proc = job.run(np=np, args=args, env=env)
        expect_equal(proc.returncode, 2, f"exit code ({args})", proc)
        ours = [line for line in proc.stderr.splitlines() if line.startswith("prs_mpi: ")]
        expect_equal(ours, [f"prs_mpi: error: {where}: {what}"], "the one line", proc)
    expect(not job.exists("out"), "nothing written: no output, no logs", proc)


IMPORT_SCRIPT = """
    import nosuchmodule
    def run(mini_batch):
        return mini_batch
"""


@pytest.mark.parametrize("in_venv", [False, True], ids=["debian_python", "venv"])
def test_a_failed_import_names_the_module_and_the_interpreter(make_job, in_venv):
    job = make_job(f"import_{in_venv}", IMPORT_SCRIPT, items=2, batch=2,
                   extra="python_env: ./venv\n" if in_venv else "")
    if in_venv:
        venv = make_venv(job.path("venv"))
        interpreter = f"{venv}/bin/python3 (Python {VERSION}, virtual environment {venv}, without system site packages)"
    else:
        interpreter = f"{PYTHON} (Python {VERSION}, no virtual environment)"
    proc = job.run(np=2, timeout=180)
    expect_equal(proc.returncode, 1, "exit code: no worker left", proc)
    traceback_file = job.path(f"out/logs/user/error/{HOST}/process001.txt")
    line = (f"prs_mpi: rank 1 ({HOST}): init() failed, worker retired: cannot import nosuchmodule: No module named "
            f"'nosuchmodule'; the interpreter is {interpreter} (traceback: {traceback_file})")
    expect(line + "\n" in proc.stderr, f"the console line:\n{line}", proc)
    errors = job.read("out/logs/user/error.txt")
    expect("ModuleNotFoundError: No module named 'nosuchmodule'\n" in errors and line.split("retired: ")[1].split(
        " (traceback")[0] in errors, f"the traceback and the line in error.txt:\n{errors}", proc)


TABLE_JOB = """\
type: parallel
inputs:
  input_data: {type: mltable, path: ./table}
outputs:
  job_output_file: {type: uri_file, path: ./out/predictions.txt}
input_data: ${{inputs.input_data}}
mini_batch_size: "1kb"
python_env: ./venv
task:
  code: ./src
  entry_script: score.py
  append_row_to: ${{outputs.job_output_file}}
"""


@pytest.mark.parametrize("system_site_packages", [False, True], ids=["isolated", "system_site_packages"])
def test_a_table_job_needs_pandas_in_the_venv(make_job, system_site_packages):
    job = make_job(f"table_{system_site_packages}", "def run(mini_batch):\n    return list(mini_batch['a'])\n")
    job.write("job.yml", TABLE_JOB)
    job.write("table/MLTable", "paths:\n  - file: ./t.csv\ntransformations:\n  - read_delimited:\n"
                               "      delimiter: ','\n")
    job.write("table/t.csv", "a,b\n1,x\n2,y\n")
    venv = make_venv(job.path("venv"), system_site_packages)
    proc = job.run(np=2, timeout=180)
    if system_site_packages:
        expect_equal(proc.returncode, 0, "exit code", proc)
        expect_equal(job.rows(), ["1", "2"], "rows", proc)
        return
    expect_equal(proc.returncode, 1, "exit code: no worker left", proc)
    line = (f"init() failed, worker retired: cannot import pandas: the table input (type: mltable) needs pandas: No "
            f"module named 'pandas'; make the virtual environment with --system-site-packages (Debian's "
            f"python3-pandas) or install pandas in it; the interpreter is {venv}/bin/python3 (Python {VERSION}, "
            f"virtual environment {venv}, without system site packages)")
    expect(line in proc.stderr, f"the console line:\n{line}", proc)
