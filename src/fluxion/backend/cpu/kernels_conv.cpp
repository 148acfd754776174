// conv2d and its two transposes. f32 through oneDNN's convolution primitives (forward,
// backward-data, backward-weights; the library picks its blocked layouts and we reorder
// from/to plain NCHW/OIHW); f64 through a direct loop that serves as the reference; bf16
// through oneDNN's bf16 primitives where the CPU has them (AVX512_BF16: bf16 operands, f32
// accumulation, the result rounded once), else, like f16, computed in f32 and rounded once.
// Primitives are cached by problem and element type.
#include <array>
#include <cstdlib>
#include <cstring>
#include <dnnl.hpp>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

#include "fluxion/backend/cpu/conv_geometry.h"
#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/core/error.h"

namespace fx::cpu {

namespace {

using dnnl::memory;

enum class Kind { fwd, bwd_data, bwd_weights };

// A convolution's input x, weights w and output y from its node and its two inputs: the
// forward reads (x, w), backward-data (y, w) and backward-weights (x, y).
struct ConvShapes {
  const Shape &x, &w, &y;
};
template <Kind K>
ConvShapes conv_shapes(const Node& node, const Shape& in0, const Shape& in1) {
  if (K == Kind::fwd) return {in0, in1, node.shape};
  if (K == Kind::bwd_data) return {node.shape, in1, in0};
  return {in0, node.shape, in1};
}

// fn(std::integral_constant<Kind, K>) for the Kind of a convolution op.
template <typename F>
decltype(auto) with_kind(Op op, F&& fn) {
  if (op == Op::conv2d) return fn(std::integral_constant<Kind, Kind::fwd>{});
  if (op == Op::conv2d_backward_data) return fn(std::integral_constant<Kind, Kind::bwd_data>{});
  return fn(std::integral_constant<Kind, Kind::bwd_weights>{});
}

// ---- f64 reference: the definition, loop by loop ----

template <typename T>
void ref_forward(const ConvGeom& g, const T* x, const T* w, T* y) {
  int64_t Cg = g.C / g.G, Og = g.O / g.G;
  parallel_range(g.N * g.O, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t no = lo; no < hi; ++no) {
      int64_t n = no / g.O, o = no % g.O, grp = o / Og;
      T* out = y + no * g.OH * g.OW;
      for (int64_t oh = 0; oh < g.OH; ++oh)
        for (int64_t ow = 0; ow < g.OW; ++ow) {
          T acc = 0;
          for (int64_t c = 0; c < Cg; ++c) {
            const T* xp = x + (n * g.C + grp * Cg + c) * g.H * g.W;
            const T* wp = w + (o * Cg + c) * g.KH * g.KW;
            for (int64_t kh = 0; kh < g.KH; ++kh) {
              int64_t ih = oh * g.sh - g.ph + kh * g.dh;
              if (ih < 0 || ih >= g.H) continue;
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                int64_t iw = ow * g.sw - g.pw + kw * g.dw;
                if (iw < 0 || iw >= g.W) continue;
                acc += xp[ih * g.W + iw] * wp[kh * g.KW + kw];
              }
            }
          }
          out[oh * g.OW + ow] = acc;
        }
    }
  });
}

template <typename T>
void ref_backward_data(const ConvGeom& g, const T* gy, const T* w, T* dx) {
  int64_t Cg = g.C / g.G, Og = g.O / g.G;
  parallel_range(g.N * g.C, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t nc = lo; nc < hi; ++nc) {
      int64_t n = nc / g.C, ci = nc % g.C, grp = ci / Cg, c = ci % Cg;
      T* out = dx + nc * g.H * g.W;
      for (int64_t i = 0; i < g.H * g.W; ++i) out[i] = 0;
      for (int64_t o = grp * Og; o < (grp + 1) * Og; ++o) {
        const T* gp = gy + (n * g.O + o) * g.OH * g.OW;
        const T* wp = w + (o * Cg + c) * g.KH * g.KW;
        for (int64_t oh = 0; oh < g.OH; ++oh)
          for (int64_t ow = 0; ow < g.OW; ++ow)
            for (int64_t kh = 0; kh < g.KH; ++kh) {
              int64_t ih = oh * g.sh - g.ph + kh * g.dh;
              if (ih < 0 || ih >= g.H) continue;
              for (int64_t kw = 0; kw < g.KW; ++kw) {
                int64_t iw = ow * g.sw - g.pw + kw * g.dw;
                if (iw < 0 || iw >= g.W) continue;
                out[ih * g.W + iw] += gp[oh * g.OW + ow] * wp[kh * g.KW + kw];
              }
            }
      }
    }
  });
}

