// libFuzzer target for the safetensors parser (see README.md). Any input must either parse or
// throw fx::Error: no crash, no sanitizer report, no other exception. What parses must also
// survive a write/read round trip unchanged.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "fluxion/core/error.h"
#include "fluxion/io/safetensors.h"

namespace {

[[noreturn]] void bug(const char* what) {
  std::fprintf(stderr, "fuzz_safetensors: %s\n", what);
  std::abort();
}

void check_round_trip(const fx::io::SafetensorsFile& f) {
  std::string again;
  try {
    again = fx::io::serialize_safetensors(f.tensors, f.metadata);
  } catch (const fx::Error& e) {
    bug(e.what());  // we accepted it, so we must be able to write it
  }
  auto g = fx::io::parse_safetensors({(const uint8_t*)again.data(), again.size()}, "again");
  if (g.metadata != f.metadata || g.tensors.size() != f.tensors.size()) bug("round trip differs");
  for (const auto& [name, t] : f.tensors) {
    auto it = g.tensors.find(name);
    if (it == g.tensors.end()) bug("round trip lost a tensor");
    const fx::Tensor& u = it->second;
    if (u.dtype() != t.dtype() || u.shape() != t.shape() || u.nbytes() != t.nbytes())
      bug("round trip changed a tensor's dtype or shape");
    if (t.nbytes() && std::memcmp(u.raw(), t.raw(), t.nbytes()) != 0) bug("round trip data");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fx::io::SafetensorsFile f;
  try {
    f = fx::io::parse_safetensors({data, size}, "fuzz-input");
  } catch (const fx::Error&) {
    return 0;  // rejected cleanly: fine
  }
  check_round_trip(f);
  return 0;
}
