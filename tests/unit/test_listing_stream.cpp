#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

#include "normal_user.hpp"
#include "temp_tree.hpp"
#include "prs/error.hpp"
#include "prs/input/file_list.hpp"
#include "prs/input/folder_walk.hpp"
#include "prs/input/listing_stream.hpp"
#include "prs/input/partition.hpp"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) { return prs_test::fresh_dir("listing_stream", name); }

using prs_test::touch;

// Names whose order is not the walk's: a file "b.txt" sorts before the folder "b"'s files, "b-" before "b.", "B"
// before "a", and a folder "a.d" before "a"'s files.
const char* const kNames[] = {"a", "a.d", "b", "b.txt", "b-", "B", "z", "a0", "_x", "b.", "c"};

// A random tree of up to `files` files, nested up to 3 deep, with symlinks to folders inside and outside it.
fs::path random_tree(const std::string& name, std::mt19937& rng, int files) {
  fs::path d = fresh_dir(name);
  std::uniform_int_distribution<std::size_t> pick(0, std::size(kNames) - 1);
  std::uniform_int_distribution<int> depth(0, 3);
  for (int i = 0; i < files; ++i) {
    fs::path p = d / "in";
    for (int k = depth(rng); k > 0; --k) p /= kNames[pick(rng)];
    std::error_code ec;
    p /= std::string(kNames[pick(rng)]) + std::to_string(i % 7);
    if (fs::is_directory(p, ec)) continue;
    fs::path parent = p.parent_path();
    bool blocked = false;  // a file already where a folder goes
    for (fs::path q = parent; q != d; q = q.parent_path()) blocked = blocked || fs::is_regular_file(q, ec);
    if (!blocked) touch(p);
  }
  touch(d / "outside" / "o.txt");
  std::error_code ec;
  fs::create_directory_symlink(d / "outside", d / "in" / "a.link", ec);  // listed through the link
  if (fs::is_directory(d / "in" / "b")) fs::create_directory_symlink(d / "in" / "b", d / "in" / "0back", ec);
  return d;
}

using prs_test::open_to_all;

prs::JobConfig folder_job(const fs::path& input) {
  prs::JobConfig config;
  config.input_form = prs::InputForm::folder;
  config.input_path = input.string();
  return config;
}

// Everything the stream releases, taken in the pieces it comes in.
prs::FileList stream_all(const prs::JobConfig& config) {
  prs::ListingStream stream(config, 0);
  prs::FileList files;
  for (bool ended = false; !ended;) {
    stream.wait_for(files.size() + 1);
    ended = stream.take(files);
  }
  return files;
}

std::vector<std::string> paths(const prs::FileList& files) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < files.size(); ++i) out.emplace_back(files.at(i));
  return out;
}

// The streamed listing of config's folder has the whole listing's paths and stamps, in its order.
void check_streamed_is_whole(const prs::JobConfig& config) {
  const prs::FileList whole = prs::list_input_files(config);
  const prs::FileList streamed = stream_all(config);
  REQUIRE(paths(streamed) == paths(whole));
  for (std::size_t i = 0; i < whole.size(); ++i) {
    CHECK(streamed.stamp(i).size == whole.stamp(i).size);
    CHECK(streamed.stamp(i).mtime_ns == whole.stamp(i).mtime_ns);
  }
}

}  // namespace

TEST_CASE("a streamed listing releases the whole listing's paths and stamps, in its order", "[listing_stream]") {
  std::mt19937 rng(11);
  for (int round = 0; round < 20; ++round) {
    fs::path d = random_tree("random", rng, 1 + round * 7);
    const prs::JobConfig config = folder_job(d / "in");
    check_streamed_is_whole(config);
    fs::remove_all(d);
  }
}

TEST_CASE("a streamed listing releases the first folder's paths before it ends", "[listing_stream]") {
  fs::path d = fresh_dir("early");
  for (int f = 0; f < 5; ++f)
    for (int i = 0; i < 3; ++i) touch(d / "in" / ("f" + std::to_string(f)) / ("x" + std::to_string(i)));
  ::setenv("PRS_TEST_LISTING_HOLD", (d / "gate").c_str(), 1);  // the walk pauses after the first folder
  prs::FileList files;
  {
    prs::ListingStream stream(folder_job(d / "in"), 1);
    CHECK_FALSE(stream.wait_for(1));
    CHECK_FALSE(stream.take(files));  // f0's paths, and the listing goes on
    CHECK(paths(files) == std::vector<std::string>{(d / "in/f0/x0").string(), (d / "in/f0/x1").string(),
                                                   (d / "in/f0/x2").string()});
    touch(d / "gate");
    while (!stream.take(files)) stream.wait_for(files.size() + 1);
  }
  ::unsetenv("PRS_TEST_LISTING_HOLD");
  CHECK(files.size() == 15);
  fs::remove_all(d);
}