template <typename T>
void ref_backward_weights(const ConvGeom& g, const T* x, const T* gy, T* dw) {
  int64_t Cg = g.C / g.G, Og = g.O / g.G;
  parallel_range(g.O, 1, [&](int64_t lo, int64_t hi) {
    for (int64_t o = lo; o < hi; ++o) {
      int64_t grp = o / Og;
      for (int64_t c = 0; c < Cg; ++c)
        for (int64_t kh = 0; kh < g.KH; ++kh)
          for (int64_t kw = 0; kw < g.KW; ++kw) {
            T acc = 0;
            for (int64_t n = 0; n < g.N; ++n) {
              const T* xp = x + (n * g.C + grp * Cg + c) * g.H * g.W;
              const T* gp = gy + (n * g.O + o) * g.OH * g.OW;
              for (int64_t oh = 0; oh < g.OH; ++oh) {
                int64_t ih = oh * g.sh - g.ph + kh * g.dh;
                if (ih < 0 || ih >= g.H) continue;
                for (int64_t ow = 0; ow < g.OW; ++ow) {
                  int64_t iw = ow * g.sw - g.pw + kw * g.dw;
                  if (iw < 0 || iw >= g.W) continue;
                  acc += xp[ih * g.W + iw] * gp[oh * g.OW + ow];
                }
              }
            }
            dw[((o * Cg + c) * g.KH + kh) * g.KW + kw] = acc;
          }
    }
  });
}

// ---- oneDNN (f32, bf16) ----

struct Prim {
  dnnl::primitive prim;
  memory::desc src, weights, dst;  // the layouts the primitive wants (diff_* for backward)
};

struct ConvCache {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  std::mutex mu;
  // Keyed by (kind, element type, geometry); an empty primitive marks a bf16 problem oneDNN
  // has no kernel for on this CPU.
  std::map<std::tuple<int, int, std::array<int64_t, 17>>, Prim> prims;
};

ConvCache& cache() {
  static ConvCache c;
  return c;
}

using DT = memory::data_type;

memory::desc plain_src(const ConvGeom& g, DT t) {
  return {{g.N, g.C, g.H, g.W}, t, memory::format_tag::nchw};
}
memory::desc plain_dst(const ConvGeom& g, DT t) {
  return {{g.N, g.O, g.OH, g.OW}, t, memory::format_tag::nchw};
}
memory::desc plain_weights(const ConvGeom& g, DT t) {
  if (g.G == 1) return {{g.O, g.C, g.KH, g.KW}, t, memory::format_tag::oihw};
  return {{g.G, g.O / g.G, g.C / g.G, g.KH, g.KW}, t, memory::format_tag::goihw};
}

