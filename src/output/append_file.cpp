#include "prs/output/append_file.hpp"

#include <limits>
#include <utility>

#include "prs/error.hpp"
#include "prs/mpi/mpi_comm.hpp"

namespace prs {

AppendFile AppendFile::open(const std::string& path) {
  AppendFile f;
  f.path_ = path;
  // Collective: every rank of MPI_COMM_WORLD calls this with the same path.
  mpi_check(MPI_File_open(MPI_COMM_WORLD, path.c_str(), MPI_MODE_CREATE | MPI_MODE_WRONLY, MPI_INFO_NULL, &f.file_),
            "cannot open the output " + path);
  return f;
}

AppendFile::AppendFile(AppendFile&& other) noexcept
    : file_(std::exchange(other.file_, MPI_FILE_NULL)), path_(std::move(other.path_)) {}

AppendFile& AppendFile::operator=(AppendFile&& other) noexcept {
  std::swap(file_, other.file_);
  std::swap(path_, other.path_);
  return *this;
}

// Not closed here: closing is collective, and a file still open at destruction means an error path on which the
// other ranks will not join (the abort that follows releases it).
AppendFile::~AppendFile() = default;

void AppendFile::write_at(std::uint64_t offset, const std::string& bytes) {
  // Independent: only this rank writes these bytes.
  std::size_t done = 0;
  while (done < bytes.size()) {
    int chunk = static_cast<int>(std::min<std::size_t>(bytes.size() - done, std::numeric_limits<int>::max() / 2));
    MPI_Status status;
    mpi_check(MPI_File_write_at(file_, static_cast<MPI_Offset>(offset + done), bytes.data() + done, chunk, MPI_BYTE,
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
  // Collective: every rank that opened the file closes it together.
  if (file_ != MPI_FILE_NULL) mpi_check(MPI_File_close(&file_), "cannot close the output " + path_);
}

}  // namespace prs
