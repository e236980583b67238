#pragma once
// partition_keys: one mini-batch per combination of the keys' values, taken from hive-style folders
// ("Store=1001/Brand=tropicana/...") or, for a table, from its key columns (see table_index.hpp). Groups are sorted by
// their values, key by key, bytewise (as text: "1001" < "999"); within a group items keep their input order.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "prs/input/file_list.hpp"
#include "prs/input/partition.hpp"

namespace prs {

// Items grouped by their keys' values.
struct KeyGroups {
  std::vector<std::vector<std::string>> values;  // each group's value of each key, groups in sorted order
  std::vector<std::uint64_t> starts;             // group g holds items[starts[g] .. starts[g + 1]); groups + 1 long
  std::vector<std::uint64_t> items;              // item indexes, group after group
};

// Collects (key values, item) pairs into sorted groups; an item may belong to several groups (a table cut).
class KeyGrouper {
 public:
  // Adds item to the group of these values (an item added twice to one group is kept once, items ascending).
  void add(const std::vector<std::string>& values, std::uint64_t item);
  // The groups, sorted by values.
  KeyGroups take();

 private:
  std::map<std::vector<std::string>, std::vector<std::uint64_t>> groups_;
};

// The value of each key in the folders of a path: the deepest folder named KEY=VALUE ("/d/Store=1001/x.csv" gives
// "1001" for Store). Throws prs::Error "LOCATION: PATH: no folder Store=VALUE in its path for the partition key
// Store" when a key has none.
std::vector<std::string> hive_values(std::string_view path, const std::vector<std::string>& keys,
                                     const std::string& location);

// Whether any folder of the path is named KEY=VALUE for one of the keys.
bool has_hive_key(std::string_view path, const std::vector<std::string>& keys);

// The files grouped by their hive folders' values (every file must have every key, else prs::Error).
KeyGroups group_files_by_folders(const FileList& files, const std::vector<std::string>& keys,
                                 const std::string& location);

// A file list in group order (each group's files contiguous) and its partition: one mini-batch per group.
struct GroupedFiles {
  FileList files;
  std::vector<std::uint64_t> starts;  // mini-batch b holds files [starts[b], starts[b + 1])
};

// Reorders files group after group.
GroupedFiles reorder_by_groups(const FileList& files, const KeyGroups& groups);

// "Store=1001, Brand=tropicana": a group's values as --dry-run and the logs show them.
std::string key_text(const std::vector<std::string>& keys, const std::vector<std::string>& values);

}  // namespace prs
