// Cutting table files into byte ranges of whole records; see table_plan.hpp.
#include "prs/input/table_plan.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <functional>

#include "prs/error.hpp"

namespace prs {
namespace {

// Reads bytes at an offset; returns how many (fewer only at the end).
using ReadAt = std::function<std::size_t(std::uint64_t offset, char* buffer, std::size_t n)>;

// A forward reader of code units (1 byte, or 2 for utf16) from a position, in chunks.
class Units {
 public:
  Units(const ReadAt& read, std::uint64_t size, int width, bool big_endian, std::uint64_t pos, std::size_t chunk)
      : read_(read), size_(size), width_(width), big_(big_endian), pos_(pos), chunk_(chunk, '\0') {}
  // The next unit and its position after it; false at the end (a trailing odd byte ends it too).
  bool next(unsigned& unit) {
    if (pos_ + static_cast<std::uint64_t>(width_) > size_) return false;
    if (at_ + width_ > got_) refill();
    const auto* b = reinterpret_cast<const unsigned char*>(chunk_.data() + at_);
    unit = width_ == 1 ? b[0] : big_ ? (b[0] << 8u) | b[1] : (b[1] << 8u) | b[0];
    at_ += width_;
    pos_ += static_cast<std::uint64_t>(width_);
    return true;
  }
  std::uint64_t pos() const { return pos_; }

 private:
  void refill() {
    std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(chunk_.size(), size_ - pos_));
    got_ = read_(pos_, chunk_.data(), want);
    at_ = 0;
    if (got_ < static_cast<std::size_t>(width_)) throw Error("a table file shrank while it was planned");
    got_ -= got_ % static_cast<std::size_t>(width_);
  }
  const ReadAt& read_;
  std::uint64_t size_;
  int width_;
  bool big_;
  std::uint64_t pos_;
  std::string chunk_;
  std::size_t got_ = 0, at_ = 0;
};

// The layout of one file's bytes and the way to read its units.
struct Scan {
  const ReadAt& read;
  std::uint64_t size;
  const TableReader& reader;
  int width = 1;
  bool big_endian = false;
  std::uint64_t bom = 0;

  // Reads of 4 KiB find a newline near a cut; a full pass reads 1 MiB at a time.
  Units units(std::uint64_t pos, std::size_t chunk = 4096) const {
    return Units(read, size, width, big_endian, pos, chunk);
  }

  // The byte-order mark: utf16 (either order) and utf8's, for the utf8 encodings.
  void detect_bom() {
    unsigned char head[3] = {0, 0, 0};
    std::size_t n = size > 0 ? read(0, reinterpret_cast<char*>(head), std::min<std::uint64_t>(3, size)) : 0;
    if (reader.encoding == "utf16") {
      width = 2;
      if (n >= 2 && head[0] == 0xFE && head[1] == 0xFF) big_endian = true, bom = 2;
      if (n >= 2 && head[0] == 0xFF && head[1] == 0xFE) bom = 2;
    } else if ((reader.encoding == "utf8" || reader.encoding == "utf8bom") && n == 3 && head[0] == 0xEF &&
               head[1] == 0xBB && head[2] == 0xBF) {
      bom = 3;
    }
  }

  // The start of the record after the one holding pos - 1 (the next newline), or size: a few small reads.
  std::uint64_t next_line_start(std::uint64_t pos) const {
    const auto w = static_cast<std::uint64_t>(width);
    pos += (w - (pos - bom) % w) % w;  // the next unit boundary
    Units u = units(pos - w);
    for (unsigned unit; u.next(unit);)
      if (unit == '\n') return u.pos();
    return size;
  }

  // The end of the record starting at pos (after its newline), with quotes when support_multi_line.
  std::uint64_t record_end(std::uint64_t pos) const {
    if (!reader.support_multi_line) return next_line_start(pos + static_cast<std::uint64_t>(width));
    Units u = units(pos);
    Quotes q(reader.delimiter);
    for (unsigned unit; u.next(unit);)
      if (q.ends_record(unit)) return u.pos();
    return size;
  }

