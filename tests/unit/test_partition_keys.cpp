// partition_keys on folders: hive-style path values, the sorted groups, the file list reordered group by group.
#include <catch2/catch.hpp>

#include "prs/error.hpp"
#include "prs/input/partition.hpp"
#include "prs/input/partition_keys.hpp"

using namespace prs;
using Strings = std::vector<std::string>;

TEST_CASE("hive_values takes each key from the deepest KEY=VALUE folder", "[partition_keys]") {
  CHECK(hive_values("/d/Store=1001/Brand=tropicana/part-0.csv", {"Store", "Brand"}, "job.yml:9: partition_keys") ==
        Strings{"1001", "tropicana"});
  CHECK(hive_values("/d/Brand=a/x/Brand=b=c/f", {"Brand"}, "") == Strings{"b=c"});  // deepest; '=' in the value
  CHECK(hive_values("/d/Store=/f", {"Store"}, "") == Strings{""});                  // an empty value is a value
  CHECK_FALSE(has_hive_key("/d/Store=1/f", {"Brand"}));
  CHECK(has_hive_key("/d/Store=1/f", {"Brand", "Store"}));
  CHECK_FALSE(has_hive_key("/d/x/Store=1", {"Store"}));  // the file's own name is no folder
}

TEST_CASE("a path without a key folder names the file and the key", "[partition_keys]") {
  try {
    hive_values("/d/Store=1/f.csv", {"Store", "Brand"}, "job.yml:9: partition_keys");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()) ==
          "job.yml:9: partition_keys: /d/Store=1/f.csv: no folder Brand=VALUE in its path for the partition key "
          "Brand; every input file must lie below a folder KEY=VALUE for every key (hive style)");
  }
}

TEST_CASE("files are grouped by their values, groups sorted key by key, files kept in order", "[partition_keys]") {
  FileList files;
  for (const char* p : {"/d/Brand=b/Store=2/x", "/d/Brand=a/Store=10/y", "/d/Brand=a/Store=2/z", "/d/Brand=b/Store=2/w"})
    files.add(p);
  files.sort();
  const KeyGroups groups = group_files_by_folders(files, {"Store", "Brand"}, "");
  CHECK(groups.values == std::vector<Strings>{{"10", "a"}, {"2", "a"}, {"2", "b"}});  // text order: "10" < "2"
  CHECK(groups.starts == std::vector<std::uint64_t>{0, 1, 2, 4});
  const GroupedFiles grouped = reorder_by_groups(files, groups);
  const Partition partition(grouped.starts);
  REQUIRE(partition.batch_count() == 3);
  CHECK(partition.item_count() == 4);
  CHECK(grouped.files.at(partition.batch(0).first) == "/d/Brand=a/Store=10/y");
  CHECK(grouped.files.at(partition.batch(1).first) == "/d/Brand=a/Store=2/z");
  CHECK(partition.batch(2).first == 2);
  CHECK(partition.batch(2).count == 2);
  CHECK(grouped.files.at(2) == "/d/Brand=b/Store=2/w");
  CHECK(grouped.files.at(3) == "/d/Brand=b/Store=2/x");
  CHECK(key_text({"Store", "Brand"}, groups.values[0]) == "Store=10, Brand=a");
}
