#include <catch2/catch.hpp>

#include "prs/error.hpp"
#include "prs/mpi/mpi_comm.hpp"
#include "prs/mpi/protocol.hpp"

using namespace prs;

TEST_CASE("a task survives encoding with its items", "[protocol]") {
  TaskMsg t{42, 7, 3, {"/a/b c.png", "", std::string("nul\0inside", 10)}, false, {}};
  TaskMsg back = decode_task(encode(t));
  CHECK(back.batch_id == 42);
  CHECK(back.attempt_id == 7);
  CHECK(back.attempt == 3);
  CHECK(back.items == t.items);
  CHECK_FALSE(back.is_table);
}

TEST_CASE("a tabular task survives encoding with its byte ranges, headers and keys", "[protocol]") {
  TaskMsg t{5, 6, 1, {}, true, {}};
  t.table.ranges = {TableRange{"/d/part 1.csv", 1048577, 1048600, "/d/part 0.csv", 3, 17},
                    TableRange{"/d/part 2.csv", 0, 9, "", 0, 0}};
  t.table.key_use = KeyUse::keep_rows;
  t.table.key_names = {"Store", "Brand"};
  t.table.key_values = {"1001", std::string("tropi\0cana", 10)};
  TaskMsg back = decode_task(encode(t));
  REQUIRE(back.is_table);
  CHECK(back.items.empty());
  REQUIRE(back.table.ranges.size() == 2);
  const TableRange& first = back.table.ranges[0];
  CHECK(first.path == "/d/part 1.csv");
  CHECK(first.offset == 1048577);
  CHECK(first.length == 1048600);
  CHECK(first.header_path == "/d/part 0.csv");
  CHECK(first.header_offset == 3);
  CHECK(first.header_length == 17);
  CHECK(back.table.ranges[1].path == "/d/part 2.csv");
  CHECK(back.table.ranges[1].length == 9);
  CHECK(back.table.ranges[1].header_path.empty());
  CHECK(back.table.key_use == KeyUse::keep_rows);
  CHECK(back.table.key_names == t.table.key_names);
  CHECK(back.table.key_values == t.table.key_values);
}

TEST_CASE("a result survives encoding", "[protocol]") {
  ResultMsg r;
  r.attempt_id = 9;
  r.status = AttemptStatus::timed_out;
  r.returned = 12;
  r.successes = 10;
  r.row_bytes = 345;
  r.header_bytes = 6;
  r.seconds = 1.25;
  r.error = "Traceback...\nTimeoutError: run() exceeded the timeout of 1 s\n";
  ResultMsg back = decode_result(encode(r));
  CHECK(back.attempt_id == 9);
  CHECK(back.status == AttemptStatus::timed_out);
  CHECK(back.returned == 12);
  CHECK(back.successes == 10);
  CHECK(back.row_bytes == 345);
  CHECK(back.header_bytes == 6);
  CHECK(back.seconds == 1.25);
  CHECK(back.error == r.error);
  CHECK(back.rows == kNoRows);
  r.rows = 1234;
  CHECK(decode_result(encode(r)).rows == 1234);
}

TEST_CASE("ready, init_failed, commit and attempt messages survive encoding", "[protocol]") {
  ReadyMsg ready = decode_ready(encode(ReadyMsg{"node-7", true}));
  CHECK(ready.host == "node-7");
  CHECK(ready.idle);
  ReadyMsg timed = decode_ready(encode(ReadyMsg{"n2", false, 42, 0.75, 1.5}));
  CHECK(timed.pid == 42);
  CHECK(timed.init_seconds == 0.75);
  CHECK(timed.ready_for == 1.5);
  InitFailedMsg failed = decode_init_failed(encode(InitFailedMsg{"n1", "ImportError: no model"}));
  CHECK(failed.host == "n1");
  CHECK(failed.traceback == "ImportError: no model");
  CommitMsg c = decode_commit(encode(CommitMsg{5, 1ull << 40, true}));
  CHECK(c.attempt_id == 5);
  CHECK(c.offset == 1ull << 40);
  CHECK(c.with_header);
  CHECK(decode_attempt(encode(AttemptMsg{77})).attempt_id == 77);
  WrittenMsg w = decode_written(encode(WrittenMsg{78, 0xE3069283u}));
  CHECK(w.attempt_id == 78);
  CHECK(w.checksum == 0xE3069283u);
  CHECK_THROWS_WITH(decode_written(encode(AttemptMsg{78})), "protocol: truncated message");
}

TEST_CASE("truncated and oversized messages are refused", "[protocol]") {
  std::string bytes = encode(TaskMsg{1, 2, 1, {"x", "y"}, false, {}});
  CHECK_THROWS_WITH(decode_task(bytes.substr(0, bytes.size() - 1)), "protocol: truncated message");
  CHECK_THROWS_WITH(decode_attempt(bytes), Catch::Contains("extra bytes"));
}

TEST_CASE("a slow MPI_Init gets one hint unless the transports were chosen", "[protocol]") {
  unsetenv("OMPI_MCA_pml");
  unsetenv("OMPI_MCA_mtl");
  unsetenv("OMPI_MCA_btl");
  CHECK(slow_init_hint(0.15) == "");
  CHECK(slow_init_hint(0.29) ==
        "prs_mpi: note: MPI_Init took 0.29 s; without InfiniBand or Omni-Path, OMPI_MCA_pml=ob1 (or "
        "OMPI_MCA_mtl=^psm,psm2,ofi) skips probing for them (docs/user_guide.md, Performance)");
  setenv("OMPI_MCA_pml", "ob1", 1);
  CHECK(slow_init_hint(0.29) == "");
  unsetenv("OMPI_MCA_pml");
}
