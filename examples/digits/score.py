"""Entry script of the digits example: classify 8x8 digit images, one CSV file per image.

prs_mpi (like the cloud service) imports this file, calls init() once per worker, run(mini_batch)
for each mini-batch of file paths, and shutdown() at the end.
"""
import argparse
import logging
import os
import pickle

import numpy as np
import pandas as pd

logging.basicConfig(level=logging.INFO)
logger = logging.getLogger(__name__)
model = None


def read_images(paths):
    """Read image files (8 lines of 8 comma-separated pixels) into an array of shape (len(paths), 64)."""
    return np.array([np.loadtxt(path, delimiter=",") for path in paths]).reshape(-1, 64)


def init():
    global model
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", required=True, help="folder holding model.pkl")
    args, _ = parser.parse_known_args()
    model_path = os.path.join(args.model, "model.pkl")
    with open(model_path, "rb") as f:
        model = pickle.load(f)
    logger.info("init: loaded %r from %s", model, model_path)


def run(mini_batch):
    logger.info("run: %d files, first %s", len(mini_batch), mini_batch[:1])
    predictions = model.predict(read_images(mini_batch)) if mini_batch else []
    return pd.DataFrame({
        "file": [os.path.basename(path) for path in mini_batch],
        "prediction": predictions,
    })


def shutdown():
    logger.info("shutdown: done")
