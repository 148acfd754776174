// linear_scan kernels. Layout: b as [outer, T, inner] complex pairs; a per step (same
// layout) or shared [inner]. Channels (outer x inner) are independent, so both kernels
// split them across threads; the chunked kernel also splits time. Arithmetic is in the
// tensor's dtype, as PyTorch's complex64 scan.
#include "fluxion/backend/cpu/kernels_scan.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <vector>

#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/core/error.h"

#define FX_CLONES __attribute__((target_clones("avx2", "default")))

namespace fx::cpu {

namespace {

std::atomic<int64_t> g_scan_chunk{0};

struct Layout {
  int64_t outer = 1, T = 1, inner = 1;
  bool per_step = false;  // a has b's shape
  bool reverse = false;
  // Physical time index of scan step s.
  int64_t t(int64_t s) const { return reverse ? T - 1 - s : s; }
  // Offset (in complex elements) of (o, t, i) in b and h.
  int64_t at(int64_t o, int64_t t, int64_t i) const { return (o * T + t) * inner + i; }
};

Layout layout_of(const Tensor& a, const Tensor& b, int axis, bool reverse) {
  const Shape& s = b.shape();
  FX_CHECK(s.size() >= 2 && s.back() == 2 && axis >= 0 && axis < (int)s.size() - 1,
           "linear_scan kernel: bad shape {} / axis {}", shape_str(s), axis);
  Layout L;
  for (int i = 0; i < axis; ++i) L.outer *= s[i];
  L.T = s[axis];
  for (int i = axis + 1; i + 1 < (int)s.size(); ++i) L.inner *= s[i];
  L.per_step = a.shape() == s;
  FX_CHECK(L.per_step || a.numel() == 2 * L.inner, "linear_scan kernel: a {} does not fit b {}",
           shape_str(a.shape()), shape_str(s));
  FX_CHECK(a.dtype() == b.dtype(), "linear_scan kernel: dtypes differ");
  L.reverse = reverse;
  return L;
}

constexpr int64_t kBlock = 256;  // channels per work item: one contiguous run of a row

// One scan step over n channels: st <- a * st + b, h <- st. Plain functions per dtype,
// cloned per ISA and with restrict pointers, so GCC vectorises the interleaved complex
// product (a template cannot carry target_clones).
#define FX_SCAN_STEP(T)                                                                    \
  FX_CLONES void scan_step(const T* __restrict a, const T* __restrict b, T* __restrict st, \
                           T* __restrict h, int64_t n) {                                   \
    for (int64_t j = 0; j < n; ++j) {                                                      \
      T ar = a[2 * j], ai = a[2 * j + 1], pr = st[2 * j], pi = st[2 * j + 1];              \
      T nr = ar * pr - ai * pi + b[2 * j];                                                 \
      T ni = ar * pi + ai * pr + b[2 * j + 1];                                             \
      st[2 * j] = nr;                                                                      \
      st[2 * j + 1] = ni;                                                                  \
      h[2 * j] = nr;                                                                       \
      h[2 * j + 1] = ni;                                                                   \
    }                                                                                      \
  }
FX_SCAN_STEP(float)
FX_SCAN_STEP(double)
#undef FX_SCAN_STEP

// Runs scan steps [s0, s1) for channels [i0, i1) of row o, starting from state st
// (2*(i1-i0) values, updated in place) and writing h. If prod is given, it is multiplied
// by every coefficient on the way (the chunk's total coefficient, for the carry pass).
template <typename T>
void scan_block(const Layout& L, const T* a, const T* b, T* h, int64_t o, int64_t i0, int64_t i1,
                int64_t s0, int64_t s1, T* st, T* prod) {
  const int64_t n = i1 - i0;
  for (int64_t s = s0; s < s1; ++s) {
    int64_t off = L.at(o, L.t(s), i0);
    const T* ap = L.per_step ? a + 2 * off : a + 2 * i0;
    scan_step(ap, b + 2 * off, st, h + 2 * off, n);
    if (prod) {
      for (int64_t j = 0; j < n; ++j) {
        T ar = ap[2 * j], ai = ap[2 * j + 1], pr = prod[2 * j], pi = prod[2 * j + 1];
        prod[2 * j] = ar * pr - ai * pi;
        prod[2 * j + 1] = ar * pi + ai * pr;
      }
    }
  }
}

// Adds the carried-in state z, propagated by the coefficients, to steps [s0, s1):
// z <- a_t z; h_t += z.
template <typename T>
void fixup_block(const Layout& L, const T* a, T* h, int64_t o, int64_t i0, int64_t i1, int64_t s0,
                 int64_t s1, T* z) {
  const int64_t n = i1 - i0;
  for (int64_t s = s0; s < s1; ++s) {
    int64_t off = L.at(o, L.t(s), i0);
    const T* ap = L.per_step ? a + 2 * off : a + 2 * i0;
    T* hp = h + 2 * off;
    for (int64_t j = 0; j < n; ++j) {
      T ar = ap[2 * j], ai = ap[2 * j + 1], zr = z[2 * j], zi = z[2 * j + 1];
      T nr = ar * zr - ai * zi, ni = ar * zi + ai * zr;
      z[2 * j] = nr;
      z[2 * j + 1] = ni;
      hp[2 * j] += nr;
      hp[2 * j + 1] += ni;
    }
  }
}

int64_t blocks_per_row(const Layout& L) { return (L.inner + kBlock - 1) / kBlock; }

// Work items per thread task so that waking a thread pays off (~64K complex updates).
int64_t grain_for(int64_t steps_per_item, const Layout& L) {
  return std::max<int64_t>(
      1, 65536 / std::max<int64_t>(1, steps_per_item * std::min(L.inner, kBlock)));
}

template <typename T>
void sequential(const Layout& L, const T* a, const T* b, T* h) {
  const int64_t nb = blocks_per_row(L);
  parallel_range(L.outer * nb, grain_for(L.T, L), [&](int64_t lo, int64_t hi) {
    std::vector<T> st(2 * kBlock);
    for (int64_t w = lo; w < hi; ++w) {
      int64_t o = w / nb, i0 = (w % nb) * kBlock, i1 = std::min(L.inner, i0 + kBlock);
      std::fill(st.begin(), st.end(), T(0));
      scan_block(L, a, b, h, o, i0, i1, 0, L.T, st.data(), (T*)nullptr);
    }
  });
}

template <typename T>
void chunked(const Layout& L, const T* a, const T* b, T* h, int64_t chunk) {
  const int64_t C = (L.T + chunk - 1) / chunk;
  const int64_t channels = L.outer * L.inner, nb = blocks_per_row(L);
  // Per chunk: its end state from zero (E) and the product of its coefficients (P).
  std::vector<T> E((size_t)(2 * C * channels)), P((size_t)(2 * C * channels));
  auto chunk_steps = [&](int64_t c) {
    return std::pair<int64_t, int64_t>{c * chunk, std::min(L.T, (c + 1) * chunk)};
  };
  // 1. Local scans, parallel over chunks (and channels within a chunk).
  parallel_range(C * L.outer * nb, grain_for(chunk, L), [&](int64_t lo, int64_t hi) {
    for (int64_t w = lo; w < hi; ++w) {
      int64_t c = w / (L.outer * nb), r = w % (L.outer * nb);
      int64_t o = r / nb, i0 = (r % nb) * kBlock, i1 = std::min(L.inner, i0 + kBlock);
      T* e = E.data() + 2 * (c * channels + o * L.inner + i0);
      T* p = P.data() + 2 * (c * channels + o * L.inner + i0);
      std::fill(e, e + 2 * (i1 - i0), T(0));
      for (int64_t j = 0; j < i1 - i0; ++j) p[2 * j] = T(1), p[2 * j + 1] = T(0);
      auto [s0, s1] = chunk_steps(c);
      scan_block(L, a, b, h, o, i0, i1, s0, s1, e, p);
    }
  });
  // 2. Carries: state entering chunk c+1 = P_c * (state entering c) + E_c. Overwrites E
  // with the state entering the chunk (chunk 0 enters with zero).
  parallel_range(channels, std::max<int64_t>(1024, 65536 / C), [&](int64_t lo, int64_t hi) {
    for (int64_t k = lo; k < hi; ++k) {
      T zr = 0, zi = 0;
      for (int64_t c = 0; c < C; ++c) {
        T* e = E.data() + 2 * (c * channels + k);
        const T* p = P.data() + 2 * (c * channels + k);
        T nr = p[0] * zr - p[1] * zi + e[0], ni = p[0] * zi + p[1] * zr + e[1];
        e[0] = zr;
        e[1] = zi;
        zr = nr;
        zi = ni;
      }
    }
  });
  // 3. Fix-up of chunks 1.., parallel over chunks and channels.
  if (C < 2) return;
  parallel_range((C - 1) * L.outer * nb, grain_for(chunk, L), [&](int64_t lo, int64_t hi) {
    for (int64_t w = lo; w < hi; ++w) {
      int64_t c = 1 + w / (L.outer * nb), r = w % (L.outer * nb);
      int64_t o = r / nb, i0 = (r % nb) * kBlock, i1 = std::min(L.inner, i0 + kBlock);
      T* z = E.data() + 2 * (c * channels + o * L.inner + i0);
      auto [s0, s1] = chunk_steps(c);
      fixup_block(L, a, h, o, i0, i1, s0, s1, z);
    }
  });
}

template <typename F>
void run_typed(const Tensor& a, const Tensor& b, int axis, bool reverse, Tensor& h, F&& f) {
  Layout L = layout_of(a, b, axis, reverse);
  FX_CHECK(h.shape() == b.shape() && h.dtype() == b.dtype(),
           "linear_scan: output {}{} does not match b {}{}", dtype_name(h.dtype()),
           shape_str(h.shape()), dtype_name(b.dtype()), shape_str(b.shape()));
  if (b.dtype() == DType::f32)
    f(L, a.data<float>(), b.data<float>(), h.data<float>());
  else if (b.dtype() == DType::f64)
    f(L, a.data<double>(), b.data<double>(), h.data<double>());
  else
    fail("linear_scan: unsupported dtype {}", dtype_name(b.dtype()));
}

void sequential_into(const Tensor& a, const Tensor& b, int axis, bool reverse, Tensor& h) {
  run_typed(a, b, axis, reverse, h,
            [](const Layout& L, auto* ap, auto* bp, auto* hp) { sequential(L, ap, bp, hp); });
}

void chunked_into(const Tensor& a, const Tensor& b, int axis, bool reverse, int64_t chunk,
                  Tensor& h) {
  FX_CHECK(chunk > 0, "linear_scan: chunk length must be positive, got {}", chunk);
  run_typed(a, b, axis, reverse, h, [chunk](const Layout& L, auto* ap, auto* bp, auto* hp) {
    chunked(L, ap, bp, hp, chunk);
  });
}

Tensor scan_kernel(const Node& n, std::span<const Tensor> in) {
  Tensor h(in[1].shape(), in[1].dtype());
  linear_scan_into(n, in, h);
  return h;
}

// scan_coefficient_grad: da = sum d_t * conj(h_prev(t)), h_prev the state one scan step
// earlier (zero before the first). Per-step coefficients get the product itself; shared
// ones its sum over rows (o, t), which threads split into contiguous row ranges, each
// accumulated in f64 and then added in range order: the result depends only on the
// shape and the thread count, as every reduction here.
// out = d * conj(h), and acc += d * conj(h) in f64, over n complex pairs; cloned per ISA.
#define FX_MUL_CONJ(T)                                                                     \
  FX_CLONES void mul_conj(const T* __restrict d, const T* __restrict h, T* __restrict out, \
                          int64_t n) {                                                     \
    for (int64_t j = 0; j < n; ++j) {                                                      \
      T dr = d[2 * j], di = d[2 * j + 1], hr = h[2 * j], hi = h[2 * j + 1];                \
      out[2 * j] = dr * hr + di * hi;                                                      \
      out[2 * j + 1] = di * hr - dr * hi;                                                  \
    }                                                                                      \
  }                                                                                        \
  FX_CLONES void add_mul_conj(const T* __restrict d, const T* __restrict h,                \
                              double* __restrict acc, int64_t n) {                         \
    for (int64_t j = 0; j < n; ++j) {                                                      \
      T dr = d[2 * j], di = d[2 * j + 1], hr = h[2 * j], hi = h[2 * j + 1];                \
      acc[2 * j] += (double)(dr * hr + di * hi);                                           \
      acc[2 * j + 1] += (double)(di * hr - dr * hi);                                       \
    }                                                                                      \
  }
FX_MUL_CONJ(float)
FX_MUL_CONJ(double)
#undef FX_MUL_CONJ

template <typename T>
void coefficient_grad_per_step(const Layout& L, const T* d, const T* h, T* da) {
  const int64_t rows = L.outer * L.T, n = L.inner;
  const int64_t back = L.reverse ? -1 : 1;  // h_prev(t) = h_{t - back}
  parallel_range(rows, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, n)),
                 [&](int64_t lo, int64_t hi) {
                   for (int64_t r = lo; r < hi; ++r) {
                     int64_t t = r % L.T, tp = t - back;
                     const T* dp = d + 2 * r * n;
                     T* out = da + 2 * r * n;
                     if (tp < 0 || tp >= L.T) {
                       std::fill(out, out + 2 * n, T(0));
                       continue;
                     }
                     mul_conj(dp, h + 2 * (r - back) * n, out, n);
                   }
                 });
}

