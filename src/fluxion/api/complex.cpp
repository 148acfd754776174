#include "fluxion/api/complex.h"

#include "fluxion/core/error.h"

namespace fx {

namespace {
void check_pair(Var z, const char* op) {
  FX_CHECK(z.rank() >= 1 && z.dim(z.rank() - 1) == 2,
           "{}: expects (re, im) pairs in a trailing axis of size 2, got {}", op,
           shape_str(z.shape()));
}
}  // namespace

Var complex_pair(Var re, Var im) {
  Shape s = re.shape();
  s.push_back(1);
  return concat({reshape(re, s), reshape(im, s)}, -1);
}

Var real_part(Var z) {
  check_pair(z, "real_part");
  Shape s = z.shape();
  s.pop_back();
  return reshape(slice_axis(z, -1, 0, 1), s);
}

Var imag_part(Var z) {
  check_pair(z, "imag_part");
  Shape s = z.shape();
  s.pop_back();
  return reshape(slice_axis(z, -1, 1, 2), s);
}

Var conj(Var z) {
  check_pair(z, "conj");
  Var sign = z.graph->constant(Tensor::from({1.0, -1.0}, {2}, z.dtype()));
  return z * sign;
}

Var complex_mul(Var x, Var y) {
  check_pair(x, "complex_mul");
  check_pair(y, "complex_mul");
  Var xr = real_part(x), xi = imag_part(x), yr = real_part(y), yi = imag_part(y);
  return complex_pair(xr * yr - xi * yi, xr * yi + xi * yr);
}

Var sum_mul_conj_to(Var x, Var y, const Shape& shape) {
  Var xr = real_part(x), xi = imag_part(x), yr = real_part(y), yi = imag_part(y);
  Shape s = shape;
  FX_CHECK(!s.empty() && s.back() == 2, "sum_mul_conj_to: target {} is not a pair shape",
           shape_str(shape));
  s.pop_back();
  return complex_pair(sum_to(xr * yr + xi * yi, s), sum_to(xi * yr - xr * yi, s));
}

}  // namespace fx
