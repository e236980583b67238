#!/usr/bin/python3
"""Build the digits example's inputs: one CSV file per image under data/, and model/model.pkl.

Each of the 1797 images of sklearn's digits data set becomes data/img_NNNNN.csv (NNNNN = its index in
load_digits(); the name does not reveal the label): 8 lines of 8 comma-separated pixel values 0..16,
read back with numpy.loadtxt(path, delimiter=","). The model is an SVC trained on the first half of
the images (always the full first half, whatever --count is); the second half is held out.
Re-running rebuilds the same content.
"""
import argparse
import os
import pickle

import numpy as np
from sklearn.datasets import load_digits
from sklearn.svm import SVC

HERE = os.path.dirname(os.path.abspath(__file__))
N_IMAGES = 1797
N_TRAIN = N_IMAGES // 2  # images 0..897 train the model, 898..1796 are held out


def image_name(index):
    return f"img_{index:05d}.csv"


def image_index(name):
    """Inverse of image_name: 'img_00042.csv' -> 42."""
    return int(name[len("img_"):-len(".csv")])


def write_images(data_dir, images):
    os.makedirs(data_dir, exist_ok=True)
    for old in os.listdir(data_dir):  # drop files of an earlier run (e.g. one with another --count)
        if old.startswith("img_") and old.endswith(".csv"):
            os.remove(os.path.join(data_dir, old))
    for i, image in enumerate(images):
        np.savetxt(os.path.join(data_dir, image_name(i)), image, fmt="%d", delimiter=",")


def train_model(digits):
    model = SVC(gamma=0.001, random_state=0)
    model.fit(digits.data[:N_TRAIN], digits.target[:N_TRAIN])
    accuracy = model.score(digits.data[N_TRAIN:], digits.target[N_TRAIN:])
    return model, accuracy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", default=HERE, help="where to create data/ and model/ (default: %(default)s)")
    parser.add_argument("--count", type=int, default=N_IMAGES, help="write only the first N images (default: all)")
    args = parser.parse_args()
    if not 1 <= args.count <= N_IMAGES:
        parser.error(f"--count must be between 1 and {N_IMAGES}, got {args.count}")

    digits = load_digits()
    data_dir = os.path.join(args.out_dir, "data")
    write_images(data_dir, digits.images[:args.count])
    print(f"wrote {args.count} images to {data_dir}/ ({image_name(0)} .. {image_name(args.count - 1)})")

    model, accuracy = train_model(digits)
    model_dir = os.path.join(args.out_dir, "model")
    os.makedirs(model_dir, exist_ok=True)
    model_path = os.path.join(model_dir, "model.pkl")
    with open(model_path, "wb") as f:
        pickle.dump(model, f)
    print(f"wrote {model_path}: {model!r} trained on images 0..{N_TRAIN - 1}, "
          f"accuracy on the held-out {N_TRAIN}..{N_IMAGES - 1}: {accuracy:.3f}")


if __name__ == "__main__":
    main()
