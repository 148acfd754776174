#include "fluxion/io/json_limits.h"

#include <set>
#include <string>
#include <vector>

#include "fluxion/core/error.h"

namespace fx::io {

void check_json_depth(std::string_view text, int max_depth, std::string_view file) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '\0') fail("{}: JSON has a NUL byte at offset {}", file, i);
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth)
        fail("{}: JSON nests arrays/objects deeper than {} levels (at offset {})", file, max_depth,
             i);
    } else if (c == ']' || c == '}') {
      --depth;  // unbalanced brackets are the parser's to report
    }
  }
}

nlohmann::json parse_json_bounded(std::string_view text, int max_depth, std::string_view file) {
  using json = nlohmann::json;
  check_json_depth(text, max_depth, file);
  std::vector<std::set<std::string>> keys;  // one set per open object
  std::vector<std::string> path;            // the key each open object sits under
  std::string last_key;
  auto on_event = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      path.push_back(keys.empty() ? "" : last_key);
      keys.emplace_back();
    } else if (event == json::parse_event_t::object_end) {
      keys.pop_back();
      path.pop_back();
    } else if (event == json::parse_event_t::key) {
      last_key = parsed.get<std::string>();
      if (!keys.back().insert(last_key).second) {
        if (keys.size() == 1) fail("{}: duplicate key '{}'", file, last_key);
        fail("{}: duplicate key '{}' in '{}'", file, last_key, path.back());
      }
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), on_event);
  } catch (const json::exception& e) {
    fail("{}: not valid JSON: {}", file, e.what());
  }
}

}  // namespace fx::io
