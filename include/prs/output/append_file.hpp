#pragma once
// The shared append_row output: one file written by all workers through MPI-IO.
//
// Collective set-up, independent writes: every rank opens and closes the file together (MPI_COMM_WORLD), and each
// worker writes its own committed rows at the offset the master assigned (MPI_File_write_at), so result bytes never
// travel through the master and no two writes overlap.
#include <mpi.h>

#include <cstdint>
#include <string>

namespace prs {

// A move-only MPI file handle. Only close() closes it (collectively); the destructor never calls MPI.
class AppendFile {
 public:
  // Opens (creating it) for writing. Collective over MPI_COMM_WORLD. Throws prs::Fatal naming the path.
  static AppendFile open(const std::string& path);
  AppendFile() = default;
  AppendFile(AppendFile&& other) noexcept;
  AppendFile& operator=(AppendFile&& other) noexcept;
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  ~AppendFile();

  // Writes bytes at offset; independent (no other rank takes part). Throws prs::Fatal on a short or failed write.
  void write_at(std::uint64_t offset, const std::string& bytes);
  // Closes the file. Collective over MPI_COMM_WORLD.
  void close();
  // The file is open.
  bool is_open() const { return file_ != MPI_FILE_NULL; }

 private:
  MPI_File file_ = MPI_FILE_NULL;
  std::string path_;
};

}  // namespace prs
