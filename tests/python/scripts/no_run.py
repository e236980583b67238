"""An entry script without run(mini_batch)."""


def init():
    pass