Prim build(Kind kind, const ConvGeom& g, DT t, const dnnl::engine& eng) {
  // Layouts: oneDNN picks its blocked ones (nChw8c on AVX2) for all three, and the
  // arguments are reordered from/to plain NCHW/OIHW around the call. Its plain-layout
  // kernels are GEMM-based: on an idle machine the U-Net step took ~720 ms with them for
  // forward and backward-data against ~540 ms blocked (bench/RESULTS_ddpm.md), reorders
  // included. FLUXION_CONV_LAYOUT=plain or =blocked forces one choice for all three.
  static const std::string forced = [] {
    const char* e = std::getenv("FLUXION_CONV_LAYOUT");
    return std::string(e ? e : "");
  }();
  bool plain = forced == "plain" || (g.plain && kind == Kind::fwd && t == DT::f32);
  auto any = [plain, t](const memory::desc& d) {
    if (plain) return d;
    return memory::desc(d.dims(), t, memory::format_tag::any);
  };
  memory::desc src = any(plain_src(g, t)), wei = any(plain_weights(g, t)),
               dst = any(plain_dst(g, t));
  memory::dims strides{g.sh, g.sw}, dil{g.dh - 1, g.dw - 1}, pad{g.ph, g.pw};
  // oneDNN's own choice of algorithm (convolution_auto): on AVX-512 it takes Winograd
  // F(4x4, 3x3) for the 3x3 stride-1 f32 problems where it expects a gain, direct otherwise.
  // Measured 2026-12-06 (Zen 5, U-Net step, ONEDNN_VERBOSE): forward 57 -> 43 ms, backward-data
  // 58 -> 39 ms, the compiled step 275-281 -> 249-254 ms. FLUXION_CONV_ALGORITHM=direct
  // keeps the direct kernels (Winograd rounds differently: see ConvWinogradStaysAccurate).
  static const auto alg = [] {
    const char* e = std::getenv("FLUXION_CONV_ALGORITHM");
    std::string v = e ? e : "auto";
    FX_CHECK(v == "auto" || v == "direct",
             "FLUXION_CONV_ALGORITHM='{}': expected 'auto' (oneDNN's choice) or 'direct'", v);
    return v == "direct" ? dnnl::algorithm::convolution_direct : dnnl::algorithm::convolution_auto;
  }();
  // Except with fewer than 16 input channels (an image's 1 or 3): Winograd pads them to a
  // block of 16 and copies the input into it, where the direct kernel reads the plain image.
  // U-Net's 1-channel input convolution, 2026-12-07 (Zen 5, ONEDNN_VERBOSE): forward 1.29 ->
  // 0.24 ms and one padded 0.44 ms copy fewer, backward unchanged.
  const auto problem_alg = g.C / g.G < 16 ? dnnl::algorithm::convolution_direct : alg;
  dnnl::convolution_forward::desc fd(dnnl::prop_kind::forward_training, problem_alg, src, wei, dst,
                                     strides, dil, pad, pad);
  dnnl::convolution_forward::primitive_desc fpd(fd, eng);
  if (kind == Kind::fwd)
    return {dnnl::convolution_forward(fpd), fpd.src_desc(), fpd.weights_desc(), fpd.dst_desc()};
  if (kind == Kind::bwd_data) {
    dnnl::convolution_backward_data::desc bd(problem_alg, src, wei, dst, strides, dil, pad, pad);
    dnnl::convolution_backward_data::primitive_desc pd(bd, eng, fpd);
    return {dnnl::convolution_backward_data(pd), pd.diff_src_desc(), pd.weights_desc(),
            pd.diff_dst_desc()};
  }
  dnnl::convolution_backward_weights::desc bd(problem_alg, src, wei, dst, strides, dil, pad, pad);
  dnnl::convolution_backward_weights::primitive_desc pd(bd, eng, fpd);
  return {dnnl::convolution_backward_weights(pd), pd.src_desc(), pd.diff_weights_desc(),
          pd.diff_dst_desc()};
}

// The cached primitive, or nullptr for a bf16 problem oneDNN cannot run natively here.
const Prim* find_prim(Kind kind, const ConvGeom& g, DT t) {
  ConvCache& c = cache();
  std::lock_guard<std::mutex> lock(c.mu);
  auto key = std::make_tuple((int)kind, (int)t, g.key());
  auto it = c.prims.find(key);
  if (it == c.prims.end()) {
    try {
      it = c.prims.emplace(key, build(kind, g, t, c.engine)).first;
    } catch (const dnnl::error& e) {
      if (t != DT::f32)
        it = c.prims.emplace(key, Prim{}).first;
      else
        fail("conv2d: oneDNN has no f32 convolution for this problem ({})", e.what());
    }
  }
  return it->second.prim ? &it->second : nullptr;
}

// Scratch for the blocked copies, reused from call to call on each thread: a fresh
// allocation per call costs page faults on megabytes (one per argument, three per call).
void* scratch(int slot, size_t bytes) {
  thread_local std::array<std::vector<float>, 3> buf;
  std::vector<float>& b = buf[slot];
  if (b.size() * sizeof(float) < bytes) b.resize((bytes + sizeof(float) - 1) / sizeof(float));
  return b.data();
}

}  // namespace

struct ConvOperandCopy::Impl {
  memory::desc desc;
  Shape shape;
  float* data = nullptr;
  std::vector<float> owned;
};
size_t ConvOperandCopy::owned_bytes() const {
  return impl_ ? impl_->owned.size() * sizeof(float) : 0;
}
const Shape& ConvOperandCopy::shape() const { return impl_->shape; }

size_t conv_copy_bytes(const Shape& s, DType dtype) {
  if (s.size() != 4) return 0;
  return (size_t)(s[0] * ((s[1] + 15) / 16 * 16) * s[2] * s[3]) * dtype_size(dtype);
}

namespace {
memory::desc blocked_desc(const Shape& s, int block, DT t) {
  return {{s[0], s[1], s[2], s[3]},
          t,
          block == 16 ? memory::format_tag::nChw16c : memory::format_tag::nChw8c};
}

// B when `want` is an activation of this shape in nChw<B>c with no channel padding; else 0.
int block_of(const memory::desc& want, const Shape& act) {
  for (int block : {16, 8})
    if (act[1] % block == 0 && want == blocked_desc(act, block, want.data_type())) return block;
  return 0;
}
}  // namespace

