// gather (index_select) and scatter_add. Out-of-range indices are an error naming the
// value, never a wild read. scatter_add runs serially per slice: the order of additions
// is fixed, so results are bit-reproducible.
#include <cstring>

#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/core/error.h"

namespace fx::cpu {

namespace {

std::vector<int64_t> read_indices(const Tensor& idx, int64_t limit, const char* op) {
  std::vector<int64_t> v(idx.numel());
  convert(idx.raw(), idx.dtype(), v.data(), DType::i64, idx.numel());
  for (int64_t i : v)
    FX_CHECK(i >= 0 && i < limit, "{}: index {} out of range [0, {})", op, i, limit);
  return v;
}

struct Geometry {
  int64_t outer = 1, axis_len = 1, inner = 1;
};

Geometry geometry(const Shape& s, int axis) {
  Geometry g;
  for (int i = 0; i < axis; ++i) g.outer *= s[i];
  g.axis_len = s[axis];
  for (size_t i = axis + 1; i < s.size(); ++i) g.inner *= s[i];
  return g;
}

Tensor gather_kernel(const Node& n, std::span<const Tensor> in) {
  int axis = (int)n.attrs.axes[0];
  Geometry g = geometry(in[0].shape(), axis);
  auto idx = read_indices(in[1], g.axis_len, "gather");
  Tensor out(n.shape, n.dtype);
  size_t es = dtype_size(n.dtype), row = g.inner * es;
  const char* src = static_cast<const char*>(in[0].raw());
  char* dst = static_cast<char*>(out.raw());
  int64_t ni = (int64_t)idx.size();
  parallel_range(g.outer * ni, 64, [&](int64_t lo, int64_t hi) {
    for (int64_t t = lo; t < hi; ++t) {
      int64_t o = t / ni, j = t % ni;
      std::memcpy(dst + t * row, src + (o * g.axis_len + idx[j]) * row, row);
    }
  });
  return out;
}

template <typename T>
void scatter_typed(const Geometry& g, const std::vector<int64_t>& idx, const T* upd, T* out) {
  int64_t ni = (int64_t)idx.size();
  parallel_range(g.outer, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; ++o)
      for (int64_t j = 0; j < ni; ++j) {
        const T* u = upd + (o * ni + j) * g.inner;
        T* d = out + (o * g.axis_len + idx[j]) * g.inner;
        for (int64_t k = 0; k < g.inner; ++k) d[k] += u[k];
      }
  });
}

Tensor scatter_add_kernel(const Node& n, std::span<const Tensor> in) {
  int axis = (int)n.attrs.axes[0];
  Geometry g = geometry(in[0].shape(), axis);
  auto idx = read_indices(in[1], g.axis_len, "scatter_add");
  bool half = n.dtype == DType::bf16 || n.dtype == DType::f16;
  Tensor out = half ? in[0].to(DType::f32) : in[0].clone();
  Tensor upd = half ? in[2].to(DType::f32) : in[2];
  switch (out.dtype()) {
    case DType::f32:
      scatter_typed(g, idx, upd.data<float>(), out.data<float>());
      break;
    case DType::f64:
      scatter_typed(g, idx, upd.data<double>(), out.data<double>());
      break;
    case DType::i32:
      scatter_typed(g, idx, upd.data<int32_t>(), out.data<int32_t>());
      break;
    case DType::i64:
      scatter_typed(g, idx, upd.data<int64_t>(), out.data<int64_t>());
      break;
    default:
      fail("scatter_add: unsupported dtype {}", dtype_name(n.dtype));
  }
  return half ? out.to(n.dtype) : out;
}

}  // namespace

void register_indexing(KernelTable& t) {
  t[(int)Op::gather] = gather_kernel;
  t[(int)Op::scatter_add] = scatter_add_kernel;
}

}  // namespace fx::cpu
