// dot through oneDNN's matmul primitive (measured fastest here, bench/RESULTS.md).
// Transposes are expressed as strides, so no transpose is ever materialised. Primitives
// are cached by problem; bf16/f16 fall back to f32 when oneDNN has no kernel for the CPU.
#include <cstring>
#include <dnnl.hpp>
#include <map>
#include <mutex>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/core/error.h"

namespace fx::cpu {

namespace {

using dnnl::memory;

// An epilogue addend as the primitive sees it.
enum class Addend : uint8_t { none, row, full };

struct MatmulKey {
  DType dtype;
  int64_t batch, m, n, k;
  bool ta, tb, shared_b;
  Addend add0 = Addend::none, add1 = Addend::none;  // binary-add post-ops, in order
  DType dst = DType::f32;                           // the stored result (epilogue cast)
  auto tie() const { return std::tie(dtype, batch, m, n, k, ta, tb, shared_b, add0, add1, dst); }
  bool operator<(const MatmulKey& o) const { return tie() < o.tie(); }
};

struct Matmul {
  dnnl::matmul::primitive_desc pd;
  dnnl::matmul prim;
};

struct OneDnn {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::mutex mu;
  std::map<MatmulKey, std::optional<Matmul>> cache;
};

OneDnn& onednn() {
  static OneDnn s;
  return s;
}

memory::data_type to_dnnl(DType d) {
  switch (d) {
    case DType::f32:
      return memory::data_type::f32;
    case DType::bf16:
      return memory::data_type::bf16;
    case DType::f16:
      return memory::data_type::f16;
    default:
      fail("dot: oneDNN has no {} matmul", dtype_name(d));
  }
}

// Returns nullopt when oneDNN has no implementation for this dtype on this CPU.
std::optional<Matmul> get_primitive(const MatmulKey& key) {
  OneDnn& s = onednn();
  std::lock_guard<std::mutex> lock(s.mu);
  auto it = s.cache.find(key);
  if (it != s.cache.end()) return it->second;
  auto dt = to_dnnl(key.dtype);
  int64_t B = key.batch, M = key.m, N = key.n, K = key.k;
  memory::desc a({B, M, K}, dt, key.ta ? memory::dims{M * K, 1, M} : memory::dims{M * K, K, 1});
  int64_t bb = key.shared_b ? 0 : K * N;
  memory::desc b({key.shared_b ? 1 : B, K, N}, dt,
                 key.tb ? memory::dims{bb, 1, K} : memory::dims{bb, N, 1});
  memory::desc c({B, M, N}, key.add0 == Addend::none ? dt : to_dnnl(key.dst),
                 memory::dims{M * N, N, 1});
  // The epilogue: binary adds on the f32 accumulator, in order, before the store.
  dnnl::post_ops po;
  for (Addend add : {key.add0, key.add1})
    if (add == Addend::row)
      po.append_binary(dnnl::algorithm::binary_add,
                       memory::desc({1, 1, N}, memory::data_type::f32, memory::dims{N, N, 1}));
    else if (add == Addend::full)
      po.append_binary(dnnl::algorithm::binary_add,
                       memory::desc({B, M, N}, memory::data_type::f32, memory::dims{M * N, N, 1}));
  dnnl::primitive_attr attr;
  attr.set_post_ops(po);
  std::optional<Matmul> prim;
  try {
    dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a, b, c), attr, s.engine);
    prim = Matmul{pd, dnnl::matmul(pd)};
  } catch (const dnnl::error&) {
    prim.reset();
  }
  s.cache[key] = prim;
  return prim;
}

template <typename T>
void reference_matmul(const MatmulKey& k, const T* a, const T* b, T* c) {
  parallel_range(k.batch * k.m, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t bm = lo; bm < hi; ++bm) {
      int64_t bi = bm / k.m, i = bm % k.m;
      const T* A = a + bi * k.m * k.k;
      const T* B = b + (k.shared_b ? 0 : bi * k.k * k.n);
      T* C = c + bm * k.n;
      for (int64_t j = 0; j < k.n; ++j) C[j] = 0;
      for (int64_t p = 0; p < k.k; ++p) {
        T av = k.ta ? A[p * k.m + i] : A[i * k.k + p];
        for (int64_t j = 0; j < k.n; ++j) C[j] += av * (k.tb ? B[j * k.k + p] : B[p * k.n + j]);
      }
    }
  });
}

