#pragma once
// Splitting program_arguments the way a POSIX shell would, without ever running a shell.
#include <string>
#include <vector>

namespace prs {

// Splits words on blanks, honouring 'single quotes', "double quotes" (with \" \\ \$ \` escapes) and backslashes;
// no expansion of any kind. Throws prs::Error on an unterminated quote or a trailing backslash.
std::vector<std::string> shell_split(const std::string& text);

}  // namespace prs
