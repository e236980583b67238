#pragma once
// Private to src/worker/: append_row's text rows of a list or tuple of str, int and float, formatted in C++.
#include <pybind11/pybind11.h>

namespace prs {

// format_text_rows as a Python function of one argument (METH_O: no pybind11 dispatch, ~50 ns a call).
pybind11::object format_text_rows_function();

// The bytes of "".join(str(e) + "\n" for e in result).encode("utf-8", "surrogateescape") when result is exactly a
// list or tuple whose elements are all exactly str, int or float; None otherwise (or when a str is not encodable
// without surrogateescape, or an int too long for str()), and the caller formats it the general way. The GIL must be
// held; no Python code of the caller's runs, so returning None halfway has no effect to undo.
pybind11::object format_text_rows(pybind11::handle result);

}  // namespace prs
