"""init() raises: the runner must report the traceback as an EntryScriptError."""


def init():
    raise RuntimeError("model file missing")  # line 5: the test checks this number


def run(mini_batch):
    return mini_batch
