#include "prs/logs/json_text.hpp"

namespace prs {

std::string json_text(const Json& document) {
  // Host names, paths and reasons are bytes, not always UTF-8. nlohmann's default (error_handler_t::strict) throws
  // type_error.316 on invalid UTF-8; error_handler_t::replace writes U+FFFD in place of each invalid byte instead,
  // so a log is always written and always parses. The exact bytes stay in the text logs (job_result.txt).
  // Valid UTF-8 is written as it is (ensure_ascii = false); quotes, backslashes and control bytes are escaped.
  return document.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

}  // namespace prs