// The problem a dot node poses, from its operands' shapes.
MatmulKey key_of(const Node& node, const Shape& as, const Shape& bs) {
  size_t ra = as.size(), rb = bs.size();
  MatmulKey k{node.dtype,       1, 0, 0, 0, node.attrs.transpose_a, node.attrs.transpose_b,
              rb == 2 && ra > 2};
  for (size_t i = 0; i + 2 < ra; ++i) k.batch *= as[i];
  k.m = k.ta ? as[ra - 1] : as[ra - 2];
  k.k = k.ta ? as[ra - 2] : as[ra - 1];
  k.n = k.tb ? bs[rb - 2] : bs[rb - 1];
  // A batch times a shared B with A not transposed is one big 2-D product.
  if (k.shared_b && !k.ta) {
    k.m *= k.batch;
    k.batch = 1;
    k.shared_b = false;
  }
  if (k.batch == 1) k.shared_b = false;
  return k;
}

// C = op(A) op(B) for a handful of contracted values (the encoder of a sequence model
// with one or two input features, an MLP's [x, t] input layer and its gradient):
// oneDNN takes ~100x the arithmetic's time on K = 1..4, while one pass per output row
// over a [K, N] copy of op(B) streams at memory speed. The sum runs in the order
// 0 + a0 b0 + a1 b1 + ..., the same for every K, vectorised over N (cloned for AVX2).
constexpr int64_t kSmallK = 4;

// Whether the product takes that loop: f32, one batch, 1 <= K <= kSmallK (small_k_dot tells
// the compiler the same, so its expansion keeps these bits).
bool runs_small_k(const MatmulKey& k) {
  return k.dtype == DType::f32 && k.batch == 1 && k.k > 0 && k.k <= kSmallK;
}

__attribute__((target_clones("avx2", "default"))) void small_k_row(const float* __restrict av,
                                                                   int64_t K,
                                                                   const float* __restrict bt,
                                                                   int64_t N, float* __restrict c) {
  const float a0 = av[0], a1 = K > 1 ? av[1] : 0.0f, a2 = K > 2 ? av[2] : 0.0f,
              a3 = K > 3 ? av[3] : 0.0f;
  const float *b0 = bt, *b1 = bt + N, *b2 = bt + 2 * N, *b3 = bt + 3 * N;
  switch (K) {
    case 1:
      for (int64_t j = 0; j < N; ++j) c[j] = 0.0f + a0 * b0[j];
      break;
    case 2:
      for (int64_t j = 0; j < N; ++j) c[j] = 0.0f + a0 * b0[j] + a1 * b1[j];
      break;
    case 3:
      for (int64_t j = 0; j < N; ++j) c[j] = 0.0f + a0 * b0[j] + a1 * b1[j] + a2 * b2[j];
      break;
    default:
      for (int64_t j = 0; j < N; ++j)
        c[j] = 0.0f + a0 * b0[j] + a1 * b1[j] + a2 * b2[j] + a3 * b3[j];
  }
}

// addends: the epilogue's f32 adds, applied to each row while it is in cache.
void small_k_matmul_f32(const MatmulKey& k, const float* a, const float* b, float* c,
                        std::span<const Tensor> addends = {}) {
  std::vector<float> bt((size_t)(k.k * k.n));  // op(B) as [K, N]
  for (int64_t p = 0; p < k.k; ++p)
    for (int64_t j = 0; j < k.n; ++j) bt[p * k.n + j] = k.tb ? b[j * k.k + p] : b[p * k.n + j];
  parallel_range(k.m, std::max<int64_t>(1, 16384 / std::max<int64_t>(k.n, 1)),
                 [&](int64_t lo, int64_t hi) {
                   float av[kSmallK];
                   for (int64_t i = lo; i < hi; ++i) {
                     for (int64_t p = 0; p < k.k; ++p)
                       av[p] = k.ta ? a[p * k.m + i] : a[i * k.k + p];
                     float* row = c + i * k.n;
                     small_k_row(av, k.k, bt.data(), k.n, row);
                     for (const Tensor& t : addends) {
                       const float* add = t.data<float>();
                       if (t.numel() == k.m * k.n) add += i * k.n;
                       for (int64_t j = 0; j < k.n; ++j) row[j] = row[j] + add[j];
                     }
                   }
                 });
}