void* ConvOperandCopy::prepare_blocked(const Shape& activation, int block, DType dtype) {
  FX_CHECK(activation.size() == 4 && (block == 8 || block == 16) && activation[1] % block == 0 &&
               (dtype == DType::f32 || dtype == DType::bf16),
           "prepare_blocked: {}{} in blocks of {} channels (compiler bug)", dtype_name(dtype),
           shape_str(activation), block);
  auto impl = std::make_shared<Impl>();
  impl->desc = blocked_desc(activation, block, dtype == DType::f32 ? DT::f32 : DT::bf16);
  impl->shape = activation;
  if (buffer && capacity >= impl->desc.get_size()) {
    impl->data = static_cast<float*>(buffer);
  } else {
    impl->owned.resize(impl->desc.get_size() / sizeof(float));
    impl->data = impl->owned.data();
  }
  impl_ = impl;
  return impl->data;
}

namespace {
// The primitive oneDNN runs this convolution with, in its own dtype (f32 off the direct
// loops, bf16 where the CPU has it); nullptr when it runs elsewhere.
template <Kind K>
const Prim* own_prim(const Node& node, const Shape& in0, const Shape& in1) {
  ConvShapes c = conv_shapes<K>(node, in0, in1);
  if (node.dtype == DType::f32 && conv_runs_direct(c.w, node.attrs)) return nullptr;
  if (node.dtype != DType::f32 && node.dtype != DType::bf16) return nullptr;
  if (numel(c.x) == 0 || numel(c.w) == 0 || numel(c.y) == 0) return nullptr;
  return find_prim(K, conv_geometry(c.x, c.w, c.y, node.attrs),
                   node.dtype == DType::f32 ? DT::f32 : DT::bf16);
}

// The layout the primitive wants for activation input k (see onednn_conv's arguments).
template <Kind K>
int activation_block(const Node& node, const Shape& in0, const Shape& in1, int k) {
  if (K != Kind::bwd_weights && k != 0) return 0;  // conv2d's and backward-data's weights
  const Prim* prim = own_prim<K>(node, in0, in1);
  if (!prim) return 0;
  const bool src = K == Kind::fwd || (K == Kind::bwd_weights && k == 0);
  const memory::desc& want = src ? prim->src : prim->dst;
  ConvShapes c = conv_shapes<K>(node, in0, in1);
  const Shape& act = src ? c.x : c.y;
  return block_of(want, act);
}

// The layout the primitive writes its result in, when it is nChw<B>c (forward and
// backward-data; a weight gradient is no activation).
template <Kind K>
int result_block(const Node& node, const Shape& in0, const Shape& in1) {
  if (K == Kind::bwd_weights) return 0;
  const Prim* prim = own_prim<K>(node, in0, in1);
  if (!prim) return 0;
  return block_of(K == Kind::fwd ? prim->dst : prim->src, node.shape);
}
}  // namespace