template <typename T>
void coefficient_grad_shared(const Layout& L, const T* d, const T* h, T* da) {
  const int64_t rows = L.outer * L.T, n = L.inner;
  const int64_t back = L.reverse ? -1 : 1;
  const int64_t parts =
      std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), rows * n / 16384));
  std::vector<double> acc((size_t)(parts * 2 * n), 0.0);
  parallel_range(parts, 1, [&](int64_t plo, int64_t phi) {
    for (int64_t p = plo; p < phi; ++p) {
      double* a = acc.data() + p * 2 * n;
      for (int64_t r = rows * p / parts; r < rows * (p + 1) / parts; ++r) {
        int64_t tp = r % L.T - back;
        if (tp < 0 || tp >= L.T) continue;
        add_mul_conj(d + 2 * r * n, h + 2 * (r - back) * n, a, n);
      }
    }
  });
  for (int64_t j = 0; j < 2 * n; ++j) {
    double s = 0;
    for (int64_t p = 0; p < parts; ++p) s += acc[p * 2 * n + j];
    da[j] = (T)s;
  }
}

Tensor coefficient_grad_kernel(const Node& n, std::span<const Tensor> in) {
  const Tensor &d = in[0], &h = in[1];
  Tensor a_like(n.shape, d.dtype());  // the output doubles as the coefficient layout
  Layout L = layout_of(a_like, d, (int)n.attrs.axes.at(0), n.attrs.reverse);
  auto run = [&](auto* dp, auto* hp, auto* out) {
    if (L.per_step)
      coefficient_grad_per_step(L, dp, hp, out);
    else
      coefficient_grad_shared(L, dp, hp, out);
  };
  if (d.dtype() == DType::f32)
    run(d.data<float>(), h.data<float>(), a_like.data<float>());
  else if (d.dtype() == DType::f64)
    run(d.data<double>(), h.data<double>(), a_like.data<double>());
  else
    fail("scan_coefficient_grad: unsupported dtype {}", dtype_name(d.dtype()));
  return a_like;
}

}  // namespace

