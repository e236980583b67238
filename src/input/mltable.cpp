// The MLTable file of a `type: mltable` input: paths and one read transformation, checked key by key.
#include "prs/input/mltable.hpp"

#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "prs/error.hpp"

namespace fs = std::filesystem;

namespace prs {
namespace {

constexpr const char* kSupported =
    "supported: read_delimited, read_json_lines, read_hdf5, or paths without a transformation (a file list)";

// "/abs/MLTable:7: transformations[0].read_delimited.header"
struct Where {
  std::string file;
  std::string at(const YAML::Node& node, const std::string& key) const {
    return file + ":" + std::to_string(node.Mark().line + 1) + ": " + key;
  }
};

[[noreturn]] void fail(const Where& w, const YAML::Node& node, const std::string& key, const std::string& what) {
  throw Error(w.at(node, key) + ": " + what);
}

std::string scalar(const Where& w, const YAML::Node& node, const std::string& key) {
  if (!node.IsScalar()) fail(w, node, key, "must be a single value");
  return node.Scalar();
}

bool boolean(const Where& w, const YAML::Node& node, const std::string& key) {
  const std::string text = scalar(w, node, key);
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  fail(w, node, key, "must be true or false, got " + text);
}

HeaderMode header_mode(const Where& w, const YAML::Node& node, const std::string& key) {
  const std::string text = scalar(w, node, key);
  if (text == "no_header") return HeaderMode::no_header;
  if (text == "from_first_file") return HeaderMode::from_first_file;
  if (text == "all_files_same_headers") return HeaderMode::all_files_same_headers;
  if (text == "all_files_different_headers") return HeaderMode::all_files_different_headers;
  fail(w, node, key,
       "must be no_header, from_first_file, all_files_same_headers or all_files_different_headers, got " + text);
}

std::string encoding(const Where& w, const YAML::Node& node, const std::string& key) {
  std::string text = scalar(w, node, key);
  if (text == "iso88591") text = "latin1";
  for (const char* known : {"utf8", "utf8bom", "ascii", "latin1", "windows1252", "utf16"})
    if (text == known) return text;
  fail(w, node, key, "must be utf8, utf8bom, ascii, latin1 (iso88591), windows1252 or utf16, got " + text);
}

// The pandas dtype names read_delimited's dtype takes (what read_csv's dtype= accepts and a job can spell).
constexpr const char* kDtypes[] = {"str", "string", "object", "bool", "boolean", "category", "int8", "int16",
                                   "int32", "int64", "uint8", "uint16", "uint32", "uint64", "Int8", "Int16",
                                   "Int32", "Int64", "UInt8", "UInt16", "UInt32", "UInt64", "float32", "float64",
                                   "Float32", "Float64"};

// dtype: {column: type}, passed to pandas.read_csv as is (converters, being Python functions, cannot be written
// in YAML: an entry script converts its DataFrame itself).
void read_dtype(const Where& w, const YAML::Node& node, const std::string& key, TableReader& r) {
  if (!node.IsMap() || node.size() == 0) fail(w, node, key, "must be a mapping of column: type, e.g. {id: Int64}");
  for (const auto& entry : node) {
    const std::string column = entry.first.as<std::string>();
    const std::string type = scalar(w, entry.second, key + "." + column);
    bool known = false;
    for (const char* name : kDtypes) known = known || type == name;
    if (!known)
      fail(w, entry.second, key + "." + column,
           "must be a pandas dtype: str, string, object, bool, boolean, category, int8..int64, uint8..uint64, "
           "Int8..Int64 (nullable), UInt8..UInt64, float32, float64, Float32 or Float64, got " + type);
    r.dtype.emplace_back(column, type);
  }
}

// Calls each(name, at, name_node, value) for every option of a transformation ("read_delimited.header" is the at
// of option header); none, or null, is no option.
template <typename Each>
void for_each_option(const Where& w, const YAML::Node& options, const std::string& key, Each each) {
  if (!options || options.IsNull()) return;
  if (!options.IsMap()) fail(w, options, key, "must be a mapping of options");
  for (const auto& option : options) {
    const std::string name = option.first.as<std::string>();
    each(name, key + "." + name, option.first, option.second);
  }
}

void read_delimited(const Where& w, const YAML::Node& options, const std::string& key, TableReader& r) {
  r.format = TableFormat::delimited;
  for_each_option(w, options, key, [&](const std::string& name, const std::string& at, const YAML::Node& name_node,
                                       const YAML::Node& value) {
    if (name == "delimiter") {
      const std::string d = scalar(w, value, at);
      if (d.size() != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r')
        fail(w, value, at, "must be one character other than a quote or a newline, got " + d);
      r.delimiter = d[0];
    } else if (name == "header") {
      r.header = header_mode(w, value, at);
    } else if (name == "encoding") {
      r.encoding = encoding(w, value, at);
    } else if (name == "empty_as_string") {
      r.empty_as_string = boolean(w, value, at);
    } else if (name == "include_path_column") {
      r.include_path_column = boolean(w, value, at);
    } else if (name == "support_multi_line") {
      r.support_multi_line = boolean(w, value, at);
    } else if (name == "infer_column_types") {
      r.infer_column_types = boolean(w, value, at);
    } else if (name == "dtype") {
      read_dtype(w, value, at, r);
    } else if (name == "converters") {
      fail(w, name_node, at,
           "is not supported: converters are Python functions, which YAML cannot hold; pin a column's type with "
           "dtype: {column: type} and convert further in run()");
    } else {
      fail(w, name_node, at,
           "unknown option; read_delimited takes delimiter, header, encoding, empty_as_string, "
           "include_path_column, support_multi_line, infer_column_types, dtype");
    }
  });
}

void read_json_lines(const Where& w, const YAML::Node& options, const std::string& key, TableReader& r) {
  r.format = TableFormat::json_lines;
  for_each_option(w, options, key, [&](const std::string& name, const std::string& at, const YAML::Node& name_node,
                                       const YAML::Node& value) {
    if (name == "invalid_lines") {
      const std::string text = scalar(w, value, at);
      if (text != "error" && text != "drop") fail(w, value, at, "must be error or drop, got " + text);
      r.drop_invalid_lines = text == "drop";
    } else if (name == "encoding") {
      r.encoding = encoding(w, value, at);
      if (r.encoding == "utf16") fail(w, value, at, "utf16 is read for read_delimited only, got utf16");
    } else if (name == "include_path_column") {
      r.include_path_column = boolean(w, value, at);
    } else {
      fail(w, name_node, at, "unknown option; read_json_lines takes invalid_lines, encoding, include_path_column");
    }
  });
}

// An HDF5 path as given ("/group/data" or "group/data"), checked: it names an object below the root.
std::string hdf5_path(const Where& w, const YAML::Node& node, const std::string& key) {
  std::string path = scalar(w, node, key);
  if (path.empty() || path.find_first_not_of('/') == std::string::npos)
    fail(w, node, key, "must name a dataset such as /group/data, got " + (path.empty() ? "\"\"" : path));
  return path.front() == '/' ? path : "/" + path;
}

// read_hdf5 (our extension): {dataset: /path} (a compound, 2-D or 1-D dataset) or {columns: [/a, /b, ...]}.
void read_hdf5(const Where& w, const YAML::Node& step, const YAML::Node& options, TableReader& r) {
  r.format = TableFormat::hdf5;
  const char* usage = "takes dataset: /path (a compound, 2-D or 1-D dataset) or columns: [/a, /b] (1-D datasets)";
  if (!options || !options.IsMap()) fail(w, step, "read_hdf5", std::string(usage) + ", got no options");
  for (const auto& option : options) {
    const std::string name = option.first.as<std::string>();
    const std::string at = "read_hdf5." + name;
    const YAML::Node& value = option.second;
    if (name == "dataset") {
      r.hdf5_dataset = hdf5_path(w, value, at);
      r.hdf5_where = w.at(value, at);
    } else if (name == "columns") {
      if (!value.IsSequence() || value.size() == 0) fail(w, value, at, "must be a non-empty list such as [/a, /b]");
      std::vector<std::string> names;
      for (std::size_t i = 0; i < value.size(); ++i) {
        const std::string path = hdf5_path(w, value[i], at + "[" + std::to_string(i) + "]");
        for (std::size_t j = 0; j < names.size(); ++j)
          if (names[j] == hdf5_column_name(path))
            fail(w, value[i], at, "two columns would be named " + names[j] + ", got " + r.hdf5_columns[j] +
                                      " and " + path);
        names.push_back(hdf5_column_name(path));
        r.hdf5_columns.push_back(path);
      }
      r.hdf5_where = w.at(value, at);
    } else {
      fail(w, option.first, at, std::string("unknown option; read_hdf5 ") + usage);
    }
  }
  if (r.hdf5_dataset.empty() == r.hdf5_columns.empty())
    fail(w, options, "read_hdf5", std::string(usage) + "; give one of them, got " +
                                      (r.hdf5_dataset.empty() ? "neither" : "both"));
}

// One transformation: "read_delimited" or {read_delimited: {...}}; anything else names itself.
void read_transformation(const Where& w, const YAML::Node& step, const std::string& key, TableReader& r) {
  std::string name;
  YAML::Node options;
  if (step.IsScalar()) {
    name = step.Scalar();
  } else if (step.IsMap() && step.size() == 1) {
    name = step.begin()->first.as<std::string>();
    options = step.begin()->second;
  } else {
    fail(w, step, key, "must be one transformation such as read_delimited: {delimiter: ','}");
  }
  if (r.format != TableFormat::file_list) {
    fail(w, step, key, name + ": only one transformation is supported (one read_delimited, read_json_lines or read_hdf5)");
  }
  if (name == "read_delimited") return read_delimited(w, options, key + ".read_delimited", r);
  if (name == "read_json_lines") return read_json_lines(w, options, key + ".read_json_lines", r);
  if (name == "read_hdf5") return read_hdf5(w, step, options, r);
  if (name == "read_parquet" || name == "read_delta_lake")
    fail(w, step, key, name + " is not supported: this platform's packages have no Parquet reader; " + kSupported);
  fail(w, step, key, name + " is not supported; " + kSupported);
}

// The files one entry of `paths` names: file, folder (recursive) or pattern (a glob), relative to the MLTable file.
void list_path(const Where& w, const YAML::Node& entry, const std::string& key, const std::string& base,
               const ListRules& job_rules, FileList& files) {
  if (!entry.IsMap() || entry.size() != 1)
    fail(w, entry, key, "must be one of file: PATH, folder: PATH or pattern: GLOB");
  const std::string kind = entry.begin()->first.as<std::string>();
  const std::string at = key + "." + kind;
  const std::string text = scalar(w, entry.begin()->second, at);
  if (text.find("://") != std::string::npos) fail(w, entry, at, "must be a local path, got " + text);
  std::string path = (fs::path(base) / text).lexically_normal().string();
  while (path.size() > 1 && path.back() == '/') path.pop_back();  // "folder: ." names base itself
  ListRules rules = job_rules;
  rules.excluded_files.push_back(w.file);  // the MLTable file is no table
  FileList found;
  std::error_code ignored;
  if (kind == "file") {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) fail(w, entry, at, path + " is not a file");
    found.add(path, stamp_of(st));
  } else if (kind == "folder") {
    if (!fs::is_directory(path, ignored)) fail(w, entry, at, path + " is not a folder");
    found = list_input_files(path, rules);
  } else if (kind == "pattern") {
    found = list_glob(path, w.at(entry, at), text, rules);
  } else {
    fail(w, entry, at, "unknown kind of path; use file, folder or pattern");
  }
  for (std::size_t i = 0; i < found.size(); ++i) files.add(found.at(i), found.stamp(i));
}

YAML::Node load(const std::string& file) {
  std::ifstream in(file);
  if (!in) throw Error(file + ": cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  try {
    return YAML::Load(text.str());
  } catch (const YAML::Exception& e) {
    throw Error(file + ":" + std::to_string(e.mark.line + 1) + ": not valid YAML: " + e.msg);
  }
}

}  // namespace

std::string hdf5_column_name(const std::string& path) {
  std::string p = path.substr(0, path.find_last_not_of('/') + 1);
  return p.substr(p.find_last_of('/') + 1);
}

MLTable read_mltable(const std::string& folder, bool list_files, const ListRules& rules) {
  MLTable table;
  std::error_code ignored;
  table.file = fs::is_directory(folder, ignored) ? (fs::path(folder) / "MLTable").string() : folder;
  if (!fs::is_regular_file(table.file, ignored))
    throw Error(table.file + " does not exist: a type: mltable input is a folder holding an MLTable file");
  const Where w{table.file};
  const YAML::Node root = load(table.file);
  if (!root.IsMap()) throw Error(table.file + ":1: must be a mapping with paths and transformations");
  for (const auto& entry : root) {
    const std::string key = entry.first.as<std::string>();
    if (key != "paths" && key != "transformations" && key != "type" && key != "$schema")
      fail(w, entry.first, key, "unknown key; an MLTable has paths and transformations");
  }
  const YAML::Node transformations = root["transformations"];
  if (transformations && !transformations.IsSequence())
    fail(w, transformations, "transformations", "must be a list, e.g. - read_delimited: {delimiter: ','}");
  for (std::size_t i = 0; transformations && i < transformations.size(); ++i)
    read_transformation(w, transformations[i], "transformations[" + std::to_string(i) + "]", table.reader);
  const YAML::Node paths = root["paths"];
  if (!paths) throw Error(table.file + ":1: paths: is required: the files of the table, e.g. - file: ./iris.csv");
  if (!paths.IsSequence() || paths.size() == 0)
    fail(w, paths, "paths", "must be a non-empty list of file:, folder: or pattern: entries");
  const std::string base = fs::path(table.file).parent_path().string();
  FileList files;
  for (std::size_t i = 0; i < paths.size(); ++i) {
    const std::string key = "paths[" + std::to_string(i) + "]";
    if (list_files) list_path(w, paths[i], key, base, rules, files);
    else if (!paths[i].IsMap() || paths[i].size() != 1)
      fail(w, paths[i], key, "must be one of file: PATH, folder: PATH or pattern: GLOB");
  }
  if (list_files) {
    files.sort();
    files.unique();
    if (files.size() == 0) fail(w, paths, "paths", "name no file");
    table.files = std::move(files);
  }
  return table;
}

}  // namespace prs
