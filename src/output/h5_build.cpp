#include "prs/output/h5_build.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>

#include "prs/error.hpp"
#include "prs/mpi/mpi_comm.hpp"
#include "prs/output/h5_file.hpp"

namespace prs {

namespace {

// A file open for pread, closed by the destructor.
class ReadFile {
 public:
  explicit ReadFile(const std::string& path) : path_(path), fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {
    if (fd_ < 0) throw Error(path + ": cannot open the staging file of the .h5 output: " + std::strerror(errno));
  }
  ReadFile(const ReadFile&) = delete;
  ReadFile& operator=(const ReadFile&) = delete;
  ~ReadFile() { ::close(fd_); }
  // Exactly n bytes at offset.
  std::string read(std::uint64_t offset, std::uint64_t n) const {
    std::string out(n, '\0');
    for (std::uint64_t done = 0; done < n;) {
      ssize_t got = ::pread(fd_, out.data() + done, n - done, static_cast<off_t>(offset + done));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0)
        throw Error(path_ + ": cannot read " + std::to_string(n) + " bytes at offset " + std::to_string(offset) + ": " +
                    (got < 0 ? std::strerror(errno) : "the file ends before"));
      done += static_cast<std::uint64_t>(got);
    }
    return out;
  }

 private:
  std::string path_;
  int fd_;
};

std::string where_of(const std::string& staging, const StagedRecord& r) {
  return staging + ": mini-batch " + std::to_string(r.batch) + " at offset " + std::to_string(r.offset);
}

// Rank 0: the records' headers, then the layout. Throws prs::Error.
H5Layout read_layout(const std::string& h5_file, const std::string& staging, const std::vector<StagedRecord>& records,
                     int ranks) {
  std::vector<RowRecord> headers;
  if (!records.empty()) {
    ReadFile file(staging);
    for (const StagedRecord& r : records) {
      const std::string where = where_of(staging, r);
      if (r.length < kRowRecordPrefix) throw Error(where + ": the row record is damaged: it is too short");
      const std::uint32_t n = row_record_header_length(file.read(r.offset, kRowRecordPrefix), where);
      if (n > r.length - kRowRecordPrefix) throw Error(where + ": the row record is damaged: its header runs past it");
      headers.push_back(parse_row_record_header(file.read(r.offset, kRowRecordPrefix + n), r.length, where));
    }
  }
  return lay_out_h5(records, headers, ranks, h5_file);
}

// This rank's records, column by column, into the open file. Throws.
void write_slice(H5RowsFile& file, const H5Layout& layout, const std::string& staging, int rank) {
  const std::size_t first = layout.rank_first[static_cast<std::size_t>(rank)];
  const std::size_t end = layout.rank_first[static_cast<std::size_t>(rank) + 1];
  if (first == end) return;
  ReadFile in(staging);
  for (std::size_t i = first; i < end; ++i) {
    const StagedRecord& s = layout.records[i];
    const std::string bytes = in.read(s.offset, s.length);
    const RowRecord record = parse_row_record(bytes, where_of(staging, s));
    for (std::size_t c = 0; c < layout.columns.size(); ++c) {
      const ColumnSpec& column = layout.columns[c];
      if (column.kind == ColumnKind::text || column.kind == ColumnKind::bytes) {
        const std::string fixed = fixed_width_strings(record.data[c], record.rows, h5_string_width(column));
        file.write(c, layout.first_row[i], record.rows, fixed.data());
      } else {
        file.write(c, layout.first_row[i], record.rows, record.data[c].data());
      }
    }
  }
}

// Rank 0's layout (or its error) on every rank.
H5Layout shared_layout(const std::string& h5_file, const std::string& staging, const std::vector<StagedRecord>& records,
                       std::string& error) {
  const int rank = world_rank(), ranks = world_size();
  std::string message;
  if (rank == 0) {
    try {
      message = "L" + encode_h5_layout(read_layout(h5_file, staging, records, ranks));
    } catch (const std::exception& e) {
      message = "E" + std::string(e.what());
    }
  }
  message = broadcast_string(message);
  if (message[0] == 'E') {
    error = message.substr(1);
    return {};
  }
  return decode_h5_layout(message.substr(1));
}

// Every rank loaded the module, or the reason (the same on every rank).
H5CreateRows shared_module(std::string& error) {
  H5CreateRows create = nullptr;
  std::string mine;
  try {
    create = load_h5_module();
  } catch (const std::exception& e) {
    mine = e.what();
  }
  const int failed = sum_over_ranks(mine.empty() ? 0 : 1);
  if (failed > 0) {
    if (!mine.empty()) std::cerr << "prs_mpi: error: rank " << world_rank() << ": " << mine << std::endl;
    error = world_rank() == 0 && !mine.empty() ? mine : std::to_string(failed) + " ranks cannot load the HDF5 module";
    return nullptr;
  }
  return create;
}

}  // namespace

H5BuildResult build_h5_output(const std::string& h5_file, const std::string& staging,
                              const std::vector<StagedRecord>& records) {
  H5BuildResult result;
  const H5Layout layout = shared_layout(h5_file, staging, records, result.error);
  if (!result.error.empty()) return result;
  const H5CreateRows create = shared_module(result.error);
  if (create == nullptr) return result;
  const std::string tmp = h5_temporary_path(h5_file);
  std::unique_ptr<H5RowsFile> file(create(tmp, layout.columns, layout.total_rows, MPI_COMM_WORLD, result.error));
  if (!file) return result;  // a collective create fails on every rank
  std::string mine;
  try {
    write_slice(*file, layout, staging, world_rank());
  } catch (const std::exception& e) {
    mine = e.what();
  }
  try {
    file->close();  // collective
  } catch (const std::exception& e) {
    if (mine.empty()) mine = e.what();
  }
  file.reset();
  const int failed = sum_over_ranks(mine.empty() ? 0 : 1);
  if (failed > 0) {
    if (!mine.empty()) std::cerr << "prs_mpi: error: rank " << world_rank() << ": " << mine << std::endl;
    result.error = h5_file + ": not built: " + std::to_string(failed) + (failed == 1 ? " rank" : " ranks") +
                   " could not write their rows" + (mine.empty() ? "" : " (" + mine + ")");
    if (world_rank() == 0) std::remove(tmp.c_str());
    return result;
  }
  if (world_rank() == 0 && std::rename(tmp.c_str(), h5_file.c_str()) != 0)
    mine = h5_file + ": cannot rename " + tmp + " into place: " + std::strerror(errno);
  result.error = broadcast_string(mine);
  result.built = result.error.empty();
  result.rows = layout.total_rows;
  return result;
}

}  // namespace prs
