#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>

#include "normal_user.hpp"
#include "temp_tree.hpp"
#include "prs/error.hpp"
#include "prs/input/file_list.hpp"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) { return prs_test::fresh_dir("file_list", name); }

using prs_test::touch;

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
  CHECK(files.memory_bytes() < chars + 33 * files.size());  // two offsets and a stamp (size, mtime) per path
}

namespace {

// Writes `bytes` bytes and sets the modification time to seconds.nanoseconds.
void make_file(const fs::path& p, std::size_t bytes, std::int64_t seconds, long nanoseconds) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << std::string(bytes, 'x');
  const timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(seconds), nanoseconds}};
  REQUIRE(::utimensat(AT_FDCWD, p.c_str(), times, 0) == 0);
}

}  // namespace

TEST_CASE("every listing keeps the size and modification time its stat() saw, through sort and unique",
          "[file_list]") {
  fs::path d = fresh_dir("stamps");
  make_file(d / "b/two", 2, 1700000000, 5);
  make_file(d / "a/three", 3, 1600000000, 999999999);
  make_file(d / "zero", 0, 1, 0);
  fs::create_symlink(d / "a/three", d / "link");  // a symlink: the file it names
  const auto check = [](const prs::FileList& files, std::size_t i, std::int64_t size, std::int64_t mtime_ns) {
    CHECK(files.stamp(i).size == size);
    CHECK(files.stamp(i).mtime_ns == mtime_ns);
  };
  prs::FileList walked = prs::list_input_files(d.string());
  REQUIRE(walked.size() == 4);
  CHECK(walked.at(0) == (d / "a/three").string());
  check(walked, 0, 3, 1600000000999999999);
  check(walked, 1, 2, 1700000000000000005);
  check(walked, 2, 3, 1600000000999999999);  // link
  check(walked, 3, 0, 1000000000);
  check(prs::list_input_files((d / "b/two").string()), 0, 2, 1700000000000000005);
  prs::FileList globbed = prs::list_glob((d / "*/t*").string(), "job.yml:3: x", "*/t*");
  REQUIRE(globbed.size() == 2);
  check(globbed, 1, 2, 1700000000000000005);
  std::ofstream(d / "list.txt") << "b/two\na/three\nb/two\n";
  prs::FileList listed = prs::list_path_list((d / "list.txt").string(), "list.txt");
  REQUIRE(listed.size() == 2);
  check(listed, 0, 3, 1600000000999999999);
  check(listed, 1, 2, 1700000000000000005);
  prs::FileList added;
  added.add("x");
  CHECK(added.stamp(0).size == -1);  // not stat()ed: the fingerprint stats it itself
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

// ---- a listing is complete or fails: symlinks, loops, unreadable folders, outputs and logs ----

namespace {

using prs_test::open_to_all;

// What a listing gave, as text: the paths relative to d, one a line, then "skipped PATH: PROBLEM" lines; or the
// error's message.
std::string listing_text(const std::function<prs::FileList()>& list, const fs::path& d) {
  std::string text;
  try {
    const prs::FileList files = list();
    for (std::size_t i = 0; i < files.size(); ++i) text += std::string(files.at(i).substr(d.string().size() + 1)) + "\n";
    for (const prs::SkippedPath& s : files.skipped()) text += "skipped " + s.path + ": " + s.problem + "\n";
  } catch (const prs::Error& e) {
    text = std::string("error: ") + e.what();
  }
  return text;
}

// Runs a listing as a normal user (nobody when the tests run as root) and returns listing_text.
std::string as_normal_user(const std::function<prs::FileList()>& list, const fs::path& d) {
  return prs_test::as_normal_user([&] { return listing_text(list, d); });
}

std::string folder_listing(const fs::path& root, const fs::path& d, const prs::ListRules& rules = {}) {
  return listing_text([&] { return prs::list_input_files(root.string(), rules); }, d);
}

const std::string hint = "; fix it, or set skip_unreadable_inputs: true to skip what cannot be read";

}  // namespace

TEST_CASE("listing: two symlinks back up the tree end the walk; each file is listed once", "[file_list]") {
  fs::path d = fresh_dir("loop");
  touch(d / "data/top.txt");
  touch(d / "data/a/mid.txt");
  touch(d / "data/a/b/deep.txt");
  fs::create_directory_symlink("..", d / "data/a/up");      // data/a/up -> data
  fs::create_directory_symlink("../..", d / "data/a/b/up");  // data/a/b/up -> data
  fs::create_directory_symlink(d / "data", d / "data/a/b/root");  // absolute, to the root itself
  CHECK(folder_listing(d / "data", d) == "data/a/b/deep.txt\ndata/a/mid.txt\ndata/top.txt\n");
  fs::remove_all(d);
}

TEST_CASE("listing: a symlink to its own folder lists nothing twice", "[file_list]") {
  fs::path d = fresh_dir("self");
  touch(d / "data/one.txt");
  touch(d / "data/sub/two.txt");
  fs::create_directory_symlink(".", d / "data/self");
  fs::create_directory_symlink(".", d / "data/sub/again");
  CHECK(folder_listing(d / "data", d) == "data/one.txt\ndata/sub/two.txt\n");
  fs::remove_all(d);
}

TEST_CASE("listing: a folder reached by a symlink and by its path keeps its real path, whatever the names' order",
          "[file_list]") {
  fs::path d = fresh_dir("sibling");
  touch(d / "data/m/x.txt");
  fs::create_directory_symlink("m", d / "data/0_first");  // sorts before m
  fs::create_directory_symlink("m", d / "data/z_last");   // sorts after m
  CHECK(folder_listing(d / "data", d) == "data/m/x.txt\n");
  fs::remove_all(d);
}

TEST_CASE("listing: a folder outside the tree is listed through its first symlink in sorted order", "[file_list]") {
  fs::path d = fresh_dir("outside");
  touch(d / "ext/e.txt");
  touch(d / "ext/inner/i.txt");
  touch(d / "data/own.txt");
  fs::create_directory_symlink("../ext", d / "data/l2");
  fs::create_directory_symlink("../ext", d / "data/l1");
  fs::create_directory_symlink("../ext/inner", d / "data/k");  // a link into the linked tree: entered first
  fs::create_symlink("../ext/e.txt", d / "data/file_link.txt");  // a symlink to a file is a file of its own
  CHECK(folder_listing(d / "data", d) ==
        "data/file_link.txt\ndata/k/i.txt\ndata/l1/e.txt\ndata/own.txt\n");
  fs::remove_all(d);
}

TEST_CASE("listing: a broken symlink is an error naming it, or skipped", "[file_list]") {
  fs::path d = fresh_dir("broken");
  touch(d / "data/ok.txt");
  fs::create_symlink("nowhere.txt", d / "data/dead.txt");
  fs::create_symlink("ring_b", d / "data/ring_a");
  fs::create_symlink("ring_a", d / "data/ring_b");
  CHECK(folder_listing(d / "data", d) ==
        "error: " + (d / "data/dead.txt").string() + ": cannot follow the symlink: No such file or directory" + hint);
  prs::ListRules skip;
  skip.skip_unreadable = true;
  CHECK(folder_listing(d / "data", d, skip) ==
        "data/ok.txt\n"
        "skipped " + (d / "data/dead.txt").string() + ": cannot follow the symlink: No such file or directory\n"
        "skipped " + (d / "data/ring_a").string() + ": cannot follow the symlink: Too many levels of symbolic links\n"
        "skipped " + (d / "data/ring_b").string() + ": cannot follow the symlink: Too many levels of symbolic links\n");
  fs::remove_all(d);
}

TEST_CASE("listing: an unreadable folder fails the listing, for a normal user too", "[file_list]") {
  fs::path d = fresh_dir("unreadable");
  for (int i = 0; i < 5; ++i) touch(d / ("data/a_" + std::to_string(i) + ".txt"));
  touch(d / "data/locked/hidden.txt");
  touch(d / "data/z/last.txt");
  open_to_all(d);
  fs::permissions(d / "data/locked", fs::perms::none);
  const auto list = [&] { return prs::list_input_files((d / "data").string()); };
  CHECK(as_normal_user(list, d) ==
        "error: " + (d / "data/locked").string() + ": cannot list the input folder: Permission denied" + hint);
  fs::permissions(d / "data/locked", fs::perms::owner_all);
  fs::remove_all(d);
}

TEST_CASE("listing: a folder that can be read but not entered fails the listing", "[file_list]") {
  fs::path d = fresh_dir("noexec");
  touch(d / "data/a.txt");
  touch(d / "data/shut/b.txt");
  open_to_all(d);
  fs::permissions(d / "data/shut", fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  const auto list = [&] { return prs::list_input_files((d / "data").string()); };
  CHECK(as_normal_user(list, d) ==
        "error: " + (d / "data/shut").string() + ": cannot enter the input folder: Permission denied" + hint);
  fs::permissions(d / "data/shut", fs::perms::owner_all);
  fs::remove_all(d);
}

TEST_CASE("listing: skip mode lists the rest and keeps the skipped paths, sorted", "[file_list]") {
  fs::path d = fresh_dir("skip");
  touch(d / "data/a.txt");
  touch(d / "data/m/locked/x.txt");
  touch(d / "data/b_locked/y.txt");
  touch(d / "data/shut/z.txt");
  touch(d / "data/z/last.txt");
  open_to_all(d);
  fs::permissions(d / "data/m/locked", fs::perms::none);
  fs::permissions(d / "data/b_locked", fs::perms::none);
  fs::permissions(d / "data/shut", fs::perms::owner_read | fs::perms::others_read);
  prs::ListRules skip;
  skip.skip_unreadable = true;
  const auto list = [&] { return prs::list_input_files((d / "data").string(), skip); };
  CHECK(as_normal_user(list, d) ==
        "data/a.txt\ndata/z/last.txt\n"
        "skipped " + (d / "data/b_locked").string() + ": cannot list the input folder: Permission denied\n"
        "skipped " + (d / "data/m/locked").string() + ": cannot list the input folder: Permission denied\n"
        "skipped " + (d / "data/shut").string() + ": cannot enter the input folder: Permission denied\n");
  const auto glob = [&] {
    return prs::list_glob((d / "data/**/*.txt").string(), "job.yml:3: inputs.input_data.path", "./data/**/*.txt",
                          skip);
  };
  CHECK(as_normal_user(glob, d) ==
        "data/a.txt\ndata/z/last.txt\n"
        "skipped " + (d / "data/b_locked").string() + ": cannot list the input folder: Permission denied\n"
        "skipped " + (d / "data/m/locked").string() + ": cannot list the input folder: Permission denied\n"
        "skipped " + (d / "data/shut").string() + ": cannot enter the input folder: Permission denied\n");
  for (const char* p : {"data/m/locked", "data/b_locked", "data/shut"}) fs::permissions(d / p, fs::perms::owner_all);
  fs::remove_all(d);
}

TEST_CASE("listing: a folder of nothing but unreadable paths holds no file and says what it skipped", "[file_list]") {
  fs::path d = fresh_dir("skip_all");
  fs::create_directories(d / "data");
  fs::create_symlink("gone", d / "data/dead");
  prs::ListRules skip;
  skip.skip_unreadable = true;
  CHECK(folder_listing(d / "data", d, skip) ==
        "error: " + (d / "data").string() + ": the input folder holds no file; skipped 1 unreadable path: " +
            (d / "data/dead").string() + " (cannot follow the symlink: No such file or directory)");
  fs::remove_all(d);
}

TEST_CASE("skipped_paths_line names the first few and counts the rest", "[file_list]") {
  prs::FileList files;
  CHECK(prs::skipped_paths_line(files).empty());
  for (const char* p : {"/d/e", "/d/a", "/d/c", "/d/b", "/d/d"}) files.add_skipped(p, "cannot list the input folder: Permission denied");
  files.sort();
  CHECK(prs::skipped_paths_line(files) ==
        "skipped 5 unreadable paths: /d/a (cannot list the input folder: Permission denied), /d/b (cannot list the "
        "input folder: Permission denied), /d/c (cannot list the input folder: Permission denied), and 2 more "
        "(--dry-run lists them)");
  CHECK(prs::skipped_paths_line(files, 5).find("/d/e (cannot list") != std::string::npos);
}

TEST_CASE("glob: a symlink loop under ** ends and matches each file once", "[file_list]") {
  fs::path d = fresh_dir("glob_loop");
  touch(d / "data/a.png");
  touch(d / "data/s/b.png");
  fs::create_directory_symlink("..", d / "data/s/up");
  fs::create_directory_symlink(".", d / "data/s/self");
  const auto glob = [&] {
    return prs::list_glob((d / "data/**/*.png").string(), "job.yml:3: inputs.input_data.path", "./data/**/*.png");
  };
  CHECK(listing_text(glob, d) == "data/a.png\ndata/s/b.png\n");
  fs::remove_all(d);
}

TEST_CASE("path list: a path that cannot be read is an error with the OS reason, or skipped", "[file_list]") {
  fs::path d = fresh_dir("paths_unreadable");
  touch(d / "data/ok.png");
  touch(d / "data/locked/in.png");
  std::ofstream(d / "paths.txt") << "data/ok.png\ndata/locked/in.png\n";
  open_to_all(d);
  fs::permissions(d / "data/locked", fs::perms::none);
  const auto strict = [&] { return prs::list_path_list((d / "paths.txt").string(), "paths.txt"); };
  CHECK(as_normal_user(strict, d) == "error: paths.txt:2: " + (d / "data/locked/in.png").string() +
                                         ": cannot stat the input path: Permission denied" + hint);
  prs::ListRules skip;
  skip.skip_unreadable = true;
  const auto skipping = [&] { return prs::list_path_list((d / "paths.txt").string(), "paths.txt", skip); };
  CHECK(as_normal_user(skipping, d) == "data/ok.png\nskipped " + (d / "data/locked/in.png").string() +
                                           ": cannot stat the input path: Permission denied\n");
  fs::permissions(d / "data/locked", fs::perms::owner_all);
  fs::remove_all(d);
}

namespace {

// A job whose input folder holds its own output, logs, an output folder and the entry script.
prs::JobConfig job_inside(const fs::path& d) {
  prs::JobConfig config;
  config.input_form = prs::InputForm::folder;
  config.input_path = (d / "data").string();
  config.entry_script = (d / "data/score.py").string();
  config.append_row_file = (d / "data/out/rows.txt").string();
  config.append_row_location = "job.yml:9: task.append_row_to";
  config.log_dir = (d / "data/out/logs").string();
  config.output_folders = {(d / "data/results").string()};
  touch(d / "data/item.txt");
  touch(d / "data/score.py");
  touch(d / "data/out/rows.txt");
  touch(d / "data/out/logs/journal.bin");
  touch(d / "data/out/logs/job_result.txt");
  touch(d / "data/results/extra.txt");
  return config;
}

}  // namespace

TEST_CASE("listing: the logs, output folders, the entry script and an earlier output are never inputs",
          "[file_list]") {
  fs::path d = fresh_dir("outputs_inside");
  const prs::JobConfig config = job_inside(d);
  fs::create_directory_symlink("out/logs", d / "data/logs_link");  // also not through a symlink
  fs::create_symlink("out/rows.txt", d / "data/rows_link.txt");
  CHECK(listing_text([&] { return prs::list_input_files(config); }, d) == "data/item.txt\n");
  fs::remove_all(d);
}

TEST_CASE("listing: an output that is an input file (no journal made it) is refused", "[file_list]") {
  fs::path d = fresh_dir("output_is_input");
  const prs::JobConfig config = job_inside(d);
  fs::remove(d / "data/out/logs/journal.bin");  // no earlier run wrote rows.txt: it is the user's
  CHECK(listing_text([&] { return prs::list_input_files(config); }, d) ==
        "error: job.yml:9: task.append_row_to: " + config.append_row_file + " is one of the input files (input_data: " +
            config.input_path + "); the rows would overwrite it: write them to a file outside the input");
  fs::remove_all(d);
}

TEST_CASE("listing: an output reached through a symlink in the input is refused naming both paths", "[file_list]") {
  fs::path d = fresh_dir("output_linked");
  touch(d / "data/item.txt");
  touch(d / "elsewhere/rows.txt");
  fs::create_symlink("../elsewhere/rows.txt", d / "data/rows.txt");
  prs::JobConfig config;
  config.input_path = (d / "data").string();
  config.append_row_file = (d / "elsewhere/rows.txt").string();
  config.append_row_location = "job.yml:9: task.append_row_to";
  config.log_dir = (d / "elsewhere/logs").string();
  CHECK(listing_text([&] { return prs::list_input_files(config); }, d) ==
        "error: job.yml:9: task.append_row_to: " + config.append_row_file + " is one of the input files (listed as " +
            (d / "data/rows.txt").string() + ", input_data: " + config.input_path +
            "); the rows would overwrite it: write them to a file outside the input");
  fs::remove_all(d);
}

TEST_CASE("listing: a path list or a file naming the output is refused, even an earlier output", "[file_list]") {
  fs::path d = fresh_dir("output_listed");
  prs::JobConfig config = job_inside(d);
  std::ofstream(d / "paths.txt") << "data/item.txt\ndata/out/rows.txt\n";
  config.input_form = prs::InputForm::path_list;
  config.input_path = (d / "paths.txt").string();
  const std::string refused = "error: job.yml:9: task.append_row_to: " + config.append_row_file +
                              " is one of the input files (input_data: ";
  CHECK(listing_text([&] { return prs::list_input_files(config); }, d) ==
        refused + config.input_path + "); the rows would overwrite it: write them to a file outside the input");
  config.input_form = prs::InputForm::file;
  config.input_path = config.append_row_file;
  CHECK(listing_text([&] { return prs::list_input_files(config); }, d) ==
        refused + config.input_path + "); the rows would overwrite it: write them to a file outside the input");
  fs::remove_all(d);
}

TEST_CASE("listing: an output or logs folder that is the input folder itself does not empty it", "[file_list]") {
  fs::path d = fresh_dir("output_is_root");
  touch(d / "data/a.txt");
  touch(d / "data/b/c.txt");
  prs::ListRules rules;
  rules.excluded_folders = {(d / "data").string(), (d / "data/b").string()};
  CHECK(folder_listing(d / "data", d, rules) == "data/a.txt\n");
  fs::remove_all(d);
}
