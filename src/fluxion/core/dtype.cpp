#include "fluxion/core/dtype.h"

#include "fluxion/core/error.h"

namespace fx {

size_t dtype_size(DType d) {
  switch (d) {
    case DType::f64: case DType::i64: return 8;
    case DType::f32: case DType::i32: return 4;
    case DType::bf16: case DType::f16: return 2;
    case DType::boolean: return 1;
  }
  return 0;
}

std::string_view dtype_name(DType d) {
  switch (d) {
    case DType::f64: return "f64";
    case DType::f32: return "f32";
    case DType::bf16: return "bf16";
    case DType::f16: return "f16";
    case DType::i32: return "i32";
    case DType::i64: return "i64";
    case DType::boolean: return "bool";
  }
  return "?";
}

DType dtype_from_name(std::string_view n) {
  for (DType d : {DType::f64, DType::f32, DType::bf16, DType::f16, DType::i32, DType::i64,
                  DType::boolean})
    if (dtype_name(d) == n) return d;
  fail("unknown dtype '{}' (expected f64, f32, bf16, f16, i32, i64 or bool)", n);
}

bool is_float(DType d) {
  return d == DType::f64 || d == DType::f32 || d == DType::bf16 || d == DType::f16;
}
bool is_integer(DType d) { return d == DType::i32 || d == DType::i64; }

}  // namespace fx