  // A CSV field state machine as pandas' C tokenizer reads it: a quote opens a quoted field only at a field's
  // start, "" inside one is a literal quote, and a newline ends the record only outside quotes.
  struct Quotes {
    explicit Quotes(char delimiter) : delimiter(static_cast<unsigned char>(delimiter)) {}
    unsigned delimiter;
    enum { field_start, in_field, quoted, quote_in_quoted } state = field_start;
    bool ends_record(unsigned unit) {
      switch (state) {
        case quoted:
          if (unit == '"') state = quote_in_quoted;
          return false;
        case quote_in_quoted:
          if (unit == '"') {
            state = quoted;
            return false;
          }
          [[fallthrough]];
        case field_start:
          if (state == field_start && unit == '"') {
            state = quoted;
            return false;
          }
          [[fallthrough]];
        case in_field:
          if (unit == '\n') {
            state = field_start;
            return true;
          }
          state = unit == delimiter ? field_start : in_field;
          return false;
      }
      return false;
    }
  };

  // Whether the record [begin, end) is blank: empty or a lone carriage return (pandas skips those lines).
  bool blank(std::uint64_t begin, std::uint64_t end) const {
    Units u = units(begin);
    for (unsigned unit; u.pos() < end && u.next(unit);)
      if (unit != '\n' && unit != '\r') return false;
    return true;
  }
};

// Where the header record lies (the first record that is not blank) and where the data starts.
void find_header(const Scan& s, bool has_header, TableFile& f) {
  f.header_offset = f.data_start = s.bom;
  if (!has_header) return;
  std::uint64_t begin = s.bom;
  while (begin < s.size) {
    std::uint64_t end = s.record_end(begin);
    if (!s.blank(begin, end)) {
      f.header_offset = begin;
      f.header_length = end - begin;
      f.data_start = end;
      return;
    }
    begin = end;
  }
  f.header_offset = f.data_start = s.size;
}

// The first multiple of batch_bytes past start that lies beyond pos: where the cut after pos is looked for.
std::uint64_t next_target(std::uint64_t start, std::uint64_t pos, std::uint64_t batch_bytes, std::uint64_t size) {
  const std::uint64_t k = (pos - start) / batch_bytes + 1;
  if (k > (size - start) / batch_bytes) return size;  // also guards k * batch_bytes against overflow
  return start + k * batch_bytes;
}

// Cuts near start + k * batch_bytes, each moved to the next line start: a few small reads per cut. A record longer
// than batch_bytes spans several multiples and is one mini-batch.
void cut_by_lines(const Scan& s, std::uint32_t file, std::uint64_t start, std::uint64_t batch_bytes,
                  std::vector<TableCut>& out) {
  for (std::uint64_t pos = start; pos < s.size;) {
    const std::uint64_t target = next_target(start, pos, batch_bytes, s.size);
    const std::uint64_t next = target >= s.size ? s.size : s.next_line_start(target);
    out.push_back({file, pos, next - pos});
    pos = next;
  }
}

// support_multi_line: one pass with the quote state, cutting at the first record end at or past each multiple.
void cut_by_records(const Scan& s, std::uint32_t file, std::uint64_t start, std::uint64_t batch_bytes,
                    std::vector<TableCut>& out) {
  Units u = s.units(start, 1 << 20);
  Scan::Quotes q(s.reader.delimiter);
  std::uint64_t pos = start;
  std::uint64_t target = next_target(start, pos, batch_bytes, s.size);
  for (unsigned unit; u.next(unit);) {
    if (!q.ends_record(unit) || u.pos() < target) continue;
    out.push_back({file, pos, u.pos() - pos});
    pos = u.pos();
    target = next_target(start, pos, batch_bytes, s.size);
  }
  if (pos < s.size) out.push_back({file, pos, s.size - pos});
}

std::vector<TableCut> plan_one(const ReadAt& read, std::uint64_t size, const TableReader& reader, bool has_header,
                               std::uint64_t batch_bytes, std::uint32_t file, TableFile& layout) {
  Scan s{read, size, reader};
  s.detect_bom();
  layout.size = size;
  find_header(s, has_header && reader.format == TableFormat::delimited, layout);
  std::vector<TableCut> cuts;
  if (reader.support_multi_line && reader.format == TableFormat::delimited)
    cut_by_records(s, file, layout.data_start, batch_bytes, cuts);
  else
    cut_by_lines(s, file, layout.data_start, batch_bytes, cuts);
  return cuts;
}

// A file opened for pread, closed by its destructor.
struct OpenFile {
  explicit OpenFile(const std::string& path) : path(path), fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd < 0) throw Error(path + ": cannot be read: " + std::strerror(errno));
  }
  ~OpenFile() { ::close(fd); }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  std::uint64_t size() const {
    struct stat st {};
    if (::fstat(fd, &st) != 0) throw Error(path + ": cannot be read: " + std::strerror(errno));
    return static_cast<std::uint64_t>(st.st_size);
  }
  std::size_t read(std::uint64_t offset, char* buffer, std::size_t n) const {
    std::size_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(fd, buffer + got, n - got, static_cast<off_t>(offset + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) throw Error(path + ": cannot be read: " + std::strerror(errno));
      if (r == 0) break;
      got += static_cast<std::size_t>(r);
    }
    return got;
  }
  std::string path;
  int fd;
};