TEST_CASE("a streamed listing of one file, of an empty folder, of an unreadable folder: as the whole listing",
          "[listing_stream]") {
  fs::path d = fresh_dir("edges");
  touch(d / "one.txt");
  CHECK(paths(stream_all(folder_job(d / "one.txt"))) == std::vector<std::string>{(d / "one.txt").string()});
  fs::create_directories(d / "empty");
  CHECK_THROWS_WITH(stream_all(folder_job(d / "empty")), (d / "empty").string() + ": the input folder holds no file");
  for (int i = 0; i < 4; ++i) touch(d / "data" / ("a_" + std::to_string(i)));
  touch(d / "data/m/locked/hidden.txt");
  touch(d / "data/z/last.txt");
  open_to_all(d);
  fs::permissions(d / "data/m/locked", fs::perms::none);
  const prs::JobConfig config = folder_job(d / "data");
  const auto whole = [&] {
    try {
      prs::list_input_files(config);
    } catch (const prs::Error& e) {
      return std::string(e.what());
    }
    return std::string("listed");
  };
  const auto streamed = [&] {  // the paths before the folder, then the same error
    prs::ListingStream stream(config, 0);
    prs::FileList files;
    try {
      while (!stream.take(files)) stream.wait_for(files.size() + 1);
    } catch (const prs::Error& e) {
      return std::to_string(files.size()) + " " + e.what();
    }
    return std::string("listed");
  };
  const std::string error = prs_test::as_normal_user(whole);
  CHECK(error.find("cannot list the input folder: Permission denied") != std::string::npos);
  CHECK(prs_test::as_normal_user(streamed) == "4 " + error);
  fs::permissions(d / "data/m/locked", fs::perms::owner_all);
  fs::remove_all(d);
}

TEST_CASE("streamed mini-batches are the whole listing's, for any listing and any pieces", "[listing_stream]") {
  std::mt19937 rng(7);
  std::uniform_int_distribution<std::uint64_t> count(0, 500), size(1, 40);
  for (int round = 0; round < 300; ++round) {
    const std::uint64_t total = count(rng), batch = size(rng);
    const prs::Partition whole(total, batch);
    std::uint64_t listed = 0;
    std::uint64_t given = 0;  // mini-batches handed out so far: they never change
    while (listed < total) {
      listed = std::min(total, listed + std::uniform_int_distribution<std::uint64_t>(1, 60)(rng));
      const prs::Partition part = prs::streamed_partition(listed, batch, false);
      REQUIRE(part.batch_count() >= given);
      for (std::uint64_t b = 0; b < part.batch_count(); ++b) {
        REQUIRE(part.batch(b).first == whole.batch(b).first);
        REQUIRE(part.batch(b).count == whole.batch(b).count);
      }
      given = part.batch_count();
    }
    const prs::Partition last = prs::streamed_partition(total, batch, true);
    REQUIRE(last.batch_count() == whole.batch_count());
    for (std::uint64_t b = 0; b < last.batch_count(); ++b) REQUIRE(last.batch(b).count == whole.batch(b).count);
  }
  CHECK_THROWS_WITH(prs::streamed_partition(5, 0, false), "mini_batch_size: must be at least 1, got 0");
}

TEST_CASE("an output created while the listing goes on is not listed, in the tree or through a symlink",
          "[listing_stream]") {
  fs::path d = fresh_dir("output");
  for (int f = 0; f < 4; ++f) touch(d / "in" / ("f" + std::to_string(f)) / "x");
  fs::create_directory_symlink(d / "in" / "f3", d / "in" / "g_link");
  prs::JobConfig config = folder_job(d / "in");
  config.append_row_file = (d / "in" / "f3" / "rows.txt").string();  // does not exist when the listing starts
  ::setenv("PRS_TEST_LISTING_HOLD", (d / "gate").c_str(), 1);
  prs::FileList files;
  {
    prs::ListingStream stream(config, 1);  // holds after the first folder
    stream.wait_for(1);
    touch(config.append_row_file);  // the job creates its output meanwhile
    touch(d / "gate");
    while (!stream.take(files)) stream.wait_for(files.size() + 1);
  }
  ::unsetenv("PRS_TEST_LISTING_HOLD");
  std::vector<std::string> expected;
  for (int f = 0; f < 4; ++f) expected.push_back((d / "in" / ("f" + std::to_string(f)) / "x").string());
  CHECK(paths(files) == expected);  // f3 is listed by its real path; rows.txt by neither
  fs::remove_all(d);
}

