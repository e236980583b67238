#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "prs/error.hpp"
#include "prs/input/file_list.hpp"

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

// ---- globs ----

namespace {

// The listed paths relative to d, in order.
std::vector<std::string> relative(const prs::FileList& files, const fs::path& d) {
  std::vector<std::string> paths;
  for (std::size_t i = 0; i < files.size(); ++i) paths.push_back(std::string(files.at(i).substr(d.string().size() + 1)));
  return paths;
}

using Paths = std::vector<std::string>;

// A tree of images, text files and hidden files for the glob tests.
fs::path image_tree(const std::string& name) {
  fs::path d = fresh_dir(name);
  for (const char* p : {"data/b.png", "data/a.png", "data/a.txt", "data/img_1.png", "data/img_22.png",
                        "data/sub/c.png", "data/sub/deeper/d.png", "data/.hidden.png", "data/.git/e.png",
                        "data/sub/.cache/f.png", "data/B.png"}) {
    touch(d / p);
  }
  fs::create_directories(d / "data/folder.png");  // a folder is never listed
  return d;
}

prs::FileList glob(const fs::path& d, const std::string& pattern) {
  return prs::list_glob((d / pattern).string(), "job.yml:3: inputs.input_data.path", "./" + pattern);
}

}  // namespace

TEST_CASE("glob: * matches within one folder, not a leading dot, sorted bytewise", "[file_list]") {
  fs::path d = image_tree("glob_star");
  CHECK(relative(glob(d, "data/*.png"), d) ==
        Paths{"data/B.png", "data/a.png", "data/b.png", "data/img_1.png", "data/img_22.png"});
  CHECK(relative(glob(d, "data/*"), d) ==
        Paths{"data/B.png", "data/a.png", "data/a.txt", "data/b.png", "data/img_1.png", "data/img_22.png"});
  CHECK(relative(glob(d, "data/.*.png"), d) == Paths{"data/.hidden.png"});  // a leading dot written out matches
  CHECK(relative(glob(d, "data/*/*.png"), d) == Paths{"data/sub/c.png"});
  CHECK(relative(glob(d, "*/sub/c.png"), d) == Paths{"data/sub/c.png"});
  fs::remove_all(d);
}

TEST_CASE("glob: ** matches zero or more folders, not hidden ones", "[file_list]") {
  fs::path d = image_tree("glob_double");
  CHECK(relative(glob(d, "data/**/*.png"), d) ==
        Paths{"data/B.png", "data/a.png", "data/b.png", "data/img_1.png", "data/img_22.png", "data/sub/c.png",
              "data/sub/deeper/d.png"});
  CHECK(relative(glob(d, "data/**/d.png"), d) == Paths{"data/sub/deeper/d.png"});
  CHECK(relative(glob(d, "data/sub/**"), d) == Paths{"data/sub/c.png", "data/sub/deeper/d.png"});
  CHECK(relative(glob(d, "data/**/.cache/*.png"), d) == Paths{"data/sub/.cache/f.png"});
  CHECK(relative(glob(d, "**/deeper/*"), d) == Paths{"data/sub/deeper/d.png"});
  fs::remove_all(d);
}

TEST_CASE("glob: ? and [...] match one character", "[file_list]") {
  fs::path d = image_tree("glob_one");
  CHECK(relative(glob(d, "data/img_?.png"), d) == Paths{"data/img_1.png"});
  CHECK(relative(glob(d, "data/img_??.png"), d) == Paths{"data/img_22.png"});
  CHECK(relative(glob(d, "data/[ab].png"), d) == Paths{"data/a.png", "data/b.png"});
  CHECK(relative(glob(d, "data/[!ab].png"), d) == Paths{"data/B.png"});
  CHECK(relative(glob(d, "data/?.png"), d) == Paths{"data/B.png", "data/a.png", "data/b.png"});
  fs::remove_all(d);
}

