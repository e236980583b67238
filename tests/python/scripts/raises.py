"""run() raises; the test checks the traceback names this file and the line of the raise."""


def run(mini_batch):
    if mini_batch == ["interrupt"]:
        raise KeyboardInterrupt
    if mini_batch == ["exit"]:
        raise SystemExit(3)
    raise ValueError(f"cannot score {mini_batch[0]}")  # line 9: the test checks this number
