// Tests of POSIX shell word splitting (quote removal only, no expansion).
#include <catch2/catch.hpp>

#include "prs/config/shell_split.hpp"
#include "prs/error.hpp"

using Words = std::vector<std::string>;

namespace {

std::string error_of(const std::string& text) {
  try {
    prs::shell_split(text);
  } catch (const prs::Error& e) {
    return e.what();
  }
  FAIL("expected a prs::Error for: " << text);
  return "";
}

}  // namespace

TEST_CASE("shell_split splits on spaces, tabs and newlines", "[shell_split]") {
  CHECK(prs::shell_split("") == Words{});
  CHECK(prs::shell_split("   \t\n ") == Words{});
  CHECK(prs::shell_split("--model /m --error_threshold 5") == Words{"--model", "/m", "--error_threshold", "5"});
  CHECK(prs::shell_split("  a \t b\n\nc  ") == Words{"a", "b", "c"});
  CHECK(prs::shell_split("a\r\nb") == Words{"a", "b"});
}

TEST_CASE("shell_split keeps single-quoted text literally", "[shell_split]") {
  CHECK(prs::shell_split("--name 'hello world'") == Words{"--name", "hello world"});
  CHECK(prs::shell_split(R"('a\b "c" $HOME')") == Words{R"(a\b "c" $HOME)"});
  CHECK(prs::shell_split("'line\nbreak'") == Words{"line\nbreak"});
}

TEST_CASE("shell_split honours double quotes and their four escapes", "[shell_split]") {
  CHECK(prs::shell_split(R"(--sep "a b")") == Words{"--sep", "a b"});
  CHECK(prs::shell_split(R"("say \"hi\"")") == Words{R"(say "hi")"});
  CHECK(prs::shell_split(R"("\\ \$ \`")") == Words{R"(\ $ `)"});
  CHECK(prs::shell_split(R"("\n \a")") == Words{R"(\n \a)"});  // other backslashes stay
  CHECK(prs::shell_split("\"it's\"") == Words{"it's"});
  CHECK(prs::shell_split("\"one\\\ntwo\"") == Words{"onetwo"});  // backslash-newline joins lines
}

TEST_CASE("shell_split: a backslash outside quotes escapes the next character", "[shell_split]") {
  CHECK(prs::shell_split(R"(a\ b c)") == Words{"a b", "c"});
  CHECK(prs::shell_split(R"(\'x\")") == Words{"'x\""});
  CHECK(prs::shell_split(R"(a\\b)") == Words{R"(a\b)"});
  CHECK(prs::shell_split("a\\\nb") == Words{"ab"});  // line continuation
}

TEST_CASE("shell_split joins adjacent quoted parts and keeps empty quoted words", "[shell_split]") {
  CHECK(prs::shell_split(R"(a'b c'"d e"f)") == Words{"ab cd ef"});
  CHECK(prs::shell_split(R"(--prefix '' --suffix "")") == Words{"--prefix", "", "--suffix", ""});
  CHECK(prs::shell_split(R"(--x='1 2')") == Words{"--x=1 2"});
}

TEST_CASE("shell_split expands nothing and treats shell operators as text", "[shell_split]") {
  CHECK(prs::shell_split("$HOME ~ *.csv $(rm -rf /) a;b | c && d # e") ==
        Words{"$HOME", "~", "*.csv", "$(rm", "-rf", "/)", "a;b", "|", "c", "&&", "d", "#", "e"});
}

TEST_CASE("shell_split rejects unterminated quotes and a trailing backslash", "[shell_split]") {
  CHECK(error_of("--a 'b c") == "unterminated single quote (') at character 5 of: --a 'b c");
  CHECK(error_of(R"(--a "b c)") == R"(unterminated double quote (") at character 5 of: --a "b c)");
  CHECK(error_of(R"("a \")") == R"(unterminated double quote (") at character 1 of: "a \")");
  CHECK(error_of(R"(--a b\)") == R"(trailing backslash (\) at the end of: --a b\)");
}
