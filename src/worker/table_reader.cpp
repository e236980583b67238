// The worker's table reader: its own byte range, decoded and parsed by pandas as a serial read of the file would be.
#include "table_reader.hpp"

namespace prs {

// Why in Python: the DataFrame must be what pandas.read_csv / read_json would make of these rows (names, dtypes,
// NaN rules), so pandas parses; the C++ side only hands over (path, offset, length) and the header's place.
// A bad record is a TableError whose text names the file and the byte offset: a failed attempt, never a crash.
const char* table_reader_source() {
  return R"PY(
import io as _io, json as _json, os as _os, re as _re


class TableError(Exception):
    pass


_CODECS = {"utf8": "utf-8", "utf8bom": "utf-8", "ascii": "ascii", "latin1": "latin-1", "windows1252": "cp1252"}


def _codec(reader, path):
    if reader["encoding"] != "utf16":
        return _CODECS[reader["encoding"]]
    with open(path, "rb") as f:
        return "utf-16-be" if f.read(2) == b"\xfe\xff" else "utf-16-le"


def _read(path, offset, length):
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    if len(data) != length:
        raise TableError(f"{path}: byte {offset + len(data)}: the file ends inside the planned range "
                         f"(bytes {offset}..{offset + length}): it changed since the job was planned")
    return data


def _decode(data, codec, reader, path, offset):
    try:
        return data.decode(codec)
    except UnicodeDecodeError as e:
        raise TableError(f"{path}: byte {offset + e.start}: cannot be decoded as {reader['encoding']}: "
                         f"{e.reason}") from None


def _byte_of_line(text, line, codec, offset):
    # The byte where the line-th (1-based) line of text starts.
    pos = 0
    for _ in range(max(line - 1, 0)):
        nl = text.find("\n", pos)
        if nl < 0:
            break
        pos = nl + 1
    return offset + len(text[:pos].encode(codec))


_header_names = {}  # (path, offset, length, delimiter, encoding, mtime, size) -> the header's column names


def _names(reader, header_path, header_offset, header_length):
    """The header record's column names, parsed once per header (every mini-batch of a file has the same one; a
    file changed since is parsed again: its modification time and size are in the key)."""
    if not header_path:
        return None
    try:
        st = _os.stat(header_path)
    except OSError:
        return _parse_names(reader, header_path, header_offset, header_length)  # its read says what is wrong
    key = (header_path, header_offset, header_length, reader["delimiter"], reader["encoding"], st.st_mtime_ns,
           st.st_size)
    names = _header_names.get(key)
    if names is None:
        if len(_header_names) >= 256:
            _header_names.clear()
        names = _header_names[key] = _parse_names(reader, header_path, header_offset, header_length)
    return list(names)


def _parse_names(reader, header_path, header_offset, header_length):
    import pandas
    text = _decode(_read(header_path, header_offset, header_length), _codec(reader, header_path), reader,
                   header_path, header_offset)
    try:
        return list(pandas.read_csv(_io.StringIO(text), sep=reader["delimiter"], header=0, nrows=0).columns)
    except Exception as e:
        raise TableError(f"{header_path}: byte {header_offset}: the header record cannot be read: {e}") from None


def _dtype(reader, names, path):
    # dtype by column name, given to read_csv by position (the record is read without its header).
    columns = names if names is not None else None
    by_position = {}
    for column, type_name in reader["dtype"].items():
        if columns is None:
            match = _re.fullmatch(r"Column([1-9][0-9]*)", column)
            position = int(match.group(1)) - 1 if match else -1
        else:
            position = columns.index(column) if column in columns else -1
        if position < 0:
            known = ", ".join(map(str, columns)) if columns is not None else "Column1, Column2, ..."
            raise TableError(f"{path}: read_delimited.dtype: {column} is not a column of this file "
                             f"(columns: {known})")
        by_position[position] = type_name
    return by_position


def _csv_options(reader, names=None, path=""):
    options = {"sep": reader["delimiter"], "header": None, "index_col": False}
    if not reader["infer_column_types"]:
        options["dtype"] = str
    elif reader["dtype"]:
        options["dtype"] = _dtype(reader, names, path)
    if reader["empty_as_string"]:
        import pandas._libs.parsers as parsers
        options["keep_default_na"] = False
        options["na_values"] = sorted(v for v in parsers.STR_NA_VALUES if v != "")
    return options


_RAW = {"dtype": str, "na_filter": False, "keep_default_na": False}


def _read_delimited(reader, text, names, path, offset, codec, raw=False):
    # raw: every field as its text ("" when empty), to compare key columns with the values the index found.
    import pandas
    options = _csv_options(reader, names, path)
    if raw:
        options = {"sep": reader["delimiter"], "header": None, "index_col": False, **_RAW}
    try:
        frame = pandas.read_csv(_io.StringIO(text), **options)
    except pandas.errors.EmptyDataError:
        frame = pandas.DataFrame()
    except pandas.errors.ParserError as e:
        line = _re.search(r"line (\d+)", str(e))
        at = _byte_of_line(text, int(line.group(1)), codec, offset) if line else offset
        raise TableError(f"{path}: byte {at}: bad record: {str(e).replace('Error tokenizing data. C error: ', '')}")
    if names is None:
        frame.columns = [f"Column{i + 1}" for i in range(frame.shape[1])]
        return frame
    if frame.shape[1] > len(names):
        raise TableError(f"{path}: byte {offset}: bad record: {frame.shape[1]} fields, the header has {len(names)}")
    if frame.shape[1] < len(names):
        frame = frame.reindex(columns=range(len(names)))
    frame.columns = names
    return frame


def _read_json_lines(reader, text, path, offset, codec):
    import pandas
    kept, char = [], 0
    for line in text.split("\n"):
        record = line.strip()
        if record:
            try:
                _json.loads(record)
                kept.append(record)
            except ValueError as e:
                if not reader["drop_invalid_lines"]:
                    at = offset + len(text[:char].encode(codec))
                    raise TableError(f"{path}: byte {at}: invalid JSON line ({e}); "
                                     "invalid_lines: drop skips such lines") from None
        char += len(line) + 1
    if not kept:
        return pandas.DataFrame()
    try:
        return pandas.read_json(_io.StringIO("\n".join(kept)), lines=True)
    except ValueError as e:
        raise TableError(f"{path}: bytes {offset}..{offset + len(text.encode(codec))}: "
                         f"the JSON lines do not make a table: {e}") from None


def read_table(reader, path, offset, length, header_path, header_offset, header_length):
    codec = _codec(reader, path)
    text = _decode(_read(path, offset, length), codec, reader, path, offset)
    if reader["format"] == "json_lines":
        frame = _read_json_lines(reader, text, path, offset, codec)
    else:
        names = _names(reader, header_path, header_offset, header_length)
        frame = _read_delimited(reader, text, names, path, offset, codec)
    if reader["include_path_column"]:
        frame["Path"] = path
    return frame


def _json_key(value):
    # A JSON value as the index pass (C++) writes a key: strings as they are, numbers as written, true/false, and
    # "" for null or a missing key.
    if value is None:
        return ""
    if value is True or value is False:
        return "true" if value else "false"
    return str(value)


def _kept_json_lines(reader, text, keys, path, offset, codec):
    # The lines of text whose keys hold the mini-batch's values (what read_json_lines then reads).
    kept = []
    for line in text.split("\n"):
        record = line.strip()
        if not record:
            continue
        try:
            fields = _json.loads(record, parse_float=str)
        except ValueError:
            kept.append(line)  # _read_json_lines reports it, or drops it with invalid_lines: drop
            continue
        if not isinstance(fields, dict):
            fields = {}  # a line that is no object has no keys: "" each, as the index pass counts it
        if all(_json_key(fields.get(k)) == v for k, v in keys):
            kept.append(line)
    return "\n".join(kept)


def _read_kept_rows(reader, path, offset, length, header, keys):
    # keep_rows: the range's rows whose key columns hold the values, typed as pandas types those rows alone.
    import pandas
    codec = _codec(reader, path)
    text = _decode(_read(path, offset, length), codec, reader, path, offset)
    wanted = [(k.decode(codec), v.decode(codec)) for k, v in keys]
    if reader["format"] == "json_lines":
        frame = _read_json_lines(reader, _kept_json_lines(reader, text, wanted, path, offset, codec), path, offset,
                                 codec)
    else:
        names = _names(reader, *header)
        rows = _read_delimited(reader, text, names, path, offset, codec, raw=True)
        mask = pandas.Series(True, index=rows.index)
        for k, v in wanted:
            if k not in rows.columns:
                raise TableError(f"{path}: partition_keys: {k} is not a column of this file")
            mask &= rows[k].fillna("") == v
        kept = rows[mask].to_csv(sep=reader["delimiter"], header=False, index=False)
        frame = _read_delimited(reader, kept, names, path, offset, codec) if len(kept) else _empty(names)
    if reader["include_path_column"]:
        frame["Path"] = path
    return frame


def _empty(names):
    import pandas
    return pandas.DataFrame(columns=names) if names is not None else pandas.DataFrame()


def read_batch(reader, ranges, key_use, keys):
    """The DataFrame of a tabular mini-batch: its ranges read in order, then its keys added or its rows kept."""
    import pandas
    if key_use == "keep_rows":
        frames = [_read_kept_rows(reader, r[0], r[1], r[2], r[3:], keys) for r in ranges]
    else:
        frames = [read_table(reader, *r) for r in ranges]
    frames = [f for f in frames if len(f.columns)] or frames[:1]
    frame = (pandas.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]) if frames \
        else pandas.DataFrame()
    if key_use == "add_columns":
        import os as _os
        for k, v in keys:
            frame[_os.fsdecode(k)] = _os.fsdecode(v)
    return frame


def run_table(run, reader, ranges, key_use, keys, timeout, format_rows, want_header):
    """One attempt on a tabular mini-batch: run_batch's tuple plus the rows parsed (-1: a range did not parse)."""
    try:
        frame = read_batch(reader, ranges, key_use, keys)
    except TableError as e:
        return False, False, 0, b"", b"", str(e) + "\n", -1
    except Exception as e:  # anything pandas raised that we did not foresee: still only this attempt fails
        where = "; ".join(f"{r[0]}: bytes {r[1]}..{r[1] + r[2]}" for r in ranges)
        return False, False, 0, b"", b"", f"{where}: {type(e).__name__}: {e}\n", -1
    return run_batch(run, frame, timeout, format_rows, want_header) + (len(frame),)


def _column(dtype, data, ends):
    import numpy
    if dtype != "str" and dtype[0] != "S":
        return numpy.frombuffer(data, dtype=numpy.bool_ if dtype == "bool" else dtype)
    # ASCII bytes (the common case) are decoded in one go: 2-4x faster than value by value, the same str values.
    ascii = len(data) == 0 or int(numpy.frombuffer(data, dtype=numpy.uint8).max()) < 128
    if dtype == "str":
        raw = bytes(data)
        stops = numpy.frombuffer(ends, dtype=numpy.uint64).tolist()
        values = numpy.empty(len(stops), dtype=object)
        if ascii:
            text = raw.decode("ascii")
            values[:] = [text[a:b] for a, b in zip([0] + stops[:-1], stops)]
        else:
            values[:] = [raw[a:b].decode("utf-8", "surrogateescape") for a, b in zip([0] + stops[:-1], stops)]
        return values
    fixed = numpy.frombuffer(data, dtype=dtype)  # "S<n>"
    if ascii:
        return fixed.astype("U" + dtype[1:]).astype(object)  # numpy's own ASCII decode; NUL padding dropped
    return numpy.char.decode(fixed, "utf-8", "surrogateescape").astype(object)


def hdf5_frame(columns):
    """The DataFrame of a read_hdf5 mini-batch: numpy views of the rank's bytes, copied once by pandas."""
    import pandas
    views = [view for _, _, data, ends in columns for view in (data, ends)]
    try:
        frame = pandas.DataFrame({name: _column(dtype, data, ends) for name, dtype, data, ends in columns}, copy=True)
    finally:
        columns.clear()
    for view in views:
        view.release()  # raises if anything still points into the frame's bytes, which are freed after this call
    return frame


def run_rows(run, columns, path, first, count, timeout, format_rows, want_header):
    """One attempt on a read_hdf5 mini-batch: run_batch's tuple plus the rows (-1: no DataFrame was made)."""
    try:
        frame = hdf5_frame(columns)
    except Exception as e:
        return False, False, 0, b"", b"", f"{path}: rows {first}..{first + count}: {type(e).__name__}: {e}\n", -1
    return run_batch(run, frame, timeout, format_rows, want_header) + (len(frame),)
)PY";
}

}  // namespace prs
