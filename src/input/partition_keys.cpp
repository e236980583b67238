// partition_keys: hive-style folder values and the sorted groups of items sharing them.
#include "prs/input/partition_keys.hpp"

#include <algorithm>

#include "prs/error.hpp"

namespace prs {

void KeyGrouper::add(const std::vector<std::string>& values, std::uint64_t item) {
  std::vector<std::uint64_t>& items = groups_[values];
  if (items.empty() || items.back() != item) items.push_back(item);  // callers add items in ascending order
}

KeyGroups KeyGrouper::take() {
  KeyGroups g;
  g.starts.push_back(0);
  for (auto& [values, items] : groups_) {
    g.values.push_back(values);
    g.items.insert(g.items.end(), items.begin(), items.end());
    g.starts.push_back(g.items.size());
  }
  groups_.clear();
  return g;
}

namespace {

// Calls found(key index, value) for every folder of path named KEY=VALUE, shallow to deep.
template <typename Found>
void each_hive_folder(std::string_view path, const std::vector<std::string>& keys, Found found) {
  const std::size_t last_slash = path.rfind('/');
  if (last_slash == std::string_view::npos) return;
  std::string_view folders = path.substr(0, last_slash);  // the file's own name is no folder
  for (std::size_t begin = 0; begin <= folders.size();) {
    std::size_t end = folders.find('/', begin);
    if (end == std::string_view::npos) end = folders.size();
    const std::string_view part = folders.substr(begin, end - begin);
    const std::size_t equals = part.find('=');
    if (equals != std::string_view::npos) {
      for (std::size_t k = 0; k < keys.size(); ++k)
        if (part.substr(0, equals) == keys[k]) found(k, part.substr(equals + 1));
    }
    begin = end + 1;
  }
}

}  // namespace

std::vector<std::string> hive_values(std::string_view path, const std::vector<std::string>& keys,
                                     const std::string& location) {
  std::vector<std::string> values(keys.size());
  std::vector<bool> seen(keys.size(), false);
  each_hive_folder(path, keys, [&](std::size_t k, std::string_view value) {
    values[k] = std::string(value);
    seen[k] = true;
  });
  for (std::size_t k = 0; k < keys.size(); ++k)
    if (!seen[k])
      throw Error(location + ": " + std::string(path) + ": no folder " + keys[k] +
                  "=VALUE in its path for the partition key " + keys[k] +
                  "; every input file must lie below a folder KEY=VALUE for every key (hive style)");
  return values;
}

bool has_hive_key(std::string_view path, const std::vector<std::string>& keys) {
  bool any = false;
  each_hive_folder(path, keys, [&any](std::size_t, std::string_view) { any = true; });
  return any;
}

KeyGroups group_files_by_folders(const FileList& files, const std::vector<std::string>& keys,
                                 const std::string& location) {
  KeyGrouper grouper;
  for (std::size_t i = 0; i < files.size(); ++i) grouper.add(hive_values(files.at(i), keys, location), i);
  return grouper.take();
}

GroupedFiles reorder_by_groups(const FileList& files, const KeyGroups& groups) {
  GroupedFiles out;
  for (std::uint64_t item : groups.items) out.files.add(files.at(item));
  for (const SkippedPath& skipped : files.skipped()) out.files.add_skipped(skipped.path, skipped.problem);
  out.starts = groups.starts;
  return out;
}

std::string key_text(const std::vector<std::string>& keys, const std::vector<std::string>& values) {
  std::string text;
  for (std::size_t k = 0; k < keys.size() && k < values.size(); ++k)
    text += (k == 0 ? "" : ", ") + keys[k] + "=" + values[k];
  return text;
}

}  // namespace prs
