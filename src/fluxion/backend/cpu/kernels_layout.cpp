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

// One tile of the copy: the last two axes, [n1, n0] with their strides. Nearest-neighbour
// upsampling (src stride 0 on the inner axis, n0 = 2) and slices of short rows spend their
// time here, so the common tiles get loops the compiler can vectorise.
template <typename T>
inline void copy_tile(const T* __restrict s, T* __restrict d, int64_t n1, int64_t ss1, int64_t ds1,
                      int64_t n0, int64_t ss0, int64_t ds0) {
  if (ss0 == 1 && ds0 == 1) {
    for (int64_t i = 0; i < n1; ++i) std::memcpy(d + i * ds1, s + i * ss1, n0 * sizeof(T));
  } else if (ss0 == 0 && ds0 == 1 && n0 == 2 && ds1 == 2) {
    for (int64_t i = 0; i < n1; ++i) d[2 * i] = d[2 * i + 1] = s[i * ss1];
  } else if (ss0 == 0 && ds0 == 1) {
    for (int64_t i = 0; i < n1; ++i)
      for (int64_t j = 0; j < n0; ++j) d[i * ds1 + j] = s[i * ss1];
  } else {
    for (int64_t i = 0; i < n1; ++i)
      for (int64_t j = 0; j < n0; ++j) d[i * ds1 + j * ds0] = s[i * ss1 + j * ss0];
  }
}

template <typename T>
void copy_typed(const StridedCopy& given, const T* src, T* dst) {
  if (numel(given.shape) == 0) return;
  StridedCopy c = coalesced(given);
  if (c.shape.empty()) {
    dst[c.dst_off] = src[c.src_off];
    return;
  }
  // Two-axis tiles only for short rows (upsampling's 2, a feature map's 28): long rows are
  // tiles of one row, so that the rows of a big copy (a concat's 64 x 50176) still split
  // over the threads.
  if (c.shape.size() == 1 || c.shape.back() > 64) {
    const auto at = c.shape.end() - 1;
    c.src_strides.insert(c.src_strides.begin() + (at - c.shape.begin()), 0);
    c.dst_strides.insert(c.dst_strides.begin() + (at - c.shape.begin()), 0);
    c.shape.insert(at, 1);
  }
  // Tiles of the last two axes; the axes before them are walked by an odometer.
  const int r = (int)c.shape.size(), outer_rank = r - 2;
  const int64_t n0 = c.shape[r - 1], n1 = c.shape[r - 2];
  const int64_t ss0 = c.src_strides[r - 1], ds0 = c.dst_strides[r - 1];
  const int64_t ss1 = c.src_strides[r - 2], ds1 = c.dst_strides[r - 2];
  const int64_t tiles = numel(c.shape) / (n0 * n1);
  parallel_range(tiles, std::max<int64_t>(1, 16384 / std::max<int64_t>(n0 * n1, 1)),
                 [&](int64_t lo, int64_t hi) {
                   // The outer index of tile lo once, then an odometer: no division per tile.
                   std::vector<int64_t> idx(outer_rank);
                   int64_t rem = lo, so = c.src_off, dof = c.dst_off;
                   for (int i = outer_rank - 1; i >= 0; --i) {
                     idx[i] = rem % c.shape[i];
                     rem /= c.shape[i];
                     so += idx[i] * c.src_strides[i];
                     dof += idx[i] * c.dst_strides[i];
                   }
                   for (int64_t tile = lo; tile < hi; ++tile) {
                     copy_tile(src + so, dst + dof, n1, ss1, ds1, n0, ss0, ds0);
                     for (int i = outer_rank - 1; i >= 0; --i) {
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