TEST_CASE("glob: no match is an error naming the pattern as the job wrote it", "[file_list]") {
  fs::path d = image_tree("glob_none");
  CHECK_THROWS_WITH(glob(d, "data/**/*.jpg"), "job.yml:3: inputs.input_data.path: ./data/**/*.jpg matches no file");
  CHECK_THROWS_WITH(glob(d, "data/*.png/x"), "job.yml:3: inputs.input_data.path: ./data/*.png/x matches no file");
  CHECK_THROWS_WITH(glob(d, "data/?"), "job.yml:3: inputs.input_data.path: ./data/? matches no file");
  fs::remove_all(d);
}

TEST_CASE("list_input_files lists each input form of a JobConfig", "[file_list]") {
  fs::path d = image_tree("forms");
  prs::JobConfig config;
  config.input_form = prs::InputForm::glob;
  config.input_path = (d / "data/sub/**/*.png").string();
  CHECK(relative(prs::list_input_files(config), d) == Paths{"data/sub/c.png", "data/sub/deeper/d.png"});
  config.input_form = prs::InputForm::folder;
  config.input_path = (d / "data/sub").string();
  CHECK(relative(prs::list_input_files(config), d) ==
        Paths{"data/sub/.cache/f.png", "data/sub/c.png", "data/sub/deeper/d.png"});  // a folder lists everything
  config.input_form = prs::InputForm::file;
  config.input_path = (d / "data/a.png").string();
  CHECK(relative(prs::list_input_files(config), d) == Paths{"data/a.png"});
  std::ofstream(d / "list.txt") << "data/b.png\n";
  config.input_form = prs::InputForm::path_list;
  config.input_path = (d / "list.txt").string();
  CHECK(relative(prs::list_input_files(config), d) == Paths{"data/b.png"});
  fs::remove_all(d);
}

// ---- path lists ----

TEST_CASE("path list: relative to its folder, absolute as given, comments and blanks skipped, sorted, unique",
          "[file_list]") {
  fs::path d = image_tree("paths");
  fs::create_directories(d / "lists");
  std::ofstream(d / "lists/paths.txt") << "# images to score\n"
                                       << "../data/b.png\n"
                                       << "\n"
                                       << "   \n"
                                       << (d / "data/a.png").string() << "\n"
                                       << "  ../data/sub/c.png  \r\n"
                                       << "../data/./a.png\n"
                                       << "  # indented comment\n"
                                       << "../data/b.png";  // no final newline; repeated
  const prs::FileList files = prs::list_path_list((d / "lists/paths.txt").string(), "lists/paths.txt");
  CHECK(relative(files, d) == Paths{"data/a.png", "data/b.png", "data/sub/c.png"});
  fs::remove_all(d);
}

TEST_CASE("path list: a missing path, a folder, an empty list and a missing list are errors", "[file_list]") {
  fs::path d = image_tree("paths_bad");
  const std::string list = (d / "paths.txt").string();
  std::ofstream(list) << "data/a.png\n# x\n\n" << (d / "nope.png").string() << "\n";
  CHECK_THROWS_WITH(prs::list_path_list(list, "paths.txt"), "paths.txt:4: " + (d / "nope.png").string() + " does not exist");
  std::ofstream(list) << "data/a.png\ndata/../data/sub\n";
  CHECK_THROWS_WITH(prs::list_path_list(list, "./paths.txt"), "./paths.txt:2: " + (d / "data/sub").string() + " is not a file");
  std::ofstream(list) << "# nothing\n\n";
  CHECK_THROWS_WITH(prs::list_path_list(list, "paths.txt"), "paths.txt: the path list names no file; give one path per line");
  CHECK_THROWS_WITH(prs::list_path_list((d / "none.txt").string(), "none.txt"),
                    "none.txt: cannot read the path list: No such file or directory");
  fs::remove_all(d);
}

TEST_CASE("unique drops repeated paths of a sorted list", "[file_list]") {
  prs::FileList files;
  for (const char* p : {"b", "a", "b", "c", "a"}) files.add(p);
  files.sort();
  files.unique();
  REQUIRE(files.size() == 3);
  CHECK(files.at(0) == "a");
  CHECK(files.at(1) == "b");
  CHECK(files.at(2) == "c");
}
