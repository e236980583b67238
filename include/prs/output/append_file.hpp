#pragma once
// The shared append_row output: one file written by all workers through MPI-IO.
//
// Independent from end to end: rank 0 creates the file before the job starts (app_setup.cpp); each worker opens it
// on its own (MPI_COMM_SELF) at its first commit, writes its committed rows at the offset the master assigned
// (MPI_File_write_at), so result bytes never travel through the master and no two writes overlap, and closes it
// before the final collectives, after which rank 0 may read it (ordered output, the .h5) and checks that it is
// still the file the job started with. No rank waits for another to open the file: a collective open held the
// master loop and every worker until the slowest rank had loaded MPI-IO (25-45 ms of a 2-core VM's start-up); an
// open at go, each on its own, still kept the first run() ~15 ms later there than an open at the first commit.
#include <mpi.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace prs {

// Bytes of one MPI_File_write_at. A mini-batch's rows in one write of several MiB made the kernel (Linux 6.18, ext4)
// fill the page cache with large folios, taken from the big free blocks a VM's balloon had handed back to its host:
// every one faulted in there, and 1 GB of 4 MiB writes took 0.25-0.4 GB/s against 4.3-5.1 with 256 KiB writes in the
// same state (benchmarks/README.md, Output bandwidth). 16 calls per 4 MiB cost nothing next to the copy.
constexpr std::size_t kWritePiece = 256 << 10;

// A move-only MPI file handle of one rank, opened at its first write. Only close() closes it; the destructor never
// calls MPI.
class AppendFile {
 public:
  // The output at path, not opened yet; an empty path: no output (summary_only, .h5 only).
  explicit AppendFile(std::string path = "") : path_(std::move(path)) {}
  AppendFile(AppendFile&& other) noexcept;
  AppendFile& operator=(AppendFile&& other) noexcept;
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;
  ~AppendFile();

  // Opens the file (it must exist: rank 0 created it) unless this rank has already; nothing without a path.
  // Independent. Throws prs::Fatal naming the path.
  void open();
  // Writes bytes (from wherever they are: a string, the rows region's mapping) at offset, kWritePiece at a time,
  // opening the file first if this rank has not yet. Independent. Throws prs::Fatal naming the path on a failed open,
  // a short or failed write.
  void write_at(std::uint64_t offset, std::string_view bytes);
  // Closes the file if this rank opened it. Independent. Throws prs::Fatal naming the path.
  void close();
  // This rank has the file open.
  bool is_open() const { return file_ != MPI_FILE_NULL; }

 private:
  MPI_File file_ = MPI_FILE_NULL;
  std::string path_;
};

}  // namespace prs
