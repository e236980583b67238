#pragma once
// A `type: mltable` input as the service reads it: a folder holding an `MLTable` file (YAML) with `paths` (file,
// folder, pattern; relative to the MLTable file) and `transformations` (read_delimited or read_json_lines; none: a
// file list). Reading it touches no table data: only the MLTable file and, when listing, the folders it names.
#include <string>
#include <utility>
#include <vector>

#include "prs/input/file_list.hpp"

namespace prs {

// How the files of an MLTable are read.
enum class TableFormat : std::uint8_t {
  file_list,   // paths without a read transformation: run() receives paths
  delimited,   // read_delimited: run() receives a pandas.DataFrame
  json_lines,  // read_json_lines: run() receives a pandas.DataFrame
  hdf5,        // read_hdf5 (our extension): run() receives a pandas.DataFrame of N rows of HDF5 datasets
};

// read_delimited's header option.
enum class HeaderMode : std::uint8_t {
  no_header,                    // no header record; columns are Column1..ColumnN
  from_first_file,              // the first file's first record names the columns; other files have no header
  all_files_same_headers,       // every file starts with the same header record (the default)
  all_files_different_headers,  // every file starts with its own header record
};

// What a worker needs to parse a byte range into a DataFrame; identical on every rank.
struct TableReader {
  TableFormat format = TableFormat::file_list;
  char delimiter = ',';                            // one character
  HeaderMode header = HeaderMode::all_files_same_headers;
  std::string encoding = "utf8";                   // utf8, utf8bom, ascii, latin1, windows1252 or utf16
  bool empty_as_string = false;                    // an empty field is "" instead of NaN
  bool include_path_column = false;                // adds a column `Path` with the file's path
  bool support_multi_line = false;                 // quoted fields may hold newlines (cuts need a full pass)
  bool infer_column_types = true;                  // false: every column is str
  bool drop_invalid_lines = false;                 // read_json_lines invalid_lines: drop (else error)
  std::string hdf5_dataset;                        // read_hdf5 dataset: a compound, 2-D or 1-D dataset's path
  std::vector<std::string> hdf5_columns;           // read_hdf5 columns: same-length 1-D datasets (name: last part)
  std::string hdf5_where;                          // "/abs/MLTable:LINE: read_hdf5.dataset" (or .columns): errors
  std::vector<std::pair<std::string, std::string>> dtype;  // read_delimited dtype: column -> pandas dtype name
};

// An MLTable file, read.
struct MLTable {
  std::string file;    // absolute path of the MLTable file
  TableReader reader;  // how its files are read
  FileList files;      // the files its paths name, sorted, each once (only when listed)
};

// The MLTable file of a folder (or the file itself), parsed; with list_files, its paths listed by the rules (the
// MLTable file is never listed). Throws prs::Error "/abs/MLTable:LINE: KEY: what is wrong, got X"; an unsupported
// transformation names itself and what is supported.
MLTable read_mltable(const std::string& folder, bool list_files, const ListRules& rules = {});

// The column name read_hdf5 gives a 1-D dataset: the last component of its path ("/grp/x" -> "x").
std::string hdf5_column_name(const std::string& path);

// The job's MLTable (input_data), its files listed without the logs, the outputs and the entry script; refuses
// (prs::Error at task.append_row_to) an output that is one of its files. Rank 0 only.
MLTable read_job_mltable(const JobConfig& config);

}  // namespace prs
