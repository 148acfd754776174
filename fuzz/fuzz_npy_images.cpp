// libFuzzer target for the NPY image reader behind DDPM/PFGM's `--data images.npy` (and the
// self-consuming loop's synthetic sets). Any input must either parse or throw fx::Error; what
// parses must be an f32 [N, C, H, W] tensor of finite values the file's bytes could hold.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fluxion/core/error.h"
#include "fluxion/data/npy_images.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fx::Tensor t;
  try {
    t = fx::data::parse_npy_images({data, size}, "fuzz.npy");
  } catch (const fx::Error&) {
    return 0;
  }
  if (t.rank() != 4 || t.numel() < 1 || uint64_t(t.numel()) * 4 > size) {
    std::fprintf(stderr, "fuzz_npy_images: shape %s from %zu bytes\n",
                 fx::shape_str(t.shape()).c_str(), size);
    std::abort();
  }
  const float* v = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(v[i])) {
      std::fprintf(stderr, "fuzz_npy_images: value %lld is not finite\n", (long long)i);
      std::abort();
    }
  return 0;
}
