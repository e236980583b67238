"""The README's example job: digits scored under mpiexec equal a serial model.predict, row for row."""
import os
import shutil
import subprocess

from prs_e2e import SOURCE_DIR, expect, expect_equal, prs_mpi_command

EXAMPLE = os.path.join(SOURCE_DIR, "examples", "digits")
PYTHON = "/usr/bin/python3"


def test_digits_predictions_equal_serial_predict(tmp_path):
    work = str(tmp_path)
    subprocess.run([PYTHON, os.path.join(EXAMPLE, "setup_example.py"), "--out-dir", work, "--count", "300"],
                   check=True, capture_output=True)
    for name in ("job.yml", "score.py"):
        shutil.copy(os.path.join(EXAMPLE, name), work)
    proc = subprocess.run(prs_mpi_command(4, ["job.yml", "--set", "mini_batch_size=20"]),
                          cwd=work, capture_output=True, text=True, timeout=300)
    expect_equal(proc.returncode, 0, "exit code", proc)
    output = os.path.join(work, "out", "predictions.txt")
    expect(f"results: {output}" in proc.stdout, "the console says where the predictions are", proc)
    check = subprocess.run([PYTHON, os.path.join(EXAMPLE, "check_predictions.py"), "--data", os.path.join(work, "data"),
                            "--model", os.path.join(work, "model"), "--output", output],
                           capture_output=True, text=True)
    expect_equal(check.returncode, 0, "check_predictions.py", check)
    expect("300 rows, all equal to a serial model.predict" in check.stdout, check.stdout)
