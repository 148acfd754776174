// JSON from users' files: nesting is bounded before parsing (a deep [[[...]]] used to overflow
// the stack), duplicate keys and NUL bytes are refused, and every error names the file.
#include <gtest/gtest.h>

#include <string>

#include "fluxion/core/error.h"
#include "fluxion/io/json_limits.h"

namespace {

using fx::io::check_json_depth;
using fx::io::parse_json_bounded;

std::string json_error_of(std::string_view text, int depth = 4) {
  try {
    parse_json_bounded(text, depth, "cfg.json");
  } catch (const fx::Error& e) {
    return e.what();
  }
  return "(no error)";
}

#define EXPECT_HAS(haystack, needle) \
  EXPECT_NE(std::string(haystack).find(needle), std::string::npos) << (haystack)

TEST(JsonLimits, ParsesWithinTheBound) {
  auto j = parse_json_bounded(R"({"a": [1, {"b": [2]}], "s": "[[[[[[{{{{"})", 4, "cfg.json");
  EXPECT_EQ(j["a"][1]["b"][0], 2);
  EXPECT_EQ(j["s"], "[[[[[[{{{{");
  EXPECT_EQ(parse_json_bounded(R"("\"[[[[[[")", 0, "x"), "\"[[[[[[");  // escaped quote
  EXPECT_EQ(parse_json_bounded("7", 0, "x"), 7);
}

TEST(JsonLimits, RefusesDeepNestingNamingFileDepthAndOffset) {
  EXPECT_HAS(json_error_of("[[[[[1]]]]]"),
             "cfg.json: JSON nests arrays/objects deeper than 4 levels "
             "(at offset 4)");
  EXPECT_HAS(json_error_of(R"({"a":{"b":{"c":{"d":{}}}}})"), "deeper than 4 levels");
  const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
  EXPECT_HAS(json_error_of(deep, fx::io::kMaxJsonDepth), "deeper than 32 levels");
  EXPECT_THROW(check_json_depth(deep, 64, "x"), fx::Error);
  EXPECT_NO_THROW(check_json_depth("[[[]]]", 3, "x"));
}

TEST(JsonLimits, SyntaxDuplicatesAndNulNameTheFile) {
  EXPECT_HAS(json_error_of(R"({"a": 1,})"), "cfg.json: not valid JSON");
  EXPECT_HAS(json_error_of(R"({"a": 1, "a": 2})"), "cfg.json: duplicate key 'a'");
  EXPECT_HAS(json_error_of(R"({"o": {"k": 1, "k": 2}})"), "duplicate key 'k' in 'o'");
  EXPECT_HAS(json_error_of(std::string("{\"a\": 1}\0junk", 13)),
             "cfg.json: JSON has a NUL byte at "
             "offset 8");
  EXPECT_HAS(json_error_of(""), "cfg.json: not valid JSON");
  EXPECT_HAS(json_error_of("]]]]"),
             "cfg.json: not valid JSON");  // unbalanced: the parser reports it
}

}  // namespace
