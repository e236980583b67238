#pragma once
// The index pass of partition_keys on columns and of mini_batch_row_size: every cut's records scanned once (the
// ranks share the cuts; see prs/input/index_pass.hpp), each returning a small result that rank 0 folds into the plan.
// Rank 0 holds only that index: per cut the distinct key tuples it holds (partition_keys), or a record count and
// the record starts at multiples of the row size (mini_batch_row_size). Records are split as pandas' C tokenizer
// splits them (quotes, "" inside quotes, a newline inside quotes, CRLF); blank lines are no records.
#include <cstdint>
#include <string>
#include <vector>

#include "prs/input/table_plan.hpp"

namespace prs {

// What a scan looks for; identical on every rank.
struct IndexQuery {
  std::vector<std::string> keys;                   // partition_keys (empty: mini_batch_row_size)
  std::vector<std::vector<std::int64_t>> columns;  // delimited: per file, each key's column position
  std::uint64_t row_size = 0;                      // mini_batch_row_size
};

// What rank 0 asks of the index pass.
struct IndexJob {
  TableReader reader;
  IndexQuery query;
  std::string location;  // where errors about the keys point: "job.yml:9: partition_keys"
};

// What one cut holds for partition_keys.
struct CutKeys {
  std::vector<std::vector<std::string>> tuples;  // the distinct values of the keys in its records, sorted
  std::vector<bool> seen;                        // JSON lines: whether a record had the key at all
};

// The distinct key tuples of a cut's records (a missing field or key, or null, is ""). Throws prs::Error
// "FILE: byte N: ..." for a JSON line that does not parse (unless invalid_lines: drop) or a key holding an object.
CutKeys cut_keys(const TablePlan& plan, const TableReader& reader, const IndexQuery& query, std::uint64_t cut);

// The number of records of a cut.
std::uint64_t cut_record_count(const TablePlan& plan, const TableReader& reader, std::uint64_t cut);

// The offsets of the cut's records whose number in their file (the cut's first record is number `first`) is a
// positive multiple of row_size: where the row cuts start.
std::vector<std::uint64_t> cut_row_starts(const TablePlan& plan, const TableReader& reader, std::uint64_t cut,
                                          std::uint64_t first, std::uint64_t row_size);

// Rank 0, before the pass: each key's column in each file (from the header naming its columns, or Column1..N).
// Throws prs::Error "LOCATION: KEY is not a column of FILE (columns: a, b); ..." for a key that is none.
IndexQuery key_query(const MLTable& table, const TablePlan& plan, const std::vector<std::string>& keys,
                     const std::string& location);

// Rank 0, after: one mini-batch per distinct key tuple, its cuts those holding it. Throws prs::Error for a JSON
// key no record has.
void group_by_keys(TablePlan& plan, const std::vector<std::string>& keys, const std::vector<CutKeys>& per_cut,
                   const std::string& location);

// Rank 0, no pass needed: one mini-batch per hive folder combination, its cuts those of its files (plan each file
// as one cut). Throws prs::Error naming a file whose path lacks a key.
void group_by_folders(TablePlan& plan, const std::vector<std::string>& keys, const std::string& location);

// Rank 0, after: the plan's cuts replaced by row cuts; starts holds every cut's cut_row_starts, in cut order.
void cut_by_rows(TablePlan& plan, const std::vector<std::vector<std::uint64_t>>& starts);

// Splits one delimited record (its line ending included or not) into its fields as pandas reads them.
std::vector<std::string> split_record(const std::string& record, char delimiter);

}  // namespace prs
