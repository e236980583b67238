#pragma once
// Private to src/worker/: the Python code that encodes run()'s result as one binary row record for a .h5 output.
namespace prs {

// Python source defining rows_record(result) -> bytes (the format of prs/output/row_record.hpp); it raises
// RowRecordError naming the column for a value HDF5 cannot store. Executed into the runner's helper module.
const char* row_records_source();

}  // namespace prs
