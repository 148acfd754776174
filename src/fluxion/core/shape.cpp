#include "fluxion/core/shape.h"

#include "fluxion/core/error.h"

namespace fx {

// Checked: shapes read from files can be huge, and a wrapped count would under-allocate.
int64_t numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t d : s)
    if (__builtin_mul_overflow(n, d, &n))
      fail("shape {} has more elements than int64 can count", shape_str(s));
  return n;
}

std::string shape_str(const Shape& s) { return fmt::format("[{}]", fmt::join(s, ", ")); }

std::vector<int64_t> row_major_strides(const Shape& s) {
  std::vector<int64_t> st(s.size());
  int64_t acc = 1;
  for (int i = (int)s.size() - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= s[i];
  }
  return st;
}

Shape coalesce_axes(const Shape& s, std::vector<std::vector<int64_t>>& strides) {
  Shape dims;
  std::vector<std::vector<int64_t>> merged(strides.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == 1) continue;
    bool merge = !dims.empty();
    for (size_t q = 0; q < strides.size() && merge; ++q)
      merge = merged[q].back() == strides[q][i] * s[i];
    if (merge) {
      dims.back() *= s[i];
      for (size_t q = 0; q < strides.size(); ++q) merged[q].back() = strides[q][i];
    } else {
      dims.push_back(s[i]);
      for (size_t q = 0; q < strides.size(); ++q) merged[q].push_back(strides[q][i]);
    }
  }
  strides = std::move(merged);
  return dims;
}

bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out) {
  size_t r = std::max(a.size(), b.size());
  Shape o(r);
  for (size_t i = 0; i < r; ++i) {
    int64_t da = i < r - a.size() ? 1 : a[i - (r - a.size())];
    int64_t db = i < r - b.size() ? 1 : b[i - (r - b.size())];
    if (da != db && da != 1 && db != 1) return false;
    o[i] = da == 1 ? db : da;
  }
  *out = o;
  return true;
}

int normalize_axis(int64_t axis, int rank, const char* op) {
  int64_t a = axis < 0 ? axis + rank : axis;
  FX_CHECK(a >= 0 && a < rank, "{}: axis {} out of range for rank {}", op, axis, rank);
  return (int)a;
}

}  // namespace fx
