// libFuzzer target for the bounded JSON parser used for safetensors headers and run config.json
// (fx::io::parse_json_bounded, see README.md). Any input must either parse or throw fx::Error;
// deep nesting must be refused before it can exhaust the stack. What parses must dump (which
// recurses) and parse back to an equal value.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fluxion/core/error.h"
#include "fluxion/io/json_limits.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  nlohmann::json j;
  try {
    j = fx::io::parse_json_bounded(text, fx::io::kMaxJsonDepth, "fuzz.json");
  } catch (const fx::Error&) {
    return 0;
  }
  const std::string again = j.dump();  // nlohmann's lexer already refused invalid UTF-8
  nlohmann::json k;
  try {
    k = fx::io::parse_json_bounded(again, fx::io::kMaxJsonDepth, "again.json");
  } catch (const fx::Error& e) {
    std::fprintf(stderr, "fuzz_json: our own dump does not parse: %s\n", e.what());
    std::abort();
  }
  if (k != j) {
    std::fprintf(stderr, "fuzz_json: round trip changed the value\n");
    std::abort();
  }
  return 0;
}
