// The worker's row-record encoder: run()'s result, column by column, in the binary form of a .h5 output's staging
// file (include/prs/output/row_record.hpp describes the bytes; the C++ side parses them when it builds the .h5).
#include "row_records_py.hpp"

namespace prs {

// Why in Python: only Python knows the result's types (pandas dtypes, object columns, numpy scalars), and numpy
// turns a column into its bytes in one call. The result is checked here, so an unstorable column fails the attempt
// with its name and type, as a traceback-free error in logs/user/error.txt, and never reaches the staging file.
const char* row_records_source() {
  return R"PY(
import numbers as _numbers, struct as _struct
from array import array as _array

_RECORD_MAGIC = b"PRSH5RC1"
_HOW = "a .h5 output stores columns of numbers, booleans, strings, bytes or datetime64[ns]"


class RowRecordError(Exception):
    pass


def _kind_of(value):
    if isinstance(value, str):
        return "U"
    if isinstance(value, bytes):
        return "S"
    if isinstance(value, bool) or type(value).__name__ == "bool_":
        return "b"
    if isinstance(value, _numbers.Integral):
        return "i"
    if isinstance(value, _numbers.Real):
        return "f"
    return None


def _strings(name, values, kind):
    parts = [v.encode("utf-8", "surrogateescape") for v in values] if kind == "U" else list(values)
    lengths = _array("I", [len(p) for p in parts])
    if _array("I").itemsize != 4 or _struct.pack("=I", 1) != _struct.pack("<I", 1):
        raise RowRecordError("this machine is not little-endian with 4-byte unsigned ints; a .h5 output needs it")
    return kind, 0, max(lengths, default=0), lengths.tobytes() + b"".join(parts)


def _values_column(name, values):
    # A column of Python objects (a list's elements, an object dtype column): one type, or ints and floats.
    kinds = {_kind_of(v) for v in values}
    if kinds == {"U"} or kinds == {"S"}:
        return _strings(name, values, kinds.pop())
    try:
        if kinds == {"b"}:
            return "b", 1, 0, bytes(1 if v else 0 for v in values)
        if kinds == {"i"}:
            return "i", 8, 0, _struct.pack(f"<{len(values)}q", *values)
        if kinds <= {"i", "f"} and kinds:
            return "f", 8, 0, _struct.pack(f"<{len(values)}d", *values)
    except _struct.error as e:
        raise RowRecordError(f"column {name!r}: {e} (an integer beyond 64 bits?); {_HOW}") from None
    types = sorted({type(v).__name__ for v in values})
    what = f"values of several types ({', '.join(types)})" if len(types) > 1 else f"{types[0]} values"
    raise RowRecordError(f"column {name!r} holds {what}, which cannot be stored; {_HOW}, one type per column "
                         "(convert it, and fill missing values first)")


def _array_column(name, arr):
    import numpy as np
    dt = arr.dtype
    if dt.kind in "iu" and dt.itemsize in (1, 2, 4, 8) or dt.kind == "f" and dt.itemsize in (4, 8):
        return dt.kind, dt.itemsize, 0, np.ascontiguousarray(arr, dtype=dt.newbyteorder("<")).tobytes()
    if dt.kind == "b":
        return "b", 1, 0, np.ascontiguousarray(arr, dtype="u1").tobytes()
    if dt == np.dtype("datetime64[ns]"):
        return "M", 8, 0, np.ascontiguousarray(arr.view("i8"), dtype="<i8").tobytes()
    if dt.kind in "OUS":
        return _values_column(name, arr.tolist())
    raise RowRecordError(f"column {name!r} has dtype {dt}, which cannot be stored; {_HOW}")


def _frame_columns(frame):
    import numpy as np
    if not frame.columns.is_unique:
        dup = frame.columns[frame.columns.duplicated()][0]
        raise RowRecordError(f"column {str(dup)!r} appears twice in the DataFrame; a .h5 output needs unique names")
    out = []
    for name in frame.columns:
        series = frame[name]
        if isinstance(series.dtype, np.dtype):
            out.append((str(name), _array_column(str(name), series.to_numpy())))
        elif str(series.dtype) == "string":
            out.append((str(name), _values_column(str(name), series.tolist())))
        else:
            raise RowRecordError(f"column {str(name)!r} has dtype {series.dtype}, which cannot be stored; {_HOW}")
    return out


def _list_columns(result):
    if result and all(isinstance(e, tuple) for e in result):
        width = len(result[0])
        for i, e in enumerate(result):
            if len(e) != width or width == 0:
                raise RowRecordError(f"element {i} is a tuple of {len(e)} values, element 0 of {width}; a .h5 output "
                                     "stores a list of tuples as columns Column1..N and needs them all of one length")
        return [(f"Column{j + 1}", _values_column(f"Column{j + 1}", [e[j] for e in result])) for j in range(width)]
    if any(isinstance(e, tuple) for e in result):
        raise RowRecordError("the list mixes tuples (rows) with other values; a .h5 output stores a list of tuples "
                             "as columns Column1..N or a list of values as the column Column1")
    return [("Column1", _values_column("Column1", list(result)))]


def _ndarray_columns(arr):
    if arr.ndim == 1:
        return [("Column1", _array_column("Column1", arr))]
    if arr.ndim == 2:
        return [(f"Column{j + 1}", _array_column(f"Column{j + 1}", arr[:, j])) for j in range(arr.shape[1])]
    raise RowRecordError(f"run() returned a {arr.ndim}-dimensional ndarray; a .h5 output stores 1-D (one column) or "
                         "2-D (columns Column1..N) arrays")


def rows_record(result, is_frame):
    """The record of run()'s result: b"" for no rows, else magic, u32 header length, header, column data."""
    rows = len(result)
    if rows == 0:
        return b""  # nothing to store, and no schema to check: an empty result has no types
    if is_frame:
        columns = _frame_columns(result)
    elif isinstance(result, (list, tuple)):
        columns = _list_columns(result)
    else:
        columns = _ndarray_columns(result)
    if not columns:
        raise RowRecordError(f"run() returned {rows} rows without columns; a .h5 output stores columns")
    header = [_struct.pack("<QI", rows, len(columns))]
    for name, (kind, size, max_length, data) in columns:
        if not name or "/" in name or name == ".":
            raise RowRecordError(f"column {name!r} cannot name an HDF5 dataset (empty, '.' or with '/'); rename it")
        encoded = name.encode("utf-8", "surrogateescape")
        header.append(_struct.pack("<I", len(encoded)) + encoded +
                      _struct.pack("<BBHQQ", ord(kind), size, 0, max_length, len(data)))
    head = b"".join(header)
    return _RECORD_MAGIC + _struct.pack("<I", len(head)) + head + b"".join(c[1][3] for c in columns)
)PY";
}

}  // namespace prs
