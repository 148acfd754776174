// libFuzzer target for the Gaussian-mixture target file of particle flows (`--target mix.json`,
// gen::GaussianMixture::load): the bounded JSON parser, then the mixture's own checks. Any input
// must either build a mixture or throw fx::Error (never std::bad_alloc or a crash); what builds
// must have a dimension and component count within the documented limits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fluxion/core/error.h"
#include "fluxion/gen/mixture_target.h"
#include "fluxion/io/json_limits.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    fx::gen::GaussianMixture m = fx::gen::GaussianMixture::from_json(
        fx::io::parse_json_bounded(text, fx::io::kMaxJsonDepth, "fuzz.json"), "fuzz.json");
    if (m.dim() < 1 || m.dim() > fx::gen::kMaxMixtureDim || m.size() < 1 ||
        m.size() * m.dim() * m.dim() > fx::gen::kMaxMixtureMatrixEntries) {
      std::fprintf(stderr, "fuzz_mixture: built %lld components of dimension %lld\n",
                   (long long)m.size(), (long long)m.dim());
      std::abort();
    }
  } catch (const fx::Error&) {
  }
  return 0;
}
