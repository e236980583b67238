// The collective index pass: the cut plan broadcast, cuts scanned in shares, small results gathered on rank 0.
#include "prs/input/index_pass.hpp"

#include "prs/error.hpp"
#include "prs/mpi/byte_codec.hpp"
#include "prs/mpi/mpi_comm.hpp"

namespace prs {
namespace {

// What every rank scans with: the reader's scanning options, the query and the plan's files and cuts.
struct Request {
  TableReader reader;
  IndexQuery query;
  TablePlan plan;
};

std::string encode_request(const IndexJob& job, const TablePlan& plan) {
  ByteWriter w;
  w.put<std::uint8_t>(static_cast<std::uint8_t>(job.reader.format)).put(job.reader.delimiter).put(job.reader.encoding);
  w.put<std::uint8_t>(job.reader.drop_invalid_lines).put(job.query.row_size).put<std::uint64_t>(job.query.keys.size());
  for (const std::string& key : job.query.keys) w.put(key);
  w.put<std::uint64_t>(job.query.columns.size());
  for (const auto& file : job.query.columns)
    for (std::int64_t c : file) w.put(c);  // keys.size() each
  w.put<std::uint64_t>(plan.files.size());
  for (const TableFile& f : plan.files) w.put(f.path).put(f.size);
  w.put<std::uint64_t>(plan.batches.size());
  for (const TableCut& c : plan.batches) w.put(c.file).put(c.offset).put(c.length);
  return w.take();
}

Request decode_request(const std::string& bytes) {
  ByteReader r(bytes, "index pass");
  Request q;
  q.reader.format = static_cast<TableFormat>(r.get<std::uint8_t>());
  q.reader.delimiter = r.get<char>();
  q.reader.encoding = r.get_string();
  q.reader.drop_invalid_lines = r.get<std::uint8_t>() != 0;
  q.query.row_size = r.get<std::uint64_t>();
  q.query.keys.resize(r.get<std::uint64_t>());
  for (std::string& key : q.query.keys) key = r.get_string();
  q.query.columns.resize(r.get<std::uint64_t>());
  for (auto& file : q.query.columns)
    for (std::size_t k = 0; k < q.query.keys.size(); ++k) file.push_back(r.get<std::int64_t>());
  q.plan.files.resize(r.get<std::uint64_t>());
  for (TableFile& f : q.plan.files) {
    f.path = r.get_string();
    f.size = r.get<std::uint64_t>();
  }
  q.plan.batches.resize(r.get<std::uint64_t>());
  for (TableCut& c : q.plan.batches) {
    c.file = r.get<std::uint32_t>();
    c.offset = r.get<std::uint64_t>();
    c.length = r.get<std::uint64_t>();
  }
  r.done();
  return q;
}

// The cuts [first, last) a rank scans: contiguous shares for the workers, none for rank 0 unless it is alone.
std::pair<std::uint64_t, std::uint64_t> share(std::uint64_t cuts, int rank, int size) {
  if (size <= 1) return {0, cuts};
  if (rank == 0) return {0, 0};
  const auto workers = static_cast<std::uint64_t>(size - 1), r = static_cast<std::uint64_t>(rank - 1);
  return {cuts / workers * r + std::min(r, cuts % workers), cuts / workers * (r + 1) + std::min(r + 1, cuts % workers)};
}

// A share's result: ok + payload, or the error its scan met.
template <typename Scan>
std::string guarded(Scan scan) {
  ByteWriter w;
  try {
    std::string payload = scan();
    return w.put<std::uint8_t>(1).put(payload).take();
  } catch (const std::exception& e) {
    return w.put<std::uint8_t>(0).put(std::string(e.what())).take();
  }
}

// The payloads of every share in rank order; throws prs::Error with the first share's error.
std::vector<std::string> payloads(const std::vector<std::string>& results) {
  std::vector<std::string> out;
  for (const std::string& result : results) {
    ByteReader r(result, "index pass");
    const bool ok = r.get<std::uint8_t>() != 0;
    std::string text = r.get_string();
    if (!ok) throw Error(text);
    out.push_back(std::move(text));
  }
  return out;
}

std::string scan_keys(const Request& q, std::uint64_t first, std::uint64_t last) {
  ByteWriter w;
  for (std::uint64_t cut = first; cut < last; ++cut) {
    const CutKeys keys = cut_keys(q.plan, q.reader, q.query, cut);
    w.put<std::uint64_t>(keys.tuples.size());
    for (const auto& tuple : keys.tuples)
      for (const std::string& value : tuple) w.put(value);
    for (bool seen : keys.seen) w.put<std::uint8_t>(seen);
  }
  return w.take();
}

std::vector<CutKeys> read_keys(const std::vector<std::string>& shares, std::size_t keys, bool json) {
  std::vector<CutKeys> out;
  for (const std::string& payload : shares) {
    ByteReader r(payload, "index pass");
    while (r.left() > 0) {
      CutKeys cut;
      cut.tuples.resize(r.get<std::uint64_t>());
      for (auto& tuple : cut.tuples)
        for (std::size_t k = 0; k < keys; ++k) tuple.push_back(r.get_string());
      for (std::size_t k = 0; k < keys; ++k) cut.seen.push_back(r.get<std::uint8_t>() != 0);
      if (!json) cut.seen.clear();
      out.push_back(std::move(cut));
    }
  }
  return out;
}

std::string scan_counts(const Request& q, std::uint64_t first, std::uint64_t last) {
  ByteWriter w;
  for (std::uint64_t cut = first; cut < last; ++cut) w.put(cut_record_count(q.plan, q.reader, cut));
  return w.take();
}

std::vector<std::uint64_t> read_numbers(const std::vector<std::string>& shares) {
  std::vector<std::uint64_t> out;
  for (const std::string& payload : shares) {
    ByteReader r(payload, "index pass");
    while (r.left() > 0) out.push_back(r.get<std::uint64_t>());
  }
  return out;
}

// The number in its file of each cut's first record: a prefix sum of the counts, restarting at each file.
std::vector<std::uint64_t> first_records(const TablePlan& plan, const std::vector<std::uint64_t>& counts) {
  std::vector<std::uint64_t> firsts(counts.size(), 0);
  for (std::size_t c = 1; c < counts.size(); ++c)
    if (plan.batches[c].file == plan.batches[c - 1].file) firsts[c] = firsts[c - 1] + counts[c - 1];
  return firsts;
}

std::string scan_starts(const Request& q, const std::vector<std::uint64_t>& firsts, std::uint64_t first,
                        std::uint64_t last) {
  ByteWriter w;
  for (std::uint64_t cut = first; cut < last; ++cut) {
    const auto starts = cut_row_starts(q.plan, q.reader, cut, firsts.at(cut), q.query.row_size);
    w.put<std::uint64_t>(starts.size());
    for (std::uint64_t s : starts) w.put(s);
  }
  return w.take();
}

std::vector<std::vector<std::uint64_t>> read_starts(const std::vector<std::string>& shares) {
  std::vector<std::vector<std::uint64_t>> out;
  for (const std::string& payload : shares) {
    ByteReader r(payload, "index pass");
    while (r.left() > 0) {
      std::vector<std::uint64_t> starts(r.get<std::uint64_t>());
      for (std::uint64_t& s : starts) s = r.get<std::uint64_t>();
      out.push_back(std::move(starts));
    }
  }
  return out;
}

// The first record numbers rank 0 broadcast, or nullopt when it broadcast an error.
std::optional<std::vector<std::uint64_t>> firsts_of(const std::string& result) {
  ByteReader r(result, "index pass");
  if (r.get<std::uint8_t>() == 0) return std::nullopt;
  return read_numbers({r.get_string()});
}

std::string error_of(const std::string& result) {
  ByteReader r(result, "index pass");
  r.get<std::uint8_t>();
  return r.get_string();
}

// Moves the results between the ranks: gathered on rank 0 and broadcast from it, or kept on one process.
struct Exchange {
  bool mpi = false;
  int rank = 0;
  int size = 1;
  std::vector<std::string> gather(const std::string& mine) const { return mpi ? gather_strings(mine) : std::vector{mine}; }
  std::string broadcast(const std::string& text) const { return mpi ? broadcast_string(text) : text; }
};

// The pass itself, the same for MPI and one process. Rank 0 gets the plan; every rank follows the same steps.
std::string index_pass(const Exchange& x, const std::string& request, const IndexJob* job, TablePlan* plan) {
  const Request q = decode_request(request);
  const auto [first, last] = share(q.plan.batches.size(), x.rank, x.size);
  if (q.query.row_size == 0) {
    const auto shares = x.gather(guarded([&] { return scan_keys(q, first, last); }));
    if (x.rank != 0) return "";
    try {
      const auto keys = read_keys(payloads(shares), q.query.keys.size(), q.reader.format == TableFormat::json_lines);
      group_by_keys(*plan, q.query.keys, keys, job->location);
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  }
  const auto counts = x.gather(guarded([&] { return scan_counts(q, first, last); }));
  std::string firsts_text;  // rank 0: ok + every cut's first record number, or the error
  if (x.rank == 0) firsts_text = guarded([&] {
    ByteWriter w;
    for (std::uint64_t n : first_records(q.plan, read_numbers(payloads(counts)))) w.put(n);
    return w.take();
  });
  const auto firsts = firsts_of(x.broadcast(firsts_text));
  if (!firsts) return x.rank == 0 ? error_of(firsts_text) : "";
  const auto starts = x.gather(guarded([&] { return scan_starts(q, *firsts, first, last); }));
  if (x.rank != 0) return "";
  try {
    cut_by_rows(*plan, read_starts(payloads(starts)));
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

std::string run_index_pass(const std::optional<IndexJob>& job, TablePlan* plan) {
  Exchange x;
  x.mpi = true;
  x.rank = world_rank();
  x.size = world_size();
  const std::string request = x.broadcast(x.rank == 0 && job ? encode_request(*job, *plan) : std::string());
  if (request.empty()) return "";
  return index_pass(x, request, job ? &*job : nullptr, plan);
}

void run_index_serial(const IndexJob& job, TablePlan& plan) {
  const std::string error = index_pass(Exchange{}, encode_request(job, plan), &job, &plan);
  if (!error.empty()) throw Error(error);
}

}  // namespace prs