namespace {

// Names that sort around a folder's "/": "sub-a" before "sub/x", "sub0" and "sub.x" after "sub-" but "sub0" after
// "sub/x" too ('-' < '.' < '/' < '0'), "B" before "_" before "a", "~" last.
const char* const kTricky[] = {"sub", "sub-a", "sub.x", "sub0", "a", "B", "_", "-", "0", "~"};

std::string tricky_name(std::mt19937& rng) {
  std::uniform_int_distribution<std::size_t> pick(0, std::size(kTricky) - 1);
  std::string name = kTricky[pick(rng)];
  if (rng() % 2 == 0) name += kTricky[pick(rng)];
  return name;
}

// Adds `files` files named from kTricky to folder, beside a few folders named so too (unless a file has the name).
void flat_folder(const fs::path& folder, std::mt19937& rng, int files) {
  std::error_code ec;
  for (int i = 0; i < files; ++i) {
    const fs::path p = folder / (tricky_name(rng) + (rng() % 3 == 0 ? "" : std::to_string(i)));
    if (!fs::is_directory(p, ec)) touch(p);
  }
  for (int i = 0; i < 6; ++i) {
    const fs::path sub = folder / tricky_name(rng);
    if (!fs::is_regular_file(sub, ec)) touch(sub / (tricky_name(rng) + std::to_string(i)));
  }
}

// A tree whose root and one of its folders are big flat folders of tricky names, with symlinks to a folder outside
// it and to one inside it (listed once, by its real path).
fs::path flat_tree(const std::string& name, std::mt19937& rng, int files) {
  fs::path d = fresh_dir(name);
  flat_folder(d / "in", rng, files);
  std::error_code ec;
  if (!fs::is_regular_file(d / "in" / "sub", ec)) flat_folder(d / "in" / "sub", rng, files / 2);
  touch(d / "outside" / "o.txt");
  fs::create_directory_symlink(d / "outside", d / "in" / "sub-link", ec);
  if (fs::is_directory(d / "in" / "sub")) fs::create_directory_symlink(d / "in" / "sub", d / "in" / "sub.back", ec);
  return d;
}

// What a walk reported: the frontier (empty with the end) and how many files it had found then.
struct Report {
  std::optional<std::string> frontier;
  std::size_t found;
};

}  // namespace

TEST_CASE("no path a walk finds after a frontier sorts before it, whatever the interval within a folder",
          "[listing_stream]") {
  std::mt19937 rng(5);
  for (int round = 0; round < 8; ++round) {
    fs::path d = flat_tree("frontier", rng, 50 + round * 80);
    for (std::size_t every : {1, 3, 256}) {
      prs::FileList files;
      std::vector<Report> reports;
      prs::input_detail::WalkFilter filter;
      filter.frontier_every = every;
      filter.frontier = [&](const std::string* f) {
        reports.push_back({f == nullptr ? std::nullopt : std::optional<std::string>(*f), files.size()});
      };
      prs::input_detail::walk_folder((d / "in").string(), {}, filter, files);
      std::vector<std::string> smallest_after(files.size() + 1, "\xff");  // the smallest path found from i on
      for (std::size_t i = files.size(); i-- > 0;)
        smallest_after[i] = std::min(smallest_after[i + 1], std::string(files.at(i)));
      for (const Report& r : reports) {
        if (r.frontier) REQUIRE(smallest_after[r.found] >= *r.frontier);
      }
      REQUIRE(!reports.back().frontier);
      REQUIRE(reports.back().found == files.size());
      if (every == 1) REQUIRE(reports.size() > files.size());  // one per entry, at least
    }
    fs::remove_all(d);
  }
}

TEST_CASE("a streamed listing of big flat folders with names around '/' is the whole listing", "[listing_stream]") {
  std::mt19937 rng(13);
  for (int round = 0; round < 4; ++round) {
    fs::path d = flat_tree("flat", rng, 300 + round * 500);
    const prs::JobConfig config = folder_job(d / "in");
    check_streamed_is_whole(config);
    fs::remove_all(d);
  }
}

