// libFuzzer target for PNG input of image data sets (see README.md): any bytes must either
// decode or throw fx::Error, and what decodes must convert (centre crop, resize, grey and
// RGB) to tensors with values in [0, 1].
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "fluxion/core/error.h"
#include "fluxion/data/image_folder.h"
#include "fluxion/io/png.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    fx::io::Image img = fx::io::decode_png({data, size}, "fuzz.png");
    if ((int64_t)img.width * img.height > (1 << 22)) return 0;  // keep runs fast
    for (int64_t channels : {1, 3}) {
      fx::Tensor t = fx::data::image_to_tensor(img, 7, channels, true, "fuzz.png");
      for (float v : t.to_f32_vector())
        if (!(v >= -1e-6f && v <= 1.0f + 1e-6f)) {
          std::fprintf(stderr, "fuzz_png: value %g outside [0, 1]\n", v);
          std::abort();
        }
    }
  } catch (const fx::Error&) {
  }
  return 0;
}
