// Layout kernels, all expressed as one strided copy: for every index of a shape,
// dst[dst_off + idx·dst_strides] = src[src_off + idx·src_strides].
#include <cstring>
#include <vector>

#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/core/error.h"

namespace fx::cpu {

namespace {

struct StridedCopy {
  Shape shape;
  std::vector<int64_t> src_strides, dst_strides;  // in elements
  int64_t src_off = 0, dst_off = 0;
};

// Merges neighbouring axes that both sides step through as one (a broadcast of
// [64, 64, 14, 1, 14, 1] to [64, 64, 14, 2, 14, 2] copies rows of 2 elements: the fewer
// the axes, the cheaper the walk from one row to the next) and drops axes of size 1.
StridedCopy coalesced(const StridedCopy& c) {
  std::vector<std::vector<int64_t>> strides = {c.src_strides, c.dst_strides};
  StridedCopy m{coalesce_axes(c.shape, strides), {}, {}, c.src_off, c.dst_off};
  m.src_strides = std::move(strides[0]);
  m.dst_strides = std::move(strides[1]);
  return m;
}

template <typename T>
void copy_typed(const StridedCopy& given, const T* src, T* dst) {
  if (numel(given.shape) == 0) return;
  const StridedCopy c = coalesced(given);
  int r = (int)c.shape.size();
  if (r == 0) {
    dst[c.dst_off] = src[c.src_off];
    return;
  }
  int64_t inner = c.shape[r - 1];
  int64_t ss = c.src_strides[r - 1], ds = c.dst_strides[r - 1];
  int64_t rows = numel(c.shape) / inner;
  parallel_range(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(inner, 1)),
                 [&](int64_t lo, int64_t hi) {
                   // The outer index of row lo once, then an odometer: no division per row.
                   std::vector<int64_t> idx(std::max(r - 1, 0));
                   int64_t rem = lo, so = c.src_off, dof = c.dst_off;
                   for (int i = r - 2; i >= 0; --i) {
                     idx[i] = rem % c.shape[i];
                     rem /= c.shape[i];
                     so += idx[i] * c.src_strides[i];
                     dof += idx[i] * c.dst_strides[i];
                   }
                   for (int64_t row = lo; row < hi; ++row) {
                     const T* s = src + so;
                     T* d = dst + dof;
                     if (ss == 1 && ds == 1)
                       std::memcpy(d, s, inner * sizeof(T));
                     else
                       for (int64_t j = 0; j < inner; ++j) d[j * ds] = s[j * ss];
                     for (int i = r - 2; i >= 0; --i) {
                       so += c.src_strides[i];
                       dof += c.dst_strides[i];
                       if (++idx[i] < c.shape[i]) break;
                       so -= c.src_strides[i] * c.shape[i];
                       dof -= c.dst_strides[i] * c.shape[i];
                       idx[i] = 0;
                     }
                   }
                 });
}

void strided_copy(const StridedCopy& c, const Tensor& src, Tensor& dst) {
  switch (dtype_size(src.dtype())) {
    case 1:
      return copy_typed(c, src.data<uint8_t>(), dst.data<uint8_t>());
    case 2:
      return copy_typed(c, src.data<uint16_t>(), dst.data<uint16_t>());
    case 4:
      return copy_typed(c, src.data<uint32_t>(), dst.data<uint32_t>());
    case 8:
      return copy_typed(c, src.data<uint64_t>(), dst.data<uint64_t>());
  }
}

Tensor broadcast_kernel(const Node& n, std::span<const Tensor> in) {
  const Shape& s = in[0].shape();
  int r = (int)n.shape.size(), lead = r - (int)s.size();
  auto st = row_major_strides(s);
  StridedCopy c{n.shape, std::vector<int64_t>(r, 0), row_major_strides(n.shape)};
  for (int i = lead; i < r; ++i) c.src_strides[i] = s[i - lead] == 1 ? 0 : st[i - lead];
  Tensor out(n.shape, n.dtype);
  strided_copy(c, in[0], out);
  return out;
}

Tensor reshape_kernel(const Node& n, std::span<const Tensor> in) { return in[0].reshaped(n.shape); }

Tensor permute_kernel(const Node& n, std::span<const Tensor> in) {
  auto st = row_major_strides(in[0].shape());
  StridedCopy c{n.shape, {}, row_major_strides(n.shape)};
  for (int64_t a : n.attrs.axes) c.src_strides.push_back(st[a]);
  Tensor out(n.shape, n.dtype);
  strided_copy(c, in[0], out);
  return out;
}

Tensor slice_kernel(const Node& n, std::span<const Tensor> in) {
  auto st = row_major_strides(in[0].shape());
  StridedCopy c{n.shape, {}, row_major_strides(n.shape)};
  for (size_t i = 0; i < st.size(); ++i) {
    c.src_strides.push_back(st[i] * n.attrs.steps[i]);
    c.src_off += n.attrs.starts[i] * st[i];
  }
  Tensor out(n.shape, n.dtype);
  strided_copy(c, in[0], out);
  return out;
}

Tensor pad_kernel(const Node& n, std::span<const Tensor> in) {
  Tensor out = Tensor::full(n.shape, n.attrs.value, n.dtype);
  auto st = row_major_strides(n.shape);
  StridedCopy c{in[0].shape(), row_major_strides(in[0].shape()), {}};
  for (size_t i = 0; i < st.size(); ++i) {
    c.dst_strides.push_back(st[i] * (n.attrs.steps[i] + 1));
    c.dst_off += n.attrs.starts[i] * st[i];
  }
  strided_copy(c, in[0], out);
  return out;
}

Tensor concat_kernel(const Node& n, std::span<const Tensor> in) {
  Tensor out(n.shape, n.dtype);
  int64_t ax = n.attrs.axes[0], off = 0;
  auto st = row_major_strides(n.shape);
  for (const Tensor& x : in) {
    StridedCopy c{x.shape(), row_major_strides(x.shape()), st};
    c.dst_off = off * st[ax];
    strided_copy(c, x, out);
    off += x.shape()[ax];
  }
  return out;
}

}  // namespace

void register_layout(KernelTable& t) {
  t[(int)Op::broadcast_to] = broadcast_kernel;
  t[(int)Op::reshape] = reshape_kernel;
  t[(int)Op::permute] = permute_kernel;
  t[(int)Op::slice] = slice_kernel;
  t[(int)Op::pad] = pad_kernel;
  t[(int)Op::concat] = concat_kernel;
}

}  // namespace fx::cpu
