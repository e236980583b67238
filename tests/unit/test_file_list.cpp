#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "prs/error.hpp"
#include "prs/file_list.hpp"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("prs_test_file_list_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

}  // namespace

TEST_CASE("paths are sorted bytewise and read back whole", "[file_list]") {
  prs::FileList files;
  for (const char* p : {"b/2", "a/10", "B", "a/9", "a/1"}) files.add(p);
  files.sort();
  REQUIRE(files.size() == 5);
  CHECK(files.at(0) == "B");
  CHECK(files.at(1) == "a/1");
  CHECK(files.at(2) == "a/10");
  CHECK(files.at(3) == "a/9");
  CHECK(files.at(4) == "b/2");
}

TEST_CASE("a folder is listed recursively, files only, sorted", "[file_list]") {
  fs::path d = fresh_dir("rec");
  touch(d / "z.txt");
  touch(d / "sub" / "b.txt");
  touch(d / "sub" / "deeper" / "a.txt");
  fs::create_directories(d / "empty_dir");
  prs::FileList files = prs::list_input_files(d.string());
  REQUIRE(files.size() == 3);
  CHECK(files.at(0) == (d / "sub" / "b.txt").string());
  CHECK(files.at(1) == (d / "sub" / "deeper" / "a.txt").string());
  CHECK(files.at(2) == (d / "z.txt").string());
  fs::remove_all(d);
}

TEST_CASE("one file is a list of one", "[file_list]") {
  fs::path d = fresh_dir("one");
  touch(d / "only.csv");
  prs::FileList files = prs::list_input_files((d / "only.csv").string());
  REQUIRE(files.size() == 1);
  CHECK(files.at(0) == (d / "only.csv").string());
  fs::remove_all(d);
}

TEST_CASE("an empty folder is an error naming it", "[file_list]") {
  fs::path d = fresh_dir("empty");
  CHECK_THROWS_WITH(prs::list_input_files(d.string()), d.string() + ": the input folder holds no file");
  fs::remove_all(d);
}

TEST_CASE("a million paths cost little more than their characters", "[file_list]") {
  prs::FileList files;
  std::size_t chars = 0;
  for (int i = 999999; i >= 0; --i) {
    std::string p = "/data/images/batch_" + std::to_string(i % 1000) + "/img_" + std::to_string(i) + ".png";
    chars += p.size();
    files.add(p);
  }
  files.sort();
  CHECK(files.size() == 1000000);
  CHECK(files.at(0) == "/data/images/batch_0/img_0.png");
  CHECK(files.memory_bytes() < chars + 17 * files.size());
}