bool file_has_header(HeaderMode mode, std::uint32_t file) {
  if (mode == HeaderMode::no_header) return false;
  return mode != HeaderMode::from_first_file || file == 0;
}

// The header record's text without its line ending, to compare files' headers.
std::string header_text(const OpenFile& in, const TableFile& f) {
  std::string text(static_cast<std::size_t>(f.header_length), '\0');
  text.resize(in.read(f.header_offset, text.data(), text.size()));
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == '\0')) text.pop_back();
  return text;
}

}  // namespace

std::uint64_t table_batch_bytes(const JobConfig& config) {
  return config.mini_batch_bytes > 0 ? config.mini_batch_bytes : std::uint64_t{1} << 20;
}

int TablePlan::header_file(std::uint32_t file, HeaderMode mode) const {
  if (mode == HeaderMode::no_header) return -1;
  if (mode == HeaderMode::from_first_file) return files.empty() || files[0].header_length == 0 ? -1 : 0;
  return files[file].header_length == 0 ? -1 : static_cast<int>(file);
}

std::uint64_t TablePlan::batch_count() const {
  return key_mode == KeyMode::none ? batches.size() : group_values.size();
}

std::vector<std::uint64_t> TablePlan::batch_cuts(std::uint64_t b) const {
  if (key_mode == KeyMode::none) return {b};
  return std::vector<std::uint64_t>(group_cuts.begin() + static_cast<std::ptrdiff_t>(group_starts.at(b)),
                                    group_cuts.begin() + static_cast<std::ptrdiff_t>(group_starts.at(b + 1)));
}

std::string read_file_range(const std::string& path, std::uint64_t offset, std::uint64_t length) {
  OpenFile in(path);
  std::string bytes(static_cast<std::size_t>(length), '\0');
  bytes.resize(in.read(offset, bytes.data(), bytes.size()));
  return bytes;
}

TablePlan plan_table(const MLTable& table, std::uint64_t batch_bytes) {
  if (batch_bytes == 0) throw Error("mini_batch_size: must be at least 1 byte, got 0");
  TablePlan plan;
  std::string first_header;
  for (std::uint32_t i = 0; i < table.files.size(); ++i) {
    OpenFile in{std::string(table.files.at(i))};
    TableFile f;
    f.path = in.path;
    const ReadAt read = [&in](std::uint64_t offset, char* buffer, std::size_t n) { return in.read(offset, buffer, n); };
    try {
      std::vector<TableCut> cuts =
          plan_one(read, in.size(), table.reader, file_has_header(table.reader.header, i), batch_bytes, i, f);
      plan.batches.insert(plan.batches.end(), cuts.begin(), cuts.end());
    } catch (const Error& e) {
      throw Error(f.path + ": " + e.what());
    }
    if (table.reader.format == TableFormat::delimited && table.reader.header == HeaderMode::all_files_same_headers &&
        f.header_length > 0) {
      const std::string header = header_text(in, f);
      if (first_header.empty()) first_header = header;
      else if (header != first_header)
        throw Error(table.file + ": header: all_files_same_headers, but the header of " + f.path +
                    " differs from the first file's (" + plan.files[0].path +
                    "); use header: all_files_different_headers");
    }
    plan.files.push_back(std::move(f));
  }
  return plan;
}

std::vector<TableCut> plan_bytes(const std::string& bytes, const TableReader& reader, bool has_header,
                                 std::uint64_t batch_bytes, TableFile* layout) {
  const ReadAt read = [&bytes](std::uint64_t offset, char* buffer, std::size_t n) {
    if (offset >= bytes.size()) return std::size_t{0};
    n = std::min<std::size_t>(n, bytes.size() - static_cast<std::size_t>(offset));
    std::memcpy(buffer, bytes.data() + offset, n);
    return n;
  };
  TableFile f;
  std::vector<TableCut> cuts = plan_one(read, bytes.size(), reader, has_header, batch_bytes, 0, f);
  if (layout != nullptr) *layout = f;
  return cuts;
}

}  // namespace prs