void set_scan_chunk(int64_t chunk) { g_scan_chunk = chunk; }
int64_t scan_chunk() { return g_scan_chunk; }

Tensor linear_scan_sequential(const Tensor& a, const Tensor& b, int axis, bool reverse) {
  Tensor h(b.shape(), b.dtype());
  sequential_into(a, b, axis, reverse, h);
  return h;
}

Tensor linear_scan_chunked(const Tensor& a, const Tensor& b, int axis, bool reverse,
                           int64_t chunk) {
  Tensor h(b.shape(), b.dtype());
  chunked_into(a, b, axis, reverse, chunk, h);
  return h;
}

void linear_scan_into(const Node& n, std::span<const Tensor> in, Tensor& h) {
  const Tensor &a = in[0], &b = in[1];
  int axis = (int)n.attrs.axes.at(0);
  bool rev = n.attrs.reverse;
  int64_t mode = scan_chunk();
  if (mode < 0) return sequential_into(a, b, axis, rev, h);
  if (mode > 0) return chunked_into(a, b, axis, rev, mode, h);
  // Automatic: channel parallelism alone keeps every thread busy with long vector rows
  // when there are enough channels; chunking time costs a second pass over h.
  Layout L = layout_of(a, b, axis, rev);
  int threads = omp_get_max_threads();
  int64_t work_items = L.outer * blocks_per_row(L);
  if (threads == 1 || work_items >= 4 * threads || L.T < 64 * threads)
    return sequential_into(a, b, axis, rev, h);
  chunked_into(a, b, axis, rev, (L.T + 4 * threads - 1) / (4 * threads), h);
}

void register_scan(KernelTable& t) {
  t[(int)Op::linear_scan] = scan_kernel;
  t[(int)Op::scan_coefficient_grad] = coefficient_grad_kernel;
}

}  // namespace fx::cpu
