// libFuzzer target for the CSV points parser behind `--data FILE.csv` (see README.md). Any input
// must either parse or throw fx::Error. What parses must be an f32 [rows, cols] tensor of finite
// values within the parser's column limit.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "fluxion/core/error.h"
#include "fluxion/data/points_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  fx::Tensor t;
  try {
    t = fx::data::parse_csv_points({reinterpret_cast<const char*>(data), size}, "fuzz.csv");
  } catch (const fx::Error&) {
    return 0;
  }
  if (t.rank() != 2 || t.dim(0) < 1 || t.dim(1) < 1 || t.dim(1) > (1 << 16) ||
      t.dtype() != fx::DType::f32) {
    std::fprintf(stderr, "fuzz_csv: bad result shape %s\n", fx::shape_str(t.shape()).c_str());
    std::abort();
  }
  const float* v = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i)
    if (!std::isfinite(v[i])) {
      std::fprintf(stderr, "fuzz_csv: value %lld is not finite\n", (long long)i);
      std::abort();
    }
  return 0;
}