// The epilogue without oneDNN: the same f32 adds in the same order, then the store.
void reference_epilogue(const Tensor& product, std::span<const Tensor> addends, Tensor& out) {
  const float* c = product.data<float>();
  const int64_t total = product.numel(), N = product.shape().back();
  std::vector<const float*> adds;
  for (const Tensor& t : addends) adds.push_back(t.data<float>());
  Tensor sum(product.shape(), DType::f32);
  float* z = sum.data<float>();
  for (int64_t i = 0; i < total; ++i) {
    float v = c[i];
    for (size_t a = 0; a < adds.size(); ++a)
      v = v + adds[a][addends[a].numel() == total ? i : i % N];
    z[i] = v;
  }
  if (out.dtype() == DType::f32)
    std::memcpy(out.raw(), z, out.nbytes());
  else
    convert(z, DType::f32, out.raw(), out.dtype(), total);
}

// Whether C = A^T B (a weight gradient: both operands [K, ·] row-major) runs faster as
// (B^T A)^T, the small product transposed afterwards. Measured with oneDNN 2.6 on AVX-512
// (bench/RESULTS.md, "weight-gradient orientation"): N a multiple of 512 runs 1.2-2.1x
// slower than the flipped product (M 32..256, K 1,024..131,072: the LRU's B projection),
// and N <= 16 up to 3x slower (an MLP's output layer); other shapes within +-6%, and some
// slower flipped, so only these flip. oneDNN may sum over K in another order flipped (the
// bits of [32768, 128]^T [32768, 2] differ, those of [131072, 128]^T [131072, 512] do not);
// the interpreter and the compiled executor both come here, so they still agree bit for bit.
bool weight_gradient_runs_flipped(int64_t m, int64_t n) {
  // (m > 16 in the first case: the flipped product never flips back.)
  return (n % 512 == 0 && m % 512 != 0 && m > 16) || (n <= 16 && m >= 4 * n && m >= 64);
}

void dot_with_epilogue(const Node& node, std::span<const Tensor> in, Tensor& C,
                       std::span<const Tensor> addends);

// C = A^T B computed as (B^T A)^T: the product into a [N, M] buffer, then transposed.
void flipped_weight_gradient(const Node& node, const Tensor& A, const Tensor& B, Tensor& C) {
  const int64_t M = node.shape[0], N = node.shape[1];
  Node flipped = node;
  flipped.shape = {N, M};
  Tensor ct({N, M}, DType::f32);
  Tensor ins[2] = {B, A};
  dot_with_epilogue(flipped, ins, ct, {});
  const float* src = ct.data<float>();
  float* dst = C.data<float>();
  parallel_range(M, 16, [&](int64_t lo, int64_t hi) {
    for (int64_t i = lo; i < hi; ++i)
      for (int64_t j = 0; j < N; ++j) dst[i * N + j] = src[j * M + i];
  });
}

