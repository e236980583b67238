#pragma once
// The one way prs_mpi writes JSON (job_summary.json; later the trace and a richer summary): nlohmann/json documents
// whose keys keep the order they are set in, turned into text in one place that decides what happens to bytes.
#include <nlohmann/json.hpp>
#include <string>

namespace prs {

// A JSON document whose object keys keep their insertion order, so a file reads in the order it was built.
using Json = nlohmann::ordered_json;

// The document as text indented by two spaces, with a final newline; never throws on invalid UTF-8 (see the .cpp).
std::string json_text(const Json& document);

}  // namespace prs