TEST_CASE("a flat folder releases its first paths before the rest are stat()ed; whole with PER_FOLDER",
          "[listing_stream]") {
  fs::path d = fresh_dir("flat_early");
  for (int i = 999; i >= 0; --i) touch(d / "in" / ("f" + std::to_string(i)));  // "f0", "f1", "f10", "f100", ...
  const prs::JobConfig config = folder_job(d / "in");
  const std::vector<std::string> whole = paths(prs::list_input_files(config));
  ::setenv("PRS_TEST_LISTING_HOLD", (d / "gate").c_str(), 1);  // the walk pauses after its first release
  prs::FileList files;
  {
    prs::ListingStream stream(config, 1);
    CHECK_FALSE(stream.wait_for(1));
    CHECK_FALSE(stream.take(files));  // the 256 first entries, stat()ed in name order; the listing goes on
    CHECK(paths(files) == std::vector<std::string>(whole.begin(), whole.begin() + 256));
    touch(d / "gate");
    while (!stream.take(files)) stream.wait_for(files.size() + 1);
  }
  CHECK(paths(files) == whole);
  ::setenv("PRS_TEST_LISTING_PER_FOLDER", "1", 1);  // as before: the folder's paths only once it is read whole
  fs::remove(d / "gate");
  {
    prs::ListingStream stream(config, 1);
    CHECK(stream.wait_for(1));
    prs::FileList all;
    CHECK(stream.take(all));
    CHECK(paths(all) == whole);
  }
  ::unsetenv("PRS_TEST_LISTING_PER_FOLDER");
  ::unsetenv("PRS_TEST_LISTING_HOLD");
  fs::remove_all(d);
}

// The skipped paths and their problems, one "; PATH: PROBLEM" each.
std::string skipped_text(const prs::FileList& files) {
  std::string text;
  for (const prs::SkippedPath& s : files.skipped()) text += "; " + s.path + ": " + s.problem;
  return text;
}

TEST_CASE("an unreadable path in the middle of a flat folder: the paths before it, then the whole listing's "
          "error; skipped as the whole listing skips it", "[listing_stream]") {
  fs::path d = fresh_dir("flat_unreadable");
  char name[16];
  for (int i = 0; i < 1000; ++i) {
    std::snprintf(name, sizeof name, "f%04d", i);
    touch(d / "data" / name);
  }
  touch(d / "outside/locked/x");
  open_to_all(d);
  fs::permissions(d / "outside/locked", fs::perms::none);
  // a symlink it cannot follow (the 602nd entry, stat()ed after two frontiers of 256), then a folder it cannot
  // enter (met 602nd, entered once the folder is read: after the frontier "data/f0600.d/")
  for (const std::string bad : {"f0600.c", "f0600.d"}) {
    const bool symlink = bad == "f0600.c";
    if (symlink) fs::create_symlink(d / "outside/locked/x", d / "data" / bad);
    if (!symlink) fs::create_directory(d / "data" / bad);
    if (!symlink) fs::permissions(d / "data" / bad, fs::perms::none);
    prs::JobConfig config = folder_job(d / "data");
    prs::JobConfig skipping = config;
    skipping.skip_unreadable_inputs = true;
    const auto streamed = [&] {  // how many paths came before the error, whether they are the listing's first
      const std::vector<std::string> readable = paths(prs::list_input_files(skipping));
      std::string whole = "listed";
      try {
        prs::list_input_files(config);
      } catch (const prs::Error& e) {
        whole = e.what();
      }
      prs::ListingStream stream(config, 0);
      prs::FileList files;
      try {
        while (!stream.take(files)) stream.wait_for(files.size() + 1);
      } catch (const prs::Error& e) {
        const std::vector<std::string> got = paths(files);
        const bool first = got.size() <= readable.size() && std::equal(got.begin(), got.end(), readable.begin());
        return std::to_string(got.size()) + (first ? " first, " : " not first, ") +
               (e.what() == whole ? "the same error: " : "another error: ") + e.what();
      }
      return std::string("listed");
    };
    const auto skipped = [&] {  // the streamed listing skips what the whole listing skips, with the same text
      const prs::FileList whole = prs::list_input_files(skipping);
      const prs::FileList streamed = stream_all(skipping);
      return std::to_string(whole.size()) + (paths(whole) == paths(streamed) ? " same paths" : " other paths") +
             skipped_text(whole) + skipped_text(streamed);
    };
    const std::string path = (d / "data" / bad).string();
    const std::string problem = symlink ? "cannot follow the symlink: Permission denied"
                                        : "cannot list the input folder: Permission denied";
    CHECK(prs_test::as_normal_user(streamed) == (symlink ? "512" : "601") + std::string(" first, the same error: ") +
                                                    path + ": " + problem + prs::input_detail::skip_hint);
    CHECK(prs_test::as_normal_user(skipped) ==
          "1000 same paths; " + path + ": " + problem + "; " + path + ": " + problem);
    if (symlink) fs::remove(d / "data" / bad);
  }
  fs::permissions(d / "outside/locked", fs::perms::owner_all);
  fs::permissions(d / "data/f0600.d", fs::perms::owner_all);
  fs::remove_all(d);
}
