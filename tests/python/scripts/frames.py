"""run() returns a pandas DataFrame chosen by --kind; make_frame() lets the test ask pandas what it would write."""
import argparse

import pandas as pd

KIND = None


def make_frame(kind):
    if kind == "simple":
        return pd.DataFrame({"name": ["a", "b"], "score": [1, 2]})
    # Spaces, quotes, a newline and a missing value: pandas' quoting rules decide the bytes.
    return pd.DataFrame({
        "id": [1, 2, 3],
        "text": ["x y", 'he said "hi"', "two\nlines"],
        "value": [1.5, None, -0.25],
    })


def init():
    global KIND
    parser = argparse.ArgumentParser()
    parser.add_argument("--kind", required=True)
    KIND = parser.parse_known_args()[0].kind


def run(mini_batch):
    return make_frame(KIND)
