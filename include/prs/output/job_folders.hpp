#pragma once
// The folders a job creates for its output and logs, and their removal when the job is refused before it wrote
// anything. Two jobs may start at the same moment on the same output (the job lock lets one run): each knows only
// the folders its own mkdir created, and a job refused after another one ran in a folder it created removes no file
// but its own (remove_job_folder), so that the other job's output and logs stay.
#include <string>
#include <vector>

namespace prs {

// Creates dir and every missing folder above it; returns the topmost one this call's own mkdir created ("" when
// none: dir existed, or another process created the same folders first). Throws prs::Error
// "<dir>: cannot create the folder: <reason>".
std::string create_job_folder(const std::string& dir);

// Removes `ours` (files this job made, such as its lock file; missing ones are fine), then every folder below and
// including `folder` that is then empty, deepest first. A folder holding anything else stays, with what it holds.
// Returns the folders that stayed (empty when the whole tree went).
std::vector<std::string> remove_job_folder(const std::string& folder, const std::vector<std::string>& ours);

}  // namespace prs
