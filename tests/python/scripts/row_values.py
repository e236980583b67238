"""run([case]) returns CASES[case]: values of every kind append_row formats, for the byte-for-byte test of the fast
formatter (row_text_py.cpp) against the general one. old_rows() is the general formatter as it was."""
import enum
import sys

import numpy as np
import pandas as pd


class Sub(str):
    pass


class Shout(str):
    def __str__(self):  # str(e) of a subclass calls this: the fast path must not copy the str's own text
        return self.upper()


class Plus(str):
    def __add__(self, other):  # str(e) + "\n" uses this: the general path must keep calling it
        return "plus:" + str.__str__(self) + other


class MakesPlus:
    def __str__(self):
        return Plus("made")


class Counted:
    calls = 0

    def __str__(self):
        Counted.calls += 1
        return f"counted {Counted.calls}"


class Reversed(list):
    def __iter__(self):
        return reversed(list(list.__iter__(self)))


class Color(enum.IntEnum):
    RED = 1


FRAME = pd.DataFrame({"a": [1, 2], "b": ["x y", "z"]})

CASES = {
    "strs": ["a", "", "with\nnewline", "two\n\nblank", "tab\tand space ", "\r\n", "nul\x00byte", "\\"],
    "non_ascii": ["héllo wörld", "日本", "emoji 😀", "\u00a0nbsp", "\U0010ffff", "ÿ" * 1000],
    "ints": [0, -1, 7, 2**63, -(2**64) - 1, 10**30, int("9" * 4000)],
    "floats": [0.0, -0.0, 0.1, 1 / 3, 1e16, 1e300, 1e-300, -2.5e-7, float("inf"), float("-inf"), float("nan"),
               123456789.125, 5e-324],
    "mixed_fast": ["x", 1, 2.5, "ü", -3, 0.0],
    "tuple": ("t1", 2, 3.0),
    "empty": [],
    "empty_tuple": (),
    "long_rows": ["r" * 100_000, "s" * 100_000],
    "surrogateescape": ["caf\udce9.txt", "ok"],
    "bad_surrogate": ["fine", "\ud800 lone"],
    "huge_int": [1, 10**5000],
    "bools": [True, False, 1],
    "none_bytes_nested": [None, b"bytes\n", bytearray(b"ba"), [1, [2, "3"]], (1,), {"k": 1}, {1}, 1 + 2j, ...],
    "numpy_scalars": [np.float64(0.1), np.float32(0.1), np.int64(5), np.uint8(255), np.bool_(True), np.str_("np"),
                      np.float64("nan"), np.datetime64("2024-01-02")],
    "ndarray_rows": list(np.arange(6).reshape(2, 3)),
    "str_subclass": [Sub("sub"), Shout("shout"), "plain"],
    "str_returns_subclass": [MakesPlus(), "after"],
    "counted": [Counted(), Counted()],
    "list_subclass": Reversed(["first", "second"]),
    "int_enum": [Color.RED, 2],
    "frame_rows": [FRAME.iloc[0], FRAME.iloc[1]],
    "frame_and_str": [FRAME, "s"],
}

# Cases the fast formatter takes (exactly a list or tuple of exactly str, int and float, UTF-8 encodable, ints that
# str() accepts); every other one goes the general way.
FAST = {"strs", "non_ascii", "ints", "floats", "mixed_fast", "tuple", "empty", "empty_tuple", "long_rows"}


def old_rows(result):
    return "".join(str(element) + "\n" for element in result).encode("utf-8", "surrogateescape")


def init():
    sys.set_int_max_str_digits(4300)  # the default, whatever PYTHONINTMAXSTRDIGITS says


def run(mini_batch):
    return CASES[mini_batch[0]]
