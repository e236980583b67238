#include "prs/output/append_file.hpp"

#include <algorithm>
#include <utility>

#include "prs/error.hpp"
#include "prs/mpi/mpi_comm.hpp"

namespace prs {

void AppendFile::open() {
  if (file_ != MPI_FILE_NULL || path_.empty()) return;
  // Independent: only this rank opens this handle. No MPI_MODE_CREATE: rank 0 created the file before the start.
  mpi_check(MPI_File_open(MPI_COMM_SELF, path_.c_str(), MPI_MODE_WRONLY, MPI_INFO_NULL, &file_),
            "cannot open the output " + path_);
}

AppendFile::AppendFile(AppendFile&& other) noexcept
    : file_(std::exchange(other.file_, MPI_FILE_NULL)), path_(std::move(other.path_)) {}

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept {
  std::swap(file_, other.file_);
  std::swap(path_, other.path_);
  return *this;
}

// Not closed here: a file still open at destruction means an error path, on which MPI may be gone already (the
// abort that follows releases it).
AppendFile::~AppendFile() = default;

void AppendFile::write_at(std::uint64_t offset, std::string_view bytes) {
  // Independent: only this rank writes these bytes.
  if (file_ == MPI_FILE_NULL) open();
  std::size_t done = 0;
  while (done < bytes.size()) {
    int chunk = static_cast<int>(std::min(bytes.size() - done, kWritePiece));
    MPI_Status status;
    mpi_check(MPI_File_write_at(file_, static_cast<MPI_Offset>(offset + done), const_cast<char*>(bytes.data()) + done, chunk, MPI_BYTE,
                                &status),
              "cannot write " + std::to_string(chunk) + " bytes at offset " + std::to_string(offset + done) +
                  " of the output " + path_);
    int count = 0;
    MPI_Get_count(&status, MPI_BYTE, &count);
    if (count <= 0)
      throw Fatal("cannot write " + std::to_string(chunk) + " bytes at offset " + std::to_string(offset + done) +
                  " of the output " + path_ + ": nothing was written (is the disk full?)");
    done += static_cast<std::size_t>(count);
  }
}

void AppendFile::close() {
  if (file_ != MPI_FILE_NULL) mpi_check(MPI_File_close(&file_), "cannot close the output " + path_);
}

}  // namespace prs