void dot_with_epilogue(const Node& node, std::span<const Tensor> in, Tensor& C,
                       std::span<const Tensor> addends) {
  const Tensor &A = in[0], &B = in[1];
  const Shape &as = A.shape(), &bs = B.shape();
  size_t ra = as.size(), rb = bs.size();
  MatmulKey k = key_of(node, as, bs);
  if (C.numel() == 0) return;
  const bool epilogue = !addends.empty() || C.dtype() != node.dtype;
  // Where oneDNN does not run (or takes no post-ops): the product, then the same adds.
  auto unfused = [&] {
    Tensor product(node.shape, DType::f32);
    dot_with_epilogue(node, in, product, {});
    reference_epilogue(product, addends, C);
  };
  const bool small_k = runs_small_k(k);
  if (epilogue && small_k && C.dtype() == DType::f32)
    return small_k_matmul_f32(k, A.data<float>(), B.data<float>(), C.data<float>(), addends);
  if (epilogue && (k.k == 0 || small_k)) return unfused();
  if (epilogue) {
    Addend* slot[2] = {&k.add0, &k.add1};
    for (size_t i = 0; i < addends.size(); ++i)
      *slot[i] = addends[i].numel() == C.numel() ? Addend::full : Addend::row;
    k.dst = C.dtype();
  }
  if (k.k == 0) {
    std::memset(C.raw(), 0, C.nbytes());
    return;
  }
  if (node.dtype == DType::f64) {
    reference_matmul<double>(k, A.data<double>(), B.data<double>(), C.data<double>());
    return;
  }
  if (small_k) {
    small_k_matmul_f32(k, A.data<float>(), B.data<float>(), C.data<float>());
    return;
  }
  if (!epilogue && node.dtype == DType::f32 && k.batch == 1 && ra == 2 && rb == 2 && k.ta &&
      !k.tb && weight_gradient_runs_flipped(k.m, k.n))
    return flipped_weight_gradient(node, A, B, C);
  std::optional<Matmul> prim = get_primitive(k);
  if (!prim && epilogue) return unfused();
  if (!prim) {
    FX_CHECK(node.dtype != DType::f32, "dot: oneDNN refused an f32 matmul");
    // No low-precision kernel for this CPU: compute in f32 and round once.
    Node wide = node;
    wide.dtype = DType::f32;
    Tensor a32 = A.to(DType::f32), b32 = B.to(DType::f32);
    Tensor ins[2] = {a32, b32};
    Tensor c32(node.shape, DType::f32);
    dot_into(wide, ins, c32);
    convert(c32.raw(), DType::f32, C.raw(), node.dtype, C.numel());
    return;
  }
  OneDnn& s = onednn();
  const auto& pd = prim->pd;
  memory am(pd.src_desc(), s.engine, const_cast<void*>(A.raw()));
  memory bm(pd.weights_desc(), s.engine, const_cast<void*>(B.raw()));
  memory cm(pd.dst_desc(), s.engine, C.raw());
  dnnl::stream stream(s.engine);
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
  for (size_t i = 0; i < addends.size(); ++i)
    args[DNNL_ARG_ATTR_MULTIPLE_POST_OP((int)i) | DNNL_ARG_SRC_1] =
        memory(pd.query_md(dnnl::query::exec_arg_md,
                           DNNL_ARG_ATTR_MULTIPLE_POST_OP((int)i) | DNNL_ARG_SRC_1),
               s.engine, const_cast<void*>(addends[i].raw()));
  prim->prim.execute(stream, args);
  stream.wait();
}

}  // namespace

int64_t small_k_dot(const Node& node, const Shape& a, const Shape& b) {
  if (a.size() < 2 || b.size() < 2 || numel(node.shape) == 0) return 0;
  MatmulKey k = key_of(node, a, b);
  return runs_small_k(k) ? k.k : 0;
}

void dot_into(const Node& node, std::span<const Tensor> in, Tensor& C,
              std::span<const Tensor> addends) {
  FX_CHECK(addends.size() <= 2, "dot: at most 2 epilogue addends, got {}", addends.size());
  if (!addends.empty() || C.dtype() != node.dtype) {
    FX_CHECK(node.dtype == DType::f32 && C.shape() == node.shape &&
                 (C.dtype() == DType::f32 || C.dtype() == DType::bf16),
             "dot epilogue: needs an f32 product stored as f32 or bf16, got {} into {}{}",
             dtype_name(node.dtype), dtype_name(C.dtype()), shape_str(C.shape()));
    for (const Tensor& t : addends)
      FX_CHECK(
          t.dtype() == DType::f32 && (t.numel() == C.numel() || t.numel() == node.shape.back()),
          "dot epilogue: addend {}{} fits neither the product {} nor one row",
          dtype_name(t.dtype()), shape_str(t.shape()), shape_str(node.shape));
  }
  dot_with_epilogue(node, in, C, addends);
}

namespace {

Tensor dot_kernel(const Node& node, std::span<const Tensor> in) {
  Tensor C(node.shape, node.dtype);
  dot_into(node, in, C);
  return C;
}

}  // namespace

void register_matmul(KernelTable& t) { t[(int)Op::dot] = dot_kernel; }

}  // namespace fx::cpu
