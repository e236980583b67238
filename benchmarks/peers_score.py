"""Entry script of benchmarks/peers.py: score CSV files of features with a pickled scikit-learn random forest.

Every tool runs this same code on the same mini-batches of 10 file paths: prs_mpi calls init() and run() as the
service would; the others call load_model() once per worker and score_text(). A mini-batch's result is one row per
CSV row, "file row prediction", the way prs_mpi writes a DataFrame (to_csv with sep=" ", no header, no index).
"""
import argparse
import os
import pickle

import pandas as pd

model = None


def load_model(folder):
    """Load folder/model.pkl into this process (once per worker)."""
    global model
    with open(os.path.join(folder, "model.pkl"), "rb") as f:
        model = pickle.load(f)


def score(paths):
    """The rows of one mini-batch as a DataFrame: file name, row number in the file, predicted class."""
    frames = []
    for path in paths:
        features = pd.read_csv(path)
        frames.append(pd.DataFrame({"file": os.path.basename(path), "row": range(len(features)),
                                    "prediction": model.predict(features.to_numpy())}))
    return pd.concat(frames, ignore_index=True)


def score_text(paths):
    """score() as the text prs_mpi would append: what the other tools return from a worker."""
    return score(paths).to_csv(sep=" ", header=False, index=False)


def init():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, help="folder holding model.pkl")
    args, _ = parser.parse_known_args()
    load_model(args.model)


def run(mini_batch):
    return score(mini_batch)
