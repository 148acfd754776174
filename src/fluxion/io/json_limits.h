// JSON read from users' files (safetensors headers, run config.json) with a bound on nesting.
// nlohmann parses iteratively, but dump() and our own walks recurse: a 100,000-deep [[[...]]]
// would overflow the stack. Checking depth first, in one pass, keeps every later step safe.
#pragma once
#include <nlohmann/json.hpp>
#include <string_view>

namespace fx::io {

// Enough for any config or header fluxion writes (safetensors needs 3), small for the stack.
inline constexpr int kMaxJsonDepth = 32;

// Throws fx::Error naming `file` if `text` nests arrays and objects deeper than `max_depth`
// (brackets inside strings do not count) or holds a NUL byte, which nlohmann treats as the end.
void check_json_depth(std::string_view text, int max_depth, std::string_view file);

// check_json_depth, then parses, refusing duplicate object keys (nlohmann would keep the last
// one silently). Every error is an fx::Error naming `file`.
nlohmann::json parse_json_bounded(std::string_view text, int max_depth, std::string_view file);

}  // namespace fx::io
