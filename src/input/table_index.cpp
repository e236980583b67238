// The index pass's scans of one cut and rank 0's folding of their results; see table_index.hpp.
#include "prs/input/table_index.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "prs/error.hpp"
#include "prs/input/partition_keys.hpp"

namespace prs {
namespace {

// The bytes of a cut and the offset of its first byte in the file.
struct CutBytes {
  std::string path;
  std::uint64_t offset = 0;
  std::string bytes;
};

CutBytes read_cut(const TablePlan& plan, std::uint64_t cut) {
  const TableCut& c = plan.batches.at(cut);
  const std::string& path = plan.files.at(c.file).path;
  CutBytes b{path, c.offset, read_file_range(path, c.offset, c.length)};
  if (b.bytes.size() != c.length)
    throw Error(path + ": byte " + std::to_string(c.offset + b.bytes.size()) +
                ": the file ends inside a planned range: it changed while the job was planned");
  return b;
}

void refuse_utf16(const TableReader& reader, const std::string& path) {
  if (reader.encoding == "utf16")
    throw Error(path + ": encoding utf16: partition_keys on columns and mini_batch_row_size read utf8 and one-byte "
                "encodings only; convert the file or cut it by mini_batch_size");
}

// Calls on(begin, end) for every record of the bytes: [begin, end) without its line ending; blank ones skipped.
// Delimited records end at a newline outside quotes; JSON lines at every newline.
template <typename On>
void each_record(const std::string& bytes, const TableReader& reader, On on) {
  const bool quotes = reader.format == TableFormat::delimited;
  const char delimiter = reader.delimiter;
  enum { start, plain, quoted, quote_in_quoted } state = start;
  std::size_t begin = 0;
  const auto end_record = [&](std::size_t end) {
    std::size_t stop = end;
    if (stop > begin && bytes[stop - 1] == '\r') --stop;
    if (stop > begin) on(begin, stop);
  };
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const char c = bytes[i];
    if (state == quoted) {
      if (c == '"') state = quote_in_quoted;
      continue;
    }
    if (c == '\n') {
      end_record(i);
      begin = i + 1;
      state = start;
    } else if (c == delimiter) {
      state = start;
    } else if (quotes && c == '"' && (state == start || state == quote_in_quoted)) {
      state = quoted;  // opens a field, or the second quote of "" inside one
    } else {
      state = plain;
    }
  }
  if (begin < bytes.size()) end_record(bytes.size());
}

// The top-level values of the wanted keys of one JSON object line, as text (see cut_keys).
class KeyValues : public nlohmann::json_sax<nlohmann::json> {
 public:
  explicit KeyValues(const std::vector<std::string>& keys) : values(keys.size()), seen(keys.size()), keys_(keys) {}
  bool null() override { return value(""); }
  bool boolean(bool v) override { return value(v ? "true" : "false"); }
  bool number_integer(number_integer_t v) override { return value(std::to_string(v)); }
  bool number_unsigned(number_unsigned_t v) override { return value(std::to_string(v)); }
  bool number_float(number_float_t, const string_t& raw) override { return value(raw); }  // as written
  bool string(string_t& v) override { return value(v); }
  bool binary(binary_t&) override { return value(""); }
  bool start_object(std::size_t) override { return open(); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override { return open(); }
  bool end_array() override { return close(); }
  bool key(string_t& k) override {
    if (depth_ == 1) current_ = std::find(keys_.begin(), keys_.end(), k) - keys_.begin();
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception& e) override {
    error = e.what();
    return false;
  }
  std::vector<std::string> values;
  std::vector<bool> seen;
  std::string error;   // the parser's message when the line is no JSON
  std::string nested;  // a key whose value is an object or a list
 private:
  bool value(const std::string& text) {
    if (depth_ == 1 && wanted()) {
      values[current_] = text;
      seen[current_] = true;
    }
    return true;
  }
  bool wanted() const { return current_ < static_cast<std::ptrdiff_t>(keys_.size()); }
  bool open() {
    if (depth_ == 1 && wanted()) nested = keys_[static_cast<std::size_t>(current_)];
    ++depth_;
    return true;
  }
  bool close() {
    --depth_;
    return true;
  }
  const std::vector<std::string>& keys_;
  int depth_ = 0;
  std::ptrdiff_t current_ = -1;
};

void add_json_keys(const CutBytes& b, std::size_t begin, std::size_t end, const TableReader& reader,
                   const IndexQuery& query, std::set<std::vector<std::string>>& tuples, CutKeys& out) {
  KeyValues sax(query.keys);
  const std::string line = b.bytes.substr(begin, end - begin);
  if (line.find_first_not_of(" \t\r") == std::string::npos) return;  // blank: no record
  const bool ok = nlohmann::json::sax_parse(line, &sax);
  const std::string at = b.path + ": byte " + std::to_string(b.offset + begin) + ": ";
  if (!ok) {
    if (reader.drop_invalid_lines) return;
    throw Error(at + "invalid JSON line (" + sax.error + "); invalid_lines: drop skips such lines");
  }
  if (!sax.nested.empty())
    throw Error(at + "partition_keys: " + sax.nested +
                " holds an object or a list; a key must hold a string, a number, a boolean or null");
  for (std::size_t k = 0; k < sax.seen.size(); ++k) out.seen[k] = out.seen[k] || sax.seen[k];
  tuples.insert(sax.values);
}

}  // namespace

std::vector<std::string> split_record(const std::string& record, char delimiter) {
  std::vector<std::string> fields(1);
  enum { start, plain, quoted, quote_in_quoted } state = start;
  std::size_t n = record.size();
  if (n > 0 && record[n - 1] == '\n') --n;
  if (n > 0 && record[n - 1] == '\r') --n;
  for (std::size_t i = 0; i < n; ++i) {
    const char c = record[i];
    if (state == quoted) {
      if (c == '"') state = quote_in_quoted;
      else fields.back() += c;
    } else if (c == delimiter) {
      fields.emplace_back();
      state = start;
    } else if (state == quote_in_quoted) {
      if (c == '"') fields.back() += '"';  // "" inside quotes: one quote
      state = c == '"' ? quoted : plain;
      if (c != '"') fields.back() += c;    // text after a closing quote joins the field, as pandas reads it
    } else if (state == start && c == '"') {
      state = quoted;
    } else {
      fields.back() += c;
      state = plain;
    }
  }
  return fields;
}

CutKeys cut_keys(const TablePlan& plan, const TableReader& reader, const IndexQuery& query, std::uint64_t cut) {
  const CutBytes b = read_cut(plan, cut);
  refuse_utf16(reader, b.path);
  CutKeys out;
  out.seen.assign(query.keys.size(), false);
  std::set<std::vector<std::string>> tuples;
  const std::vector<std::int64_t>* columns =
      reader.format == TableFormat::delimited ? &query.columns.at(plan.batches.at(cut).file) : nullptr;
  each_record(b.bytes, reader, [&](std::size_t begin, std::size_t end) {
    if (columns == nullptr) return add_json_keys(b, begin, end, reader, query, tuples, out);
    const std::vector<std::string> fields = split_record(b.bytes.substr(begin, end - begin), reader.delimiter);
    std::vector<std::string> values;
    for (std::int64_t c : *columns)
      values.push_back(static_cast<std::size_t>(c) < fields.size() ? fields[static_cast<std::size_t>(c)] : "");
    tuples.insert(std::move(values));
  });
  out.tuples.assign(tuples.begin(), tuples.end());
  return out;
}

std::uint64_t cut_record_count(const TablePlan& plan, const TableReader& reader, std::uint64_t cut) {
  const CutBytes b = read_cut(plan, cut);
  refuse_utf16(reader, b.path);
  std::uint64_t n = 0;
  each_record(b.bytes, reader, [&n](std::size_t, std::size_t) { ++n; });
  return n;
}

std::vector<std::uint64_t> cut_row_starts(const TablePlan& plan, const TableReader& reader, std::uint64_t cut,
                                          std::uint64_t first, std::uint64_t row_size) {
  const CutBytes b = read_cut(plan, cut);
  std::vector<std::uint64_t> starts;
  std::uint64_t number = first;
  each_record(b.bytes, reader, [&](std::size_t begin, std::size_t) {
    if (number > 0 && number % row_size == 0) starts.push_back(b.offset + begin);
    ++number;
  });
  return starts;
}

namespace {

// The names of a file's columns: its header record split, or none (no header: Column1..N).
std::vector<std::string> column_names(const TablePlan& plan, const TableReader& reader, std::uint32_t file) {
  const int header = plan.header_file(file, reader.header);
  if (header < 0) return {};
  const TableFile& h = plan.files[static_cast<std::size_t>(header)];
  return split_record(read_file_range(h.path, h.header_offset, h.header_length), reader.delimiter);
}

std::int64_t column_position(const std::vector<std::string>& names, const std::string& key) {
  if (names.empty()) {  // Column1..N
    if (key.size() < 7 || key.compare(0, 6, "Column") != 0 || key[6] == '0') return -1;
    if (key.find_first_not_of("0123456789", 6) != std::string::npos || key.size() > 15) return -1;
    return std::stoll(key.substr(6)) - 1;
  }
  const auto at = std::find(names.begin(), names.end(), key);
  return at == names.end() ? -1 : at - names.begin();
}

}  // namespace

IndexQuery key_query(const MLTable& table, const TablePlan& plan, const std::vector<std::string>& keys,
                     const std::string& location) {
  IndexQuery q;
  q.keys = keys;
  if (table.reader.format != TableFormat::delimited) return q;
  for (std::uint32_t f = 0; f < plan.files.size(); ++f) {
    refuse_utf16(table.reader, plan.files[f].path);
    const std::vector<std::string> names = column_names(plan, table.reader, f);
    std::vector<std::int64_t> positions;
    for (const std::string& key : keys) {
      const std::int64_t at = column_position(names, key);
      if (at < 0) {
        std::string shown;
        for (const std::string& n : names) shown += (shown.empty() ? "" : ", ") + n;
        throw Error(location + ": " + key + " is not a column of " + plan.files[f].path + " (columns: " +
                    (names.empty() ? "Column1, Column2, ... (no header)" : shown) +
                    ") nor a folder " + key + "=VALUE in its path");
      }
      positions.push_back(at);
    }
    q.columns.push_back(std::move(positions));
  }
  return q;
}

void group_by_keys(TablePlan& plan, const std::vector<std::string>& keys, const std::vector<CutKeys>& per_cut,
                   const std::string& location) {
  std::vector<bool> seen(keys.size(), false);
  KeyGrouper grouper;
  for (std::uint64_t cut = 0; cut < per_cut.size(); ++cut) {
    for (const auto& tuple : per_cut[cut].tuples) grouper.add(tuple, cut);
    for (std::size_t k = 0; k < per_cut[cut].seen.size(); ++k) seen[k] = seen[k] || per_cut[cut].seen[k];
  }
  for (std::size_t k = 0; k < keys.size() && !per_cut.empty() && !per_cut[0].seen.empty(); ++k)
    if (!seen[k]) throw Error(location + ": " + keys[k] + " is a key of no JSON line of the table");
  KeyGroups groups = grouper.take();
  plan.key_mode = KeyMode::columns;
  plan.key_names = keys;
  plan.group_values = std::move(groups.values);
  plan.group_starts = std::move(groups.starts);
  plan.group_cuts = std::move(groups.items);
}

void group_by_folders(TablePlan& plan, const std::vector<std::string>& keys, const std::string& location) {
  KeyGrouper grouper;
  for (std::uint64_t cut = 0; cut < plan.batches.size(); ++cut)
    grouper.add(hive_values(plan.files[plan.batches[cut].file].path, keys, location), cut);
  KeyGroups groups = grouper.take();
  plan.key_mode = KeyMode::folders;
  plan.key_names = keys;
  plan.group_values = std::move(groups.values);
  plan.group_starts = std::move(groups.starts);
  plan.group_cuts = std::move(groups.items);
}

void cut_by_rows(TablePlan& plan, const std::vector<std::vector<std::uint64_t>>& starts) {
  std::vector<TableCut> cuts;
  for (std::uint64_t c = 0; c < plan.batches.size(); ++c) {
    const TableCut& old = plan.batches[c];
    const bool file_start = c == 0 || plan.batches[c - 1].file != old.file;
    if (file_start) cuts.push_back({old.file, old.offset, 0});
    for (std::uint64_t s : starts.at(c)) cuts.push_back({old.file, s, 0});
  }
  for (std::size_t i = 0; i < cuts.size(); ++i) {
    const bool last_of_file = i + 1 == cuts.size() || cuts[i + 1].file != cuts[i].file;
    const std::uint64_t end = last_of_file ? plan.files[cuts[i].file].size : cuts[i + 1].offset;
    cuts[i].length = end - cuts[i].offset;
  }
  plan.batches = std::move(cuts);
}

}  // namespace prs
