// Splitting program_arguments the way a POSIX shell would (quote removal only, no expansion, no shell run).
#include "prs/config/shell_split.hpp"

#include "prs/error.hpp"

namespace prs {
namespace {

// Space, tab and newline separate words (YAML's folded `>-` strings may still hold newlines); so does a stray CR.
bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// Inside double quotes a backslash only escapes these (POSIX); elsewhere it stays.
bool escapable_in_double_quotes(char c) { return c == '$' || c == '`' || c == '"' || c == '\\' || c == '\n'; }

// Reads a '...' quote starting at text[i] == '\''; returns the index after the closing quote.
std::size_t read_single_quoted(const std::string& text, std::size_t i, std::string& word) {
  const std::size_t close = text.find('\'', i + 1);
  if (close == std::string::npos) {
    throw Error("unterminated single quote (') at character " + std::to_string(i + 1) + " of: " + text);
  }
  word.append(text, i + 1, close - i - 1);
  return close + 1;
}

// Reads a "..." quote starting at text[i] == '"'; returns the index after the closing quote.
std::size_t read_double_quoted(const std::string& text, std::size_t i, std::string& word) {
  const std::size_t open = i;
  for (++i; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '"') return i + 1;
    if (c == '\\' && i + 1 < text.size() && escapable_in_double_quotes(text[i + 1])) {
      if (text[i + 1] != '\n') word += text[i + 1];  // backslash-newline is a line continuation
      ++i;
    } else {
      word += c;
    }
  }
  throw Error("unterminated double quote (\") at character " + std::to_string(open + 1) + " of: " + text);
}

}  // namespace

std::vector<std::string> shell_split(const std::string& text) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;  // distinguishes an empty quoted word ('') from no word at all
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (is_blank(c)) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 == text.size()) throw Error("trailing backslash (\\) at the end of: " + text);
      if (text[i + 1] != '\n') {  // backslash-newline joins lines and is removed
        word += text[i + 1];
        in_word = true;
      }
      i += 2;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      i = read_single_quoted(text, i, word);
    } else if (c == '"') {
      i = read_double_quoted(text, i, word);
    } else {
      word += c;
      ++i;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

}  // namespace prs
