// libFuzzer target for the NPY points reader behind `--data FILE.npy` (see README.md): header
// dict, shape and dtype checks, data conversion. Any input must either parse or throw
// fx::Error. What parses must be an f32 [N, D] tensor of finite values whose size the file
// could hold (the reader refuses trailing or missing bytes).
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fluxion/core/error.h"
#include "fluxion/data/points_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fx::Tensor t;
  try {
    t = fx::data::parse_npy_points({data, size}, "fuzz.npy");
  } catch (const fx::Error&) {
    return 0;
  }
  // Every element came from at least 4 bytes of the input.
  if (t.rank() != 2 || t.numel() < 1 || uint64_t(t.numel()) * 4 > size) {
    std::fprintf(stderr, "fuzz_npy: shape %s from %zu bytes\n", fx::shape_str(t.shape()).c_str(),
                 size);
    std::abort();
  }
  const float* v = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(v[i])) {
      std::fprintf(stderr, "fuzz_npy: value %lld is not finite\n", (long long)i);
      std::abort();
    }
  return 0;
}
