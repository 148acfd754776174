// reduce_sum / reduce_max. Each reduced axis run is handled as [outer, r, inner];
// several axes are reduced one after another. Sums of f32 accumulate in f64 so the
// result does not depend on the thread split (and is more accurate than PyTorch's).
#include <cmath>
#include <limits>
#include <type_traits>

#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/core/error.h"

namespace fx::cpu {

namespace {

// The order every row sum keeps (this kernel and the compiler's fused row sums,
// codegen.cpp), in f64: a row of at least kWideRowSum values (kernels.h) as 16 partial sums, lane k
// taking the values j = k mod 16 in order, added pairwise (lane k + 8 into k, then + 4, + 2, + 1);
// a shorter row as 4 partial sums (j mod 4, the tail into the first), added as
// (a0 + a1) + (a2 + a3). One chain of f64 adds is bound by the add's latency: four kept a
// GroupNorm's statistics at ~1.4 values a cycle, sixteen fill an AVX-512 core's two adders
// (3.4x on 3,136 values); on short rows (an upsampling's gradient sums rows of 2) sixteen
// lanes would cost more adds than the row has values.
constexpr int kSumLanes = 16;

inline double combine_lanes(double* a) {
  for (int w = kSumLanes / 2; w >= 1; w /= 2)
    for (int k = 0; k < w; ++k) a[k] = a[k] + a[k + w];
  return a[0];
}

template <typename T>
double sum_row16(const T* x, int64_t n) {
  double a[kSumLanes] = {};
  int64_t j = 0;
  for (; j + kSumLanes <= n; j += kSumLanes)
    for (int k = 0; k < kSumLanes; ++k) a[k] += x[j + k];
  for (int k = 0; j + k < n; ++k) a[k] += x[j + k];  // the tail: lanes 0.. in order
  return combine_lanes(a);
}

// Cloned per ISA: vectorised over the lanes (two zmm of doubles on AVX-512).
__attribute__((target_clones("avx512f", "avx2", "default"))) void sum_rows16(
    const float* __restrict x, int64_t r, float* __restrict out, int64_t rows) {
  for (int64_t o = 0; o < rows; ++o) out[o] = (float)sum_row16(x + o * r, r);
}

// Sum of n values in f64 as four partial sums (i mod 4), added pairwise at the end.
template <typename T>
double sum_row4(const T* x, int64_t n) {
  double a0 = 0, a1 = 0, a2 = 0, a3 = 0;
  int64_t j = 0;
  for (; j + 4 <= n; j += 4) {
    a0 += x[j];
    a1 += x[j + 1];
    a2 += x[j + 2];
    a3 += x[j + 3];
  }
  for (; j < n; ++j) a0 += x[j];
  return (a0 + a1) + (a2 + a3);
}

// sum_row4 of 8 rows at a time, one row per lane: the same partial sums in the same order
// (so the same bits), but the adds of 8 rows run side by side. Short rows (the width of a
// feature map, an upsampling's 2) are otherwise bound by the add latency of one row.
__attribute__((target_clones("avx512f", "avx2", "default"))) void sum_rows4_by8(
    const float* __restrict x, int64_t r, float* __restrict out, int64_t rows) {
  int64_t o = 0;
  for (; o + 8 <= rows; o += 8) {
    const float* b = x + o * r;
    double a0[8] = {}, a1[8] = {}, a2[8] = {}, a3[8] = {};
    int64_t j = 0;
    for (; j + 4 <= r; j += 4)
      for (int l = 0; l < 8; ++l) {
        a0[l] += b[l * r + j];
        a1[l] += b[l * r + j + 1];
        a2[l] += b[l * r + j + 2];
        a3[l] += b[l * r + j + 3];
      }
    for (; j < r; ++j)
      for (int l = 0; l < 8; ++l) a0[l] += b[l * r + j];
    for (int l = 0; l < 8; ++l) out[o + l] = (float)((a0[l] + a1[l]) + (a2[l] + a3[l]));
  }
  for (; o < rows; ++o) out[o] = (float)sum_row4(x + o * r, r);
}

// Rows of 2 (an upsampling's gradient): sum_row4 takes both into lane 0, ((0 + x0) + x1 +
// 0) + (0 + 0) in f64, rounded to f32 once; (0 + x0) + (0 + x1) in f32 gives the same bits:
// the exact sum of two floats is a double, so one rounding either way, and the + 0 steps
// only turn -0 into +0, in both. Vectorised where the generic path loads the pairs of 8
// rows with a stride.
__attribute__((target_clones("avx512f", "avx2", "default"))) void sum_pairs(
    const float* __restrict x, float* __restrict out, int64_t rows) {
  for (int64_t o = 0; o < rows; ++o) out[o] = (0.0f + x[2 * o]) + (0.0f + x[2 * o + 1]);
}

// Two runs of `inner` values added run to run (a reduction over an axis of 2 above short
// runs): the f64 sum of two floats rounded once, i.e. their f32 sum.
__attribute__((target_clones("avx512f", "avx2", "default"))) void sum_run_pairs(
    const float* __restrict x, int64_t inner, float* __restrict out, int64_t outer) {
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k = 0; k < inner; ++k)
      out[o * inner + k] = x[2 * o * inner + k] + x[(2 * o + 1) * inner + k];
}

// One step of a sum or a max (NaN wins the max, as in PyTorch).
template <bool IsMax, typename Acc, typename T>
inline void fold(Acc& acc, T v) {
  if constexpr (IsMax)
    acc = (v > acc || v != v) ? (Acc)v : acc;
  else
    acc += v;
}

template <typename T, typename Acc, bool IsMax>
Tensor reduce_axis(const Tensor& x, int axis) {
  const Shape& s = x.shape();
  int64_t outer = 1, inner = 1, r = s[axis];
  for (int i = 0; i < axis; ++i) outer *= s[i];
  for (int i = axis + 1; i < (int)s.size(); ++i) inner *= s[i];
  Shape os = s;
  os[axis] = 1;
  Tensor out(os, x.dtype());
  const T* xp = x.data<T>();
  T* op = out.data<T>();
  if (inner == 1 && !IsMax && outer > 1 && std::is_floating_point_v<T>) {
    // Sums along contiguous rows (LayerNorm's mean over features): 16 (or 4) interleaved
    // partial sums, so the adds do not wait on one another. (outer == 1, a whole vector, keeps the
    // row order that the compiled executor's fused column sums reproduce.)
    parallel_range(
        outer, std::max<int64_t>(8, 16384 / std::max<int64_t>(r, 1)), [&](int64_t lo, int64_t hi) {
          if constexpr (std::is_same_v<T, float>) {
            if (r >= kWideRowSum) return sum_rows16(xp + lo * r, r, op + lo, hi - lo);
            if (r == 2) return sum_pairs(xp + lo * 2, op + lo, hi - lo);
            if (r <= 32) return sum_rows4_by8(xp + lo * r, r, op + lo, hi - lo);
          }
          for (int64_t o = lo; o < hi; ++o)
            op[o] =
                (T)(r >= kWideRowSum ? sum_row16<T>(xp + o * r, r) : sum_row4<T>(xp + o * r, r));
        });
  } else if (inner == 1) {
    parallel_range(outer, std::max<int64_t>(1, 16384 / std::max<int64_t>(r, 1)),
                   [&](int64_t lo, int64_t hi) {
                     for (int64_t o = lo; o < hi; ++o) {
                       const T* row = xp + o * r;
                       Acc acc = IsMax ? (Acc)row[0] : Acc(0);
                       for (int64_t j = IsMax ? 1 : 0; j < r; ++j) {
                         fold<IsMax>(acc, row[j]);
                       }
                       op[o] = (T)acc;
                     }
                   });
  } else if (r == 2 && !IsMax && std::is_same_v<T, float>) {
    // Two runs added (an upsampling's gradient over one of its axes of 2): as below, in f32.
    parallel_range(outer, std::max<int64_t>(1, 16384 / (2 * inner)), [&](int64_t lo, int64_t hi) {
      if constexpr (std::is_same_v<T, float>)
        sum_run_pairs(xp + lo * 2 * inner, inner, op + lo * inner, hi - lo);
    });
  } else if (inner <= 64) {
    // Short inner runs (an upsampling's gradient: [.., 14, 2, 14] summed over the 2): whole
    // [r, inner] blocks per outer index, the same adds in the same order as below.
    parallel_range(outer, std::max<int64_t>(1, 16384 / (r * inner + 1)),
                   [&](int64_t lo, int64_t hi) {
                     Acc acc[64];
                     for (int64_t o = lo; o < hi; ++o) {
                       const T* base = xp + o * r * inner;
                       for (int64_t k = 0; k < inner; ++k) acc[k] = r == 0 ? Acc(0) : Acc(base[k]);
                       for (int64_t j = 1; j < r; ++j) {
                         const T* row = base + j * inner;
                         for (int64_t k = 0; k < inner; ++k) {
                           fold<IsMax>(acc[k], row[k]);
                         }
                       }
                       for (int64_t k = 0; k < inner; ++k) op[o * inner + k] = (T)acc[k];
                     }
                   });
  } else {
    parallel_range(outer * inner, 4096, [&](int64_t lo, int64_t hi) {
      std::vector<Acc> acc;
      // Process [lo, hi) as pieces of rows of the [outer, inner] output.
      int64_t pos = lo;
      while (pos < hi) {
        int64_t o = pos / inner, i0 = pos % inner;
        int64_t len = std::min(inner - i0, hi - pos);
        const T* base = xp + o * r * inner + i0;
        if (r == 0)
          acc.assign(len, Acc(0));
        else
          acc.assign(base, base + len);
        for (int64_t j = 1; j < r; ++j) {
          const T* row = base + j * inner;
          for (int64_t k = 0; k < len; ++k) {
            fold<IsMax>(acc[k], row[k]);
          }
        }
        for (int64_t k = 0; k < len; ++k) op[pos + k] = (T)acc[k];
        pos += len;
      }
    });
  }
  return out;
}

template <bool IsMax>
Tensor reduce_one(const Tensor& x, int axis) {
  switch (x.dtype()) {
    case DType::f32:
      return reduce_axis<float, double, IsMax>(x, axis);
    case DType::f64:
      return reduce_axis<double, double, IsMax>(x, axis);
    case DType::i32:
      return reduce_axis<int32_t, int64_t, IsMax>(x, axis);
    case DType::i64:
      return reduce_axis<int64_t, int64_t, IsMax>(x, axis);
    default:
      fail("reduce: unsupported dtype {}", dtype_name(x.dtype()));
  }
}

template <bool IsMax>
Tensor reduce_kernel(const Node& n, std::span<const Tensor> in) {
  bool half = in[0].dtype() == DType::bf16 || in[0].dtype() == DType::f16;
  Tensor x = half ? in[0].to(DType::f32) : in[0];
  // Reduce the highest axis first so the remaining axis numbers stay valid.
  for (auto it = n.attrs.axes.rbegin(); it != n.attrs.axes.rend(); ++it)
    x = reduce_one<IsMax>(x, (int)*it);
  if (half) x = x.to(n.dtype);
  return x.reshaped(n.shape);
}

}  // namespace

void register_reduce(KernelTable& t) {
  t[(int)Op::reduce_sum] = reduce_kernel<false>;
  t[(int)Op::reduce_max] = reduce_kernel<true>;
}

}  // namespace fx::cpu
