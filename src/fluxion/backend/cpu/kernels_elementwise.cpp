// Elementwise kernels with numpy broadcasting. The hot f32 loops are plain functions
// cloned per ISA (target_clones: x86-64-v3, i.e. AVX2 with FMA, or baseline, chosen at load
// time by the CPU), so one binary is fast here and still runs on a CPU without AVX2. The
// file is built with -ffp-contract=off (CMakeLists.txt): the only FMAs are vector_math.h's
// explicit ones, as in the generated kernels.
// bf16/f16 are computed in f32 and stored back, as ggml and PyTorch's CPU kernels do.
#include <array>
#include <cmath>

#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/backend/cpu/vector_math.h"
#include "fluxion/core/error.h"

#define FX_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))

namespace fx::cpu {

namespace {

// Input strides over the output's index space (0 on broadcast axes), with adjacent
// axes merged whenever every operand allows it, so same-shape ops become one flat loop.
template <int N>
struct Layout {
  Shape dims;
  std::array<std::vector<int64_t>, N> strides;
};

template <int N>
Layout<N> broadcast_layout(const Shape& out, const std::array<const Shape*, N>& ins) {
  int r = (int)out.size();
  std::array<std::vector<int64_t>, N> st;
  for (int k = 0; k < N; ++k) {
    const Shape& s = *ins[k];
    st[k].assign(r, 0);
    int64_t acc = 1;
    for (int i = r - 1, j = (int)s.size() - 1; i >= 0; --i, --j) {
      int64_t d = j >= 0 ? s[j] : 1;
      st[k][i] = (d == 1 && out[i] != 1) ? 0 : acc;
      acc *= d;
    }
  }
  Layout<N> l;
  for (int i = 0; i < r; ++i) {
    if (out[i] == 1) continue;  // size-1 axes carry no iteration
    bool merge = !l.dims.empty();
    for (int k = 0; k < N && merge; ++k) merge = l.strides[k].back() == st[k][i] * out[i];
    if (merge) {
      l.dims.back() *= out[i];
      for (int k = 0; k < N; ++k) l.strides[k].back() = st[k][i];
    } else {
      l.dims.push_back(out[i]);
      for (int k = 0; k < N; ++k) l.strides[k].push_back(st[k][i]);
    }
  }
  if (l.dims.empty()) {
    l.dims.push_back(1);
    for (int k = 0; k < N; ++k) l.strides[k].push_back(0);
  }
  return l;
}

// Calls row(out_offset, in_offsets, length, inner_strides) over contiguous runs of the
// innermost axis, with the flat output range split across threads.
template <int N, typename Row>
void for_each_run(const Layout<N>& l, int64_t total, Row row) {
  int r = (int)l.dims.size();
  int64_t inner = l.dims[r - 1];
  std::array<int64_t, N> inner_stride;
  for (int k = 0; k < N; ++k) inner_stride[k] = l.strides[k][r - 1];
  parallel_range(total, 16384, [&](int64_t lo, int64_t hi) {
    std::vector<int64_t> idx(r, 0);
    int64_t rem = lo;
    for (int i = r - 1; i >= 0; --i) {
      idx[i] = rem % l.dims[i];
      rem /= l.dims[i];
    }
    int64_t pos = lo;
    while (pos < hi) {
      std::array<int64_t, N> off{};
      for (int k = 0; k < N; ++k)
        for (int i = 0; i < r; ++i) off[k] += idx[i] * l.strides[k][i];
      int64_t len = std::min(inner - idx[r - 1], hi - pos);
      row(pos, off, len, inner_stride);
      pos += len;
      idx[r - 1] += len;
      for (int i = r - 1; i > 0 && idx[i] == l.dims[i]; --i) {
        idx[i] = 0;
        ++idx[i - 1];
      }
    }
  });
}

template <typename T>
inline T unary_op(Op op, T x) {
  switch (op) {
    case Op::neg:
      return -x;
    case Op::abs:
      return x < 0 ? -x : x;
    case Op::sign:
      return (T)((x > 0) - (x < 0));
    default:
      break;
  }
  if constexpr (std::is_floating_point_v<T>) {
    switch (op) {
      case Op::exp:
        return std::exp(x);
      case Op::log:
        return std::log(x);
      case Op::sin:
        return std::sin(x);
      case Op::cos:
        return std::cos(x);
      case Op::tanh:
        return std::tanh(x);
      case Op::sqrt:
        return std::sqrt(x);
      case Op::rsqrt:
        return T(1) / std::sqrt(x);
      case Op::sigmoid:
        return T(1) / (T(1) + std::exp(-x));
      case Op::erf:
        return std::erf(x);
      case Op::floor:
        return std::floor(x);
      default:
        break;
    }
  }
  return x;
}

// f32 loops with the vectorisable math; the switch sits outside the loop.
FX_CLONES void unary_f32(Op op, const float* __restrict x, float* __restrict y, int64_t n) {
  switch (op) {
    case Op::exp:
      for (int64_t i = 0; i < n; ++i) y[i] = fast_exp(x[i]);
      return;
    case Op::log:
      for (int64_t i = 0; i < n; ++i) y[i] = fast_log(x[i]);
      return;
    case Op::sigmoid:
      for (int64_t i = 0; i < n; ++i) y[i] = fast_sigmoid(x[i]);
      return;
    case Op::tanh:
      for (int64_t i = 0; i < n; ++i) y[i] = fast_tanh(x[i]);
      return;
    case Op::erf:
      for (int64_t i = 0; i < n; ++i) y[i] = fast_erf(x[i]);
      return;
    case Op::neg:
      for (int64_t i = 0; i < n; ++i) y[i] = -x[i];
      return;
    case Op::sqrt:
      for (int64_t i = 0; i < n; ++i) y[i] = std::sqrt(x[i]);
      return;
    case Op::rsqrt:
      for (int64_t i = 0; i < n; ++i) y[i] = 1.0f / std::sqrt(x[i]);
      return;
    case Op::abs:
      for (int64_t i = 0; i < n; ++i) y[i] = std::fabs(x[i]);
      return;
    default:
      for (int64_t i = 0; i < n; ++i) y[i] = unary_op<float>(op, x[i]);
      return;
  }
}

template <typename T>
void unary_typed(const Node& n, const Tensor& x, Tensor& y) {
  const T* xp = x.data<T>();
  T* yp = y.data<T>();
  Op op = n.op;
  parallel_range(x.numel(), 16384, [&](int64_t lo, int64_t hi) {
    if constexpr (std::is_same_v<T, float>) {
      unary_f32(op, xp + lo, yp + lo, hi - lo);
    } else {
      for (int64_t i = lo; i < hi; ++i) yp[i] = unary_op<T>(op, xp[i]);
    }
  });
}

bool is_half(DType d) { return d == DType::bf16 || d == DType::f16; }

// Runs a kernel on f32 copies of half-precision inputs, then narrows the result.
template <typename F>
Tensor via_f32(const Node& n, std::span<const Tensor> in, F f) {
  std::vector<Tensor> wide;
  for (const Tensor& t : in) wide.push_back(is_half(t.dtype()) ? t.to(DType::f32) : t);
  Tensor out = f(std::span<const Tensor>(wide));
  return out.dtype() == DType::f32 && is_half(n.dtype) ? out.to(n.dtype) : out;
}

Tensor unary_kernel(const Node& n, std::span<const Tensor> in) {
  if (is_half(in[0].dtype()))
    return via_f32(n, in, [&](std::span<const Tensor> w) { return unary_kernel(n, w); });
  Tensor y(n.shape, in[0].dtype());
  switch (in[0].dtype()) {
    case DType::f32:
      unary_typed<float>(n, in[0], y);
      break;
    case DType::f64:
      unary_typed<double>(n, in[0], y);
      break;
    case DType::i32:
      unary_typed<int32_t>(n, in[0], y);
      break;
    case DType::i64:
      unary_typed<int64_t>(n, in[0], y);
      break;
    default:
      fail("{}: unsupported dtype {}", op_name(n.op), dtype_name(in[0].dtype()));
  }
  return y;
}

Tensor logical_not_kernel(const Node& n, std::span<const Tensor> in) {
  Tensor y(n.shape, DType::boolean);
  const uint8_t* x = in[0].data<uint8_t>();
  uint8_t* o = y.data<uint8_t>();
  for (int64_t i = 0; i < y.numel(); ++i) o[i] = !x[i];
  return y;
}

template <typename T, typename R>
inline R binary_op(Op op, T a, T b) {
  switch (op) {
    case Op::add:
      return a + b;
    case Op::sub:
      return a - b;
    case Op::mul:
      return a * b;
    case Op::div:
      if constexpr (std::is_integral_v<T>)
        return b == 0 ? 0 : a / b;  // no trap
      else
        return a / b;
    case Op::pow:
      if constexpr (std::is_floating_point_v<T>)
        return std::pow(a, b);
      else
        return 0;
    case Op::maximum:
      if constexpr (std::is_floating_point_v<T>)
        return (a != a || b != b) ? a + b : (a > b ? a : b);
      else
        return a > b ? a : b;
    case Op::minimum:
      if constexpr (std::is_floating_point_v<T>)
        return (a != a || b != b) ? a + b : (a < b ? a : b);
      else
        return a < b ? a : b;
    case Op::lt:
      return a < b;
    case Op::le:
      return a <= b;
    case Op::gt:
      return a > b;
    case Op::ge:
      return a >= b;
    case Op::eq:
      return a == b;
    case Op::ne:
      return a != b;
    case Op::logical_and:
      return a && b;
    case Op::logical_or:
      return a || b;
    default:
      return 0;
  }
}

// The hot arithmetic ops get their own loops so the compiler vectorises them for the
// common stride patterns (both contiguous, or one operand broadcast along the run).
template <typename T, typename R, Op OP>
void run_loop(const T* a, int64_t sa, const T* b, int64_t sb, R* o, int64_t len) {
  if (sa == 1 && sb == 1)
    for (int64_t j = 0; j < len; ++j) o[j] = binary_op<T, R>(OP, a[j], b[j]);
  else if (sa == 1 && sb == 0)
    for (int64_t j = 0; j < len; ++j) o[j] = binary_op<T, R>(OP, a[j], b[0]);
  else if (sa == 0 && sb == 1)
    for (int64_t j = 0; j < len; ++j) o[j] = binary_op<T, R>(OP, a[0], b[j]);
  else
    for (int64_t j = 0; j < len; ++j) o[j] = binary_op<T, R>(OP, a[j * sa], b[j * sb]);
}

// f32 arithmetic runs: a plain function so it can be cloned per ISA.
FX_CLONES void binary_f32_run(Op op, const float* a, int64_t sa, const float* b, int64_t sb,
                              float* o, int64_t len) {
  switch (op) {
    case Op::add:
      return run_loop<float, float, Op::add>(a, sa, b, sb, o, len);
    case Op::sub:
      return run_loop<float, float, Op::sub>(a, sa, b, sb, o, len);
    case Op::mul:
      return run_loop<float, float, Op::mul>(a, sa, b, sb, o, len);
    case Op::div:
      return run_loop<float, float, Op::div>(a, sa, b, sb, o, len);
    default:
      for (int64_t j = 0; j < len; ++j) o[j] = binary_op<float, float>(op, a[j * sa], b[j * sb]);
  }
}

template <typename T, typename R>
void binary_typed(Op op, const Tensor& a, const Tensor& b, Tensor& out) {
  Layout<2> l = broadcast_layout<2>(out.shape(), {&a.shape(), &b.shape()});
  const T* ap = a.data<T>();
  const T* bp = b.data<T>();
  R* op_ = out.data<R>();
  auto row = [&](int64_t pos, std::array<int64_t, 2> off, int64_t len, std::array<int64_t, 2> s) {
    const T* x = ap + off[0];
    const T* y = bp + off[1];
    R* o = op_ + pos;
    if constexpr (std::is_same_v<T, float> && std::is_same_v<R, float>)
      return binary_f32_run(op, x, s[0], y, s[1], o, len);
    switch (op) {
      case Op::add:
        return run_loop<T, R, Op::add>(x, s[0], y, s[1], o, len);
      case Op::sub:
        return run_loop<T, R, Op::sub>(x, s[0], y, s[1], o, len);
      case Op::mul:
        return run_loop<T, R, Op::mul>(x, s[0], y, s[1], o, len);
      case Op::div:
        return run_loop<T, R, Op::div>(x, s[0], y, s[1], o, len);
      default:
        for (int64_t j = 0; j < len; ++j) o[j] = binary_op<T, R>(op, x[j * s[0]], y[j * s[1]]);
    }
  };
  if (out.numel() > 0) for_each_run<2>(l, out.numel(), row);
}

template <typename R>
void binary_dispatch(Op op, const Tensor& a, const Tensor& b, Tensor& out) {
  switch (a.dtype()) {
    case DType::f32:
      return binary_typed<float, R>(op, a, b, out);
    case DType::f64:
      return binary_typed<double, R>(op, a, b, out);
    case DType::i32:
      return binary_typed<int32_t, R>(op, a, b, out);
    case DType::i64:
      return binary_typed<int64_t, R>(op, a, b, out);
    case DType::boolean:
      return binary_typed<uint8_t, R>(op, a, b, out);
    default:
      fail("{}: unsupported dtype {}", op_name(op), dtype_name(a.dtype()));
  }
}

Tensor binary_kernel(const Node& n, std::span<const Tensor> in) {
  if (is_half(in[0].dtype()))
    return via_f32(n, in, [&](std::span<const Tensor> w) { return binary_kernel(n, w); });
  Tensor out(n.shape, n.dtype == DType::boolean ? DType::boolean : in[0].dtype());
  if (n.dtype == DType::boolean) {
    binary_dispatch<uint8_t>(n.op, in[0], in[1], out);
    return out;
  }
  switch (out.dtype()) {
    case DType::f32:
      binary_typed<float, float>(n.op, in[0], in[1], out);
      break;
    case DType::f64:
      binary_typed<double, double>(n.op, in[0], in[1], out);
      break;
    case DType::i32:
      binary_typed<int32_t, int32_t>(n.op, in[0], in[1], out);
      break;
    case DType::i64:
      binary_typed<int64_t, int64_t>(n.op, in[0], in[1], out);
      break;
    default:
      fail("{}: unsupported dtype {}", op_name(n.op), dtype_name(out.dtype()));
  }
  return out;
}

template <typename T>
void where_typed(const Tensor& c, const Tensor& a, const Tensor& b, Tensor& out) {
  Layout<3> l = broadcast_layout<3>(out.shape(), {&c.shape(), &a.shape(), &b.shape()});
  const uint8_t* cp = c.data<uint8_t>();
  const T* ap = a.data<T>();
  const T* bp = b.data<T>();
  T* o = out.data<T>();
  for_each_run<3>(
      l, out.numel(),
      [&](int64_t pos, std::array<int64_t, 3> off, int64_t len, std::array<int64_t, 3> s) {
        for (int64_t j = 0; j < len; ++j)
          o[pos + j] = cp[off[0] + j * s[0]] ? ap[off[1] + j * s[1]] : bp[off[2] + j * s[2]];
      });
}

Tensor where_kernel(const Node& n, std::span<const Tensor> in) {
  Tensor out(n.shape, n.dtype);
  if (out.numel() == 0) return out;
  switch (dtype_size(n.dtype)) {
    case 1:
      where_typed<uint8_t>(in[0], in[1], in[2], out);
      break;
    case 2:
      where_typed<uint16_t>(in[0], in[1], in[2], out);
      break;
    case 4:
      where_typed<uint32_t>(in[0], in[1], in[2], out);
      break;
    case 8:
      where_typed<uint64_t>(in[0], in[1], in[2], out);
      break;
  }
  return out;
}

Tensor cast_kernel(const Node& n, std::span<const Tensor> in) { return in[0].to(n.dtype); }
Tensor identity_kernel(const Node& n, std::span<const Tensor> in) { return in[0]; }

}  // namespace

void register_elementwise(KernelTable& t) {
  for (Op op : {Op::neg, Op::exp, Op::log, Op::sin, Op::cos, Op::tanh, Op::sqrt, Op::rsqrt, Op::abs,
                Op::sign, Op::sigmoid, Op::erf, Op::floor})
    t[(int)op] = unary_kernel;
  t[(int)Op::logical_not] = logical_not_kernel;
  for (Op op : {Op::add, Op::sub, Op::mul, Op::div, Op::pow, Op::maximum, Op::minimum, Op::lt,
                Op::le, Op::gt, Op::ge, Op::eq, Op::ne, Op::logical_and, Op::logical_or})
    t[(int)op] = binary_kernel;
  t[(int)Op::where] = where_kernel;
  t[(int)Op::cast] = cast_kernel;
  t[(int)Op::stop_gradient] = identity_kernel;
}

}  // namespace fx::cpu
