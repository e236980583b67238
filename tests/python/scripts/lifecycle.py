"""Records each call; shutdown() raises with --fail-shutdown."""
import sys

CALLS = []


def init():
    CALLS.append("init")


def run(mini_batch):
    CALLS.append("run")
    return mini_batch


def shutdown():
    CALLS.append("shutdown")
    if "--fail-shutdown" in sys.argv:
        raise OSError("could not flush the model cache")