namespace {

// Wraps a plain buffer; when the primitive wants another layout, returns a reordered copy
// (inputs) or a scratch buffer to be reordered back after execution (outputs). A shared
// copy (layout assignment) is made once, in the layout this primitive wants, and read as it
// is by the next convolutions that want the same one.
struct Arg {
  memory user, used;
};
Arg input_arg(int slot, const memory::desc& want, const memory::desc& plain, const void* data,
              dnnl::stream& s, const dnnl::engine& eng, ConvOperandCopy* shared,
              const Shape& shape) {
  if (shared) {
    if (!shared->filled()) {
      auto impl = std::make_shared<ConvOperandCopy::Impl>();
      impl->desc = want;
      impl->shape = shape;
      if (shared->buffer && shared->capacity >= want.get_size()) {
        impl->data = static_cast<float*>(shared->buffer);
      } else {
        impl->owned.resize((want.get_size() + sizeof(float) - 1) / sizeof(float));
        impl->data = impl->owned.data();
      }
      memory user(plain, eng, const_cast<void*>(data)), copy(want, eng, impl->data);
      if (want == plain)  // plain is what it wants: still a copy, the plain tensor may go
        std::memcpy(impl->data, data, want.get_size());
      else
        dnnl::reorder(user, copy).execute(s, user, copy);
      shared->impl_ = impl;
    }
    const ConvOperandCopy::Impl& c = *shared->impl_;
    memory copy(c.desc, eng, c.data);
    if (c.desc == want) return {copy, copy};
    memory used(want, eng, scratch(slot, want.get_size()));  // another primitive, another layout
    dnnl::reorder(copy, used).execute(s, copy, used);
    return {copy, used};
  }
  memory user(plain, eng, const_cast<void*>(data));
  if (want == plain) return {user, user};
  memory used(want, eng, scratch(slot, want.get_size()));
  dnnl::reorder(user, used).execute(s, user, used);
  return {user, used};
}
// block > 0: the caller's buffer takes the result in the nChw<block>c the primitive writes
// (the layout assignment's blocked reads), so nothing is reordered back.
Arg output_arg(int slot, const memory::desc& want, const memory::desc& plain, void* data,
               const dnnl::engine& eng, int block = 0) {
  if (block > 0) {
    FX_CHECK(block_of(want, plain.dims()) == block,
             "conv: asked for its result in blocks of {} channels, which its primitive does not "
             "write (compiler bug)",
             block);
    memory as_wanted(want, eng, data);
    return {as_wanted, as_wanted};
  }
  memory user(plain, eng, data);
  if (want == plain) return {user, user};
  return {user, memory(want, eng, scratch(slot, want.get_size()))};
}

void onednn_conv(const Prim& p, Kind kind, const ConvGeom& g, DT t, const void* a, const void* b,
                 void* out, std::array<ConvOperandCopy*, 2> shared, const Shape& sa,
                 const Shape& sb, int out_block) {
  const dnnl::engine& eng = cache().engine;
  dnnl::stream s(eng);
  if (kind == Kind::fwd) {
    Arg x = input_arg(0, p.src, plain_src(g, t), a, s, eng, shared[0], sa);
    Arg w = input_arg(1, p.weights, plain_weights(g, t), b, s, eng, shared[1], sb);
    Arg y = output_arg(2, p.dst, plain_dst(g, t), out, eng, out_block);
    p.prim.execute(s, {{DNNL_ARG_SRC, x.used}, {DNNL_ARG_WEIGHTS, w.used}, {DNNL_ARG_DST, y.used}});
    if (y.used != y.user) dnnl::reorder(y.used, y.user).execute(s, y.used, y.user);
  } else if (kind == Kind::bwd_data) {
    Arg gy = input_arg(0, p.dst, plain_dst(g, t), a, s, eng, shared[0], sa);
    Arg w = input_arg(1, p.weights, plain_weights(g, t), b, s, eng, shared[1], sb);
    Arg dx = output_arg(2, p.src, plain_src(g, t), out, eng, out_block);
    p.prim.execute(
        s,
        {{DNNL_ARG_DIFF_DST, gy.used}, {DNNL_ARG_WEIGHTS, w.used}, {DNNL_ARG_DIFF_SRC, dx.used}});
    if (dx.used != dx.user) dnnl::reorder(dx.used, dx.user).execute(s, dx.used, dx.user);
  } else {
    Arg x = input_arg(0, p.src, plain_src(g, t), a, s, eng, shared[0], sa);
    Arg gy = input_arg(1, p.dst, plain_dst(g, t), b, s, eng, shared[1], sb);
    Arg dw = output_arg(2, p.weights, plain_weights(g, t), out, eng);
    p.prim.execute(
        s,
        {{DNNL_ARG_SRC, x.used}, {DNNL_ARG_DIFF_DST, gy.used}, {DNNL_ARG_DIFF_WEIGHTS, dw.used}});
    if (dw.used != dw.user) dnnl::reorder(dw.used, dw.user).execute(s, dw.used, dw.user);
  }
  s.wait();
}

template <Kind K>
void conv_into(const Node& node, std::span<const Tensor> in, Tensor& out,
               std::array<ConvOperandCopy*, 2> shared, int out_block) {
  Shape in_shape[2];
  for (int k = 0; k < 2; ++k) {
    bool from_copy = !in[k].defined() && shared[k] && shared[k]->filled();
    FX_CHECK(in[k].defined() || from_copy,
             "{}: input {} is neither given nor shared (compiler bug)", op_name(node.op), k);
    in_shape[k] = from_copy ? shared[k]->shape() : in[k].shape();
  }
  const ConvShapes c = conv_shapes<K>(node, in_shape[0], in_shape[1]);
  const Shape& w = c.w;
  ConvGeom g = conv_geometry(c.x, c.w, c.y, node.attrs);
  if (out.numel() == 0) return;
  if (numel(in_shape[0]) == 0 || numel(in_shape[1]) == 0) {
    std::memset(out.raw(), 0, out.nbytes());
    return;
  }
  auto given = [&] {  // the paths below that take no shared copies and write plain
    FX_CHECK(in[0].defined() && in[1].defined() && out_block == 0,
             "{}: a shared operand or a blocked result reached a convolution oneDNN does not "
             "run (compiler bug)",
             op_name(node.op));
  };
  if (node.dtype == DType::f64) {
    given();
    const double *a = in[0].data<double>(), *b = in[1].data<double>();
    double* o = out.data<double>();
    if (K == Kind::fwd) ref_forward(g, a, b, o);
    if (K == Kind::bwd_data) ref_backward_data(g, a, b, o);
    if (K == Kind::bwd_weights) ref_backward_weights(g, a, b, o);
    return;
  }
  if (node.dtype == DType::f32 && conv_runs_direct(w, node.attrs) && in[0].defined() &&
      in[1].defined()) {
    given();
    const float *a = in[0].data<float>(), *b = in[1].data<float>();
    float* o = out.data<float>();
    if (K == Kind::fwd) direct_conv_forward(g, a, b, o);
    if (K == Kind::bwd_data) direct_conv_backward_data(g, a, b, o);
    if (K == Kind::bwd_weights) direct_conv_backward_weights(g, a, b, o);
    return;
  }
  // bf16 runs oneDNN's bf16 primitive where this CPU has one.
  const Prim* native = node.dtype == DType::f32    ? find_prim(K, g, DT::f32)
                       : node.dtype == DType::bf16 ? find_prim(K, g, DT::bf16)
                                                   : nullptr;
  if (!native) {  // low precision without a native kernel: compute in f32, round once
    given();
    Node wide = node;
    wide.dtype = DType::f32;
    Tensor ins[2] = {in[0].to(DType::f32), in[1].to(DType::f32)};
    Tensor wide_out(node.shape, DType::f32);
    conv_into<K>(wide, ins, wide_out, {}, 0);
    convert(wide_out.raw(), DType::f32, out.raw(), node.dtype, out.numel());
    return;
  }
  auto data = [&](int k) -> const void* { return in[k].defined() ? in[k].raw() : nullptr; };
  try {
    onednn_conv(*native, K, g, node.dtype == DType::f32 ? DT::f32 : DT::bf16, data(0), data(1),
                out.raw(), shared, in_shape[0], in_shape[1], out_block);
  } catch (const dnnl::error& e) {
    fail(
        "{}: oneDNN failed on {} x [{}, {}, {}, {}] w [{}, {}, {}, {}] stride {}x{} padding {}x{} "
        "dilation {}x{} groups {}: {}",
        op_name(node.op), dtype_name(node.dtype), g.N, g.C, g.H, g.W, g.O, g.C / g.G, g.KH, g.KW,
        g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.G, e.what());
  }
}

template <Kind K>
Tensor conv_kernel(const Node& node, std::span<const Tensor> in) {
  Tensor out(node.shape, node.dtype);
  conv_into<K>(node, in, out, {}, 0);
  return out;
}

}  // namespace

