#include <catch2/catch.hpp>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "normal_user.hpp"
#include "prs/error.hpp"
#include "prs/input/file_list.hpp"
#include "prs/input/listing_stream.hpp"
#include "prs/input/partition.hpp"

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("prs_test_listing_stream_" + name + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

void touch(const fs::path& p) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << "x";
}

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

// Makes a tree readable by anyone (the permission test runs its listings as nobody).
void open_to_all(const fs::path& d) {
  fs::permissions(d, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec | fs::perms::others_read |
                         fs::perms::others_exec);
  for (const auto& entry : fs::recursive_directory_iterator(d)) {
    if (entry.is_symlink()) continue;
    fs::permissions(entry.path(), fs::perms::group_read | fs::perms::others_read |
                                      (entry.is_directory() ? fs::perms::group_exec | fs::perms::others_exec
                                                            : fs::perms::none),
                    fs::perm_options::add);
  }
}

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

}  // namespace

TEST_CASE("a streamed listing releases the whole listing's paths and stamps, in its order", "[listing_stream]") {
  std::mt19937 rng(11);
  for (int round = 0; round < 20; ++round) {
    fs::path d = random_tree("random", rng, 1 + round * 7);
    const prs::JobConfig config = folder_job(d / "in");
    const prs::FileList whole = prs::list_input_files(config);
    const prs::FileList streamed = stream_all(config);
    REQUIRE(paths(streamed) == paths(whole));
    for (std::size_t i = 0; i < whole.size(); ++i) {
      CHECK(streamed.stamp(i).size == whole.stamp(i).size);
      CHECK(streamed.stamp(i).mtime_ns == whole.stamp(i).mtime_ns);
    }
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
