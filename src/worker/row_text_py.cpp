// append_row's common case without the per-row Python work: str() of a str is the str itself, of an int or a float
// ASCII digits; their UTF-8 is copied once, straight into the bytes object that goes to the pipe.
#include "row_text_py.hpp"

#include <cstring>
#include <string_view>
#include <vector>

namespace py = pybind11;

namespace prs {

namespace {

// The UTF-8 of an exact str (a view into it: ASCII data as it is, else its cached UTF-8); false if it has lone
// surrogates (strict UTF-8 refuses them, the general path encodes them with surrogateescape).
bool utf8_of(PyObject* s, std::string_view& out) {
#if PY_VERSION_HEX < 0x030C0000
  if (PyUnicode_READY(s) < 0) {  // a legacy str (C API before 3.12) gets its compact form first
    PyErr_Clear();
    return false;
  }
#endif
  if (PyUnicode_IS_ASCII(s)) {
    out = {static_cast<const char*>(PyUnicode_DATA(s)), static_cast<std::size_t>(PyUnicode_GET_LENGTH(s))};
    return true;
  }
  Py_ssize_t n = 0;
  const char* data = PyUnicode_AsUTF8AndSize(s, &n);
  if (data == nullptr) {
    PyErr_Clear();
    return false;
  }
  out = {data, static_cast<std::size_t>(n)};
  return true;
}

}  // namespace

py::object format_text_rows(py::handle result) {
  PyObject* r = result.ptr();
  if (!PyList_CheckExact(r) && !PyTuple_CheckExact(r)) return py::none();
  const Py_ssize_t n = PySequence_Fast_GET_SIZE(r);
  PyObject** items = PySequence_Fast_ITEMS(r);
  std::vector<std::string_view> parts(static_cast<std::size_t>(n));
  std::vector<py::object> made;  // str() of the ints and floats, alive until copied
  std::size_t total = static_cast<std::size_t>(n);
  for (Py_ssize_t i = 0; i < n; ++i) {
    PyObject* e = items[i];
    if (!PyUnicode_CheckExact(e)) {
      if (!PyLong_CheckExact(e) && !PyFloat_CheckExact(e)) return py::none();
      PyObject* s = PyObject_Str(e);
      if (s == nullptr) {  // an int past sys.get_int_max_str_digits(): the general path raises the same error
        PyErr_Clear();
        return py::none();
      }
      made.push_back(py::reinterpret_steal<py::object>(s));
      e = s;
    }
    if (!utf8_of(e, parts[static_cast<std::size_t>(i)])) return py::none();
    total += parts[static_cast<std::size_t>(i)].size();
  }
  PyObject* bytes = PyBytes_FromStringAndSize(nullptr, static_cast<Py_ssize_t>(total));
  if (bytes == nullptr) throw py::error_already_set();
  char* out = PyBytes_AS_STRING(bytes);
  for (std::string_view p : parts) {
    std::memcpy(out, p.data(), p.size());
    out += p.size();
    *out++ = '\n';
  }
  return py::reinterpret_steal<py::object>(bytes);
}

namespace {

PyObject* format_text_rows_c(PyObject*, PyObject* result) {
  try {
    return format_text_rows(result).release().ptr();
  } catch (py::error_already_set& e) {  // only a failed allocation: MemoryError
    e.restore();
    return nullptr;
  }
}

PyMethodDef kFormatTextRows = {"format_text_rows", format_text_rows_c, METH_O,
                               "append_row's bytes of a list or tuple of str, int and float; None for anything else"};

}  // namespace

py::object format_text_rows_function() {
  PyObject* f = PyCFunction_New(&kFormatTextRows, nullptr);
  if (f == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(f);
}

}  // namespace prs
