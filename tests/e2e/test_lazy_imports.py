"""The runner's own imports are lazy (a worker's Python process starts faster): logging, for logging_level, is
imported when the script imports it, and the root logger then takes the job's level; traceback when an error is
reported, always the standard one; signal not at all (the run() timer uses _signal). A code folder's own module of
one of those names is the script's, as with `python3 score.py`, and the runner still works."""
import subprocess

from prs_e2e import expect, expect_equal

NAMES = ("logging", "traceback", "signal", "enum", "re", "json", "numbers", "struct", "tokenize", "linecache")

PLAIN = subprocess.run(["/usr/bin/python3", "-c", f"import sys; print(' '.join(n for n in {NAMES!r} if n in sys.modules))"],
                       capture_output=True, text=True, check=True).stdout.split()


def test_the_runner_imports_none_of_those_modules_the_plain_interpreter_has_not(make_job):
    # What the plain interpreter's start imports (site: nothing of these here) may be there; nothing more.
    script = f"""
        import os, sys
        AT_IMPORT = [n for n in {NAMES!r} if n in sys.modules]

        def run(mini_batch):
            return [f"{{os.path.basename(p)}} {{' '.join(AT_IMPORT) or '-'}}" for p in mini_batch]
    """
    job = make_job("none", script, items=2, batch=1, extra="logging_level: DEBUG\n")
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} {' '.join(PLAIN) or '-'}" for item in job.items], "modules", proc)


def test_logging_imported_late_takes_the_job_s_level_and_keeps_its_own_loader(make_job):
    # find_spec() before the import (as optional-dependency checks do) must not lose the level.
    script = """
        import importlib.util, os, sys
        FOUND = importlib.util.find_spec("logging") is not None

        def run(mini_batch):
            import logging
            hooks = [f for f in sys.meta_path if type(f).__name__ == "_LevelOnImport"]
            loader = type(logging.__loader__).__name__
            same = logging.__spec__.loader is logging.__loader__
            return [f"{os.path.basename(p)} {FOUND} {logging.getLogger().level} {loader} {same} {len(hooks)}"
                    for p in mini_batch]
    """
    for level, number in (("ERROR", 40), ("", 20)):
        job = make_job(f"late_{level or 'default'}", script, items=2, batch=2,
                       extra=f"logging_level: {level}\n" if level else "")
        proc = job.run(np=2)
        expect_equal(proc.returncode, 0, "exit code", proc)
        expect_equal(sorted(job.rows()), [f"{item} True {number} SourceFileLoader True 0" for item in job.items],
                     f"logging_level {level or '(default)'}", proc)


def test_a_code_folder_s_traceback_module_neither_runs_nor_formats_the_errors(make_job):
    script = """
        import os

        def run(mini_batch):
            if any(p.endswith("item_001.txt") for p in mini_batch):
                raise ValueError("item 1 is bad")
            return [os.path.basename(p) for p in mini_batch]
    """
    job = make_job("tb_unused", script, items=3, batch=1, retries=0)
    job.write("src/traceback.py", 'raise RuntimeError("the code folder\'s traceback.py ran")\n')
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), ["item_000.txt", "item_002.txt"], "rows", proc)
    errors = job.read("out/logs/user/error.txt")
    expect('score.py", line 6, in run\n' in errors and "ValueError: item 1 is bad\n" in errors, errors)
    expect("traceback.py ran" not in errors + proc.stderr, errors)
    expect("mini-batch 1, attempt 1 failed: ValueError: item 1 is bad" in proc.stderr, "console line", proc)


def test_a_script_s_own_traceback_and_signal_modules_are_its_own_and_errors_and_timeouts_still_work(make_job):
    script = """
        import os, signal, time, traceback

        def run(mini_batch):
            if any(p.endswith("item_001.txt") for p in mini_batch):
                raise ValueError("item 1 is bad")
            if any(p.endswith("item_002.txt") for p in mini_batch):
                time.sleep(30)
            return [f"{os.path.basename(p)} {traceback.MARK} {signal.MARK}" for p in mini_batch]
    """
    job = make_job("own", script, items=4, batch=1, retries=0, timeout=1)
    job.write("src/traceback.py", 'MARK = "own-traceback"\n')
    job.write("src/signal.py", 'MARK = "own-signal"\n')
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"item_00{i}.txt own-traceback own-signal" for i in (0, 3)], "rows", proc)
    expect_equal(job.summary()["attempts"]["timed_out"], 1, "timeouts", proc)
    errors = job.read("out/logs/user/error.txt")
    expect('score.py", line 6, in run\n' in errors and "ValueError: item 1 is bad\n" in errors, errors)
    expect("TimeoutError: run() exceeded the timeout of 1 s" in errors, errors)


def test_a_code_folder_s_own_logging_module_is_the_script_s_and_takes_the_level(make_job):
    # As before the change (the runner imported logging after the code folder went on sys.path): the script gets
    # the code folder's logging.py, whose root logger is given logging_level, now when the script imports it.
    script = """
        import os, sys
        BEFORE = "logging" in sys.modules

        def run(mini_batch):
            import logging
            return [f"{os.path.basename(p)} {BEFORE} {logging.MARK} {logging.ROOT.levels}" for p in mini_batch]
    """
    job = make_job("own_logging", script, items=2, batch=1, extra="logging_level: WARNING\n")
    job.write("src/logging.py", 'MARK = "own-logging"\n\n\nclass _Root:\n    levels = []\n\n'
                                '    def setLevel(self, level):\n        self.levels.append(level)\n\n\n'
                                'ROOT = _Root()\n\n\ndef getLogger(name=None):\n    return ROOT\n')
    proc = job.run(np=2)
    expect_equal(proc.returncode, 0, "exit code", proc)
    expect_equal(sorted(job.rows()), [f"{item} False own-logging ['WARNING']" for item in job.items], "rows", proc)
