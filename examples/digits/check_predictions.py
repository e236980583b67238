#!/usr/bin/python3
"""Check the digits example's output: every image has exactly one row, equal to a serial model.predict.

Rows are "img_00042.csv 7" lines (a DataFrame appended with to_csv(sep=" ", header=False, index=False)),
in any order. Exits 0 when all rows match, 1 (listing the differences) otherwise.
"""
import argparse
import csv
import os
import pickle
import sys
from collections import Counter

from sklearn.datasets import load_digits

from score import read_images  # the entry script's own reading code
from setup_example import N_TRAIN, image_index

HERE = os.path.dirname(os.path.abspath(__file__))
SHOW = 10  # differences listed per kind


def read_rows(output):
    """The output's rows as (file, prediction) pairs, plus the lines that are not such a pair."""
    rows, malformed = [], []
    with open(output, newline="") as f:
        for lineno, fields in enumerate(csv.reader(f, delimiter=" "), 1):
            if len(fields) == 2:
                rows.append((fields[0], fields[1]))
            else:
                malformed.append(f"line {lineno}: {' '.join(fields)!r}")
    return rows, malformed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=os.path.join(HERE, "data"), help="input folder (default: %(default)s)")
    parser.add_argument("--model", default=os.path.join(HERE, "model"), help="model folder (default: %(default)s)")
    parser.add_argument("--output", default=os.path.join(HERE, "out", "predictions.txt"),
                        help="the job's output file (default: %(default)s)")
    args = parser.parse_args()
    if not os.path.isfile(args.output):
        print(f"{args.output}: no such file; run the job first (see README.md)")
        return 1

    # The reference: one serial predict over all the input files, read the way score.py reads them.
    names = sorted(n for n in os.listdir(args.data) if n.endswith(".csv"))
    with open(os.path.join(args.model, "model.pkl"), "rb") as f:
        model = pickle.load(f)
    expected = dict(zip(names, model.predict(read_images([os.path.join(args.data, n) for n in names])).astype(str)))

    rows, malformed = read_rows(args.output)
    got = dict(rows)
    problems = {
        "malformed": malformed,
        "duplicated": [f"{n} ({k} rows)" for n, k in Counter(n for n, _ in rows).items() if k > 1],
        "missing": [n for n in names if n not in got],
        "extra": [n for n in got if n not in expected],
        "wrong": [f"{n}: got {p}, serial predict says {expected[n]}"
                  for n, p in rows if n in expected and p != expected[n]],
    }
    name = os.path.basename(args.output)
    if any(problems.values()):
        print(f"{name}: {len(rows)} rows for {len(names)} files; differences from a serial model.predict:")
        for kind, items in problems.items():
            if items:
                print(f"  {len(items)} {kind}: " + "; ".join(items[:SHOW]) + (" ..." if len(items) > SHOW else ""))
        return 1

    labels = load_digits().target
    held_out = [n for n in names if image_index(n) >= N_TRAIN]
    summary = f"{name}: {len(rows)} rows, all equal to a serial model.predict"
    if held_out:
        correct = sum(int(got[n]) == labels[image_index(n)] for n in held_out)
        summary += f"; accuracy on the held-out half {correct / len(held_out):.3f} ({correct}/{len(held_out)})"
    print(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