bool conv_runs_onednn(const Node& conv, const Shape& in0, const Shape& in1) {
  return with_kind(conv.op,
                   [&](auto K) { return own_prim<decltype(K)::value>(conv, in0, in1) != nullptr; });
}

int conv_activation_block(const Node& conv, const Shape& in0, const Shape& in1, int k) {
  return with_kind(conv.op,
                   [&](auto K) { return activation_block<decltype(K)::value>(conv, in0, in1, k); });
}

int conv_result_block(const Node& conv, const Shape& in0, const Shape& in1) {
  return with_kind(conv.op,
                   [&](auto K) { return result_block<decltype(K)::value>(conv, in0, in1); });
}

void conv_into(const Node& node, std::span<const Tensor> in, Tensor& out,
               std::array<ConvOperandCopy*, 2> shared, int out_block) {
  with_kind(node.op,
            [&](auto K) { conv_into<decltype(K)::value>(node, in, out, shared, out_block); });
}

void register_conv(KernelTable& t) {
  t[(int)Op::conv2d] = conv_kernel<Kind::fwd>;
  t[(int)Op::conv2d_backward_data] = conv_kernel<Kind::bwd_data>;
  t[(int)Op::conv2d_backward_weights] = conv_kernel<Kind::bwd_weights>;
}

}  // namespace fx::cpu
