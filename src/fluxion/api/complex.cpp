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

// The pair axis is never sliced or broadcast on its own: strided copies and broadcasts
// whose innermost run has 2 elements cost an index computation per element. Instead the
// last two axes [K, 2] are viewed as one axis of 2K and read or written with stride 2,
// which keeps runs of K elements.
namespace {
Shape flat_pairs(const Shape& z) {  // [..., K, 2] -> [..., 2K]
  Shape s(z.begin(), z.end() - 1);
  if (s.empty()) return {2};
  s.back() *= 2;
  return s;
}
Var pair_component(Var z, int64_t which) {
  Shape s = z.shape();
  s.pop_back();
  Var flat = reshape(z, flat_pairs(z.shape()));
  return reshape(slice_axis(flat, -1, which, flat.dim(-1), 2), s);
}
// x [..., K] -> [..., 2K] with x at positions offset, offset + 2, ... and zeros elsewhere.
Var interleave(Var x, int64_t offset) {
  Shape s = x.shape();
  if (s.empty()) s = {1};
  Var v = reshape(x, s);
  Axes low(s.size(), 0), high(s.size(), 0), interior(s.size(), 0);
  low.back() = offset;
  high.back() = 1 - offset;
  interior.back() = 1;
  return pad(v, low, high, interior);
}
}  // namespace

Var complex_pair(Var re, Var im) {
  FX_CHECK(re.shape() == im.shape(), "complex_pair: shapes differ: {} vs {}", shape_str(re.shape()),
           shape_str(im.shape()));
  Shape s = re.shape();
  s.push_back(2);
  return reshape(interleave(re, 0) + interleave(im, 1), s);
}

Var real_part(Var z) {
  check_pair(z, "real_part");
  return pair_component(z, 0);
}

Var imag_part(Var z) {
  check_pair(z, "imag_part");
  return pair_component(z, 1);
}

Var conj(Var z) {
  check_pair(z, "conj");
  return complex_pair(real_part(z), -imag_part(z));
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
