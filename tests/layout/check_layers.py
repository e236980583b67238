"""Checks that the folders under src/ and include/prs/ depend on each other in one direction only.

Bottom to top: config and mpi know nothing above them; input, output and logs use them; master and worker use
those; src/app.cpp and src/main.cpp (the top) may use anything. A file's includes of "prs/<folder>/..." must name
its own folder or one it may use; a master file included by a worker file (or the reverse) fails this check.
Prints one line per wrong include and the closing line "N passed, N failed".
"""
import os
import re
import sys

MAY_USE = {
    "config": set(),
    "mpi": set(),
    "input": {"config", "mpi"},  # the collective index pass (input/index_pass.cpp)
    "output": {"config", "mpi"},
    "logs": {"config", "mpi"},
    "master": {"config", "mpi", "input", "output", "logs"},
    "worker": {"config", "mpi", "input", "output", "logs"},
}
INCLUDE = re.compile(r'^#include "prs/([a-z_]+)/[a-z_]+\.hpp"', re.M)


def folder_files(root):
    for top in ("src", os.path.join("include", "prs")):
        for folder in sorted(os.listdir(os.path.join(root, top))):
            path = os.path.join(root, top, folder)
            if os.path.isdir(path):
                for name in sorted(os.listdir(path)):
                    yield folder, os.path.join(path, name)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    passed = failed = 0
    for folder, path in folder_files(root):
        if folder not in MAY_USE:
            print(f"FAIL {path}: folder {folder}/ is not in the layering table of {__file__}")
            failed += 1
            continue
        with open(path) as f:
            used = INCLUDE.findall(f.read())
        wrong = sorted({u for u in used if u != folder and u not in MAY_USE[folder]})
        if wrong:
            print(f"FAIL {path}: {folder}/ must not include {', '.join(w + '/' for w in wrong)}")
            failed += 1
        else:
            passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
