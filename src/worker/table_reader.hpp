#pragma once
// Private to src/worker/: the Python code that reads a tabular mini-batch's bytes into a pandas.DataFrame.
namespace prs {

// Python source defining read_table(reader, path, offset, length, header_path, header_offset, header_length) and
// run_table(...); executed into the runner's helper module (it uses run_batch from there).
const char* table_reader_source();

}  // namespace prs
