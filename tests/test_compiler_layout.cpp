// Layout assignment's blocked writes and reads (compiler/layout.h): a fused kernel whose
// output only convolutions read stores it in the layout oneDNN wants (nChw16c on AVX-512,
// nChw8c on AVX2), and the convolutions read that copy; a convolution whose result only
// elementwise kernels read leaves it in that layout, and the kernels read it so. Only the
// layout changes, so the compiled results keep the interpreter's bits.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "fluxion/api/fx.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/compiler/compiler.h"
#include "op_test_util.h"

using namespace fx;

namespace {

// oneDNN blocks f32 activations on AVX2 and AVX-512; on older CPUs nothing is written
// blocked, and only the bits are checked.
bool onednn_blocks() { return __builtin_cpu_supports("avx2"); }

// bf16 convolutions take part where oneDNN runs them in bf16 (AVX512_BF16, unless
// ONEDNN_MAX_CPU_ISA caps it lower): asked of the library as the layout pass asks it.
bool onednn_blocks(DType dt) {
  if (dt == DType::f32) return onednn_blocks();
  Graph g;
  Var x = g.input("x", {2, 32, 8, 8}, dt), w = g.input("w", {16, 32, 3, 3}, dt);
  Var y = conv2d(x, w, {.padding = {1, 1}});
  return cpu::conv_runs_onednn(y.node(), x.shape(), w.shape());
}

struct BlockedCase {
  Graph g;
  Feeds feeds;
  std::vector<Var> outs;
};

// silu(x·a + b) -> 3x3 conv -> silu(· + c) -> 3x3 conv, and the gradients of a weighted sum
// with respect to x, both weights and a: the forward convolutions read their inputs from
// the kernels' blocked copies, and so do the weight gradients and backward-data (their
// output gradients come from fused kernels too).
void build_conv_chain(BlockedCase& c, Shape x_shape, int64_t out_channels, bool also_permute_h,
                      DType dt = DType::f32, bool also_permute_y1 = false) {
  const int64_t C = x_shape[1];
  Graph& g = c.g;
  Var x = g.input("x", x_shape, dt);
  Var a = g.input("a", {1, C, 1, 1}, dt);
  Var b = g.input("b", {1, C, 1, 1}, dt);
  Var w1 = g.input("w1", {C, C, 3, 3}, dt);
  Var bias = g.input("c", {1, C, 1, 1}, dt);
  Var w2 = g.input("w2", {out_channels, C, 3, 3}, dt);
  uint64_t seed = 11;
  for (const Var& v : {x, a, b, w1, bias, w2})
    c.feeds[v.node().attrs.name] = optest::random_tensor(v.shape(), seed++, dt);
  Var h = silu(x * a + b);
  Var y1 = conv2d(h, w1, {.padding = {1, 1}});
  Var y2 = conv2d(silu(y1 + bias), w2, {.padding = {1, 1}});
  Var cot = g.constant(optest::random_tensor(y2.shape(), seed++, dt));
  Var loss = sum(y2 * cot);
  c.outs = {y2};
  // A library copy reading h needs the plain tensor (a fused reader would recompute h).
  if (also_permute_h) c.outs.push_back(permute(h, {0, 2, 3, 1}));
  if (also_permute_y1) c.outs.push_back(permute(y1, {0, 2, 3, 1}));
  for (const Var& d : grad(loss, {x, w1, w2, a})) c.outs.push_back(d);
}

// The block in which the compiled program's fused kernel stores the input of the forward
// convolution with weights `weight` (0: plain; -1: not a kernel's output); *also_plain:
// whether it stores the plain tensor as well.
int block_of_conv_input(const compiler::Executable& ex, const std::string& weight,
                        bool* also_plain = nullptr) {
  const compiler::Program& p = ex.program();
  for (int id = 0; id < p.size(); ++id) {
    const Node& n = p.node(id);
    if (n.op != Op::conv2d || p.node(n.inputs[1]).attrs.name != weight) continue;
    for (const compiler::FusedKernel& k : ex.fusion().kernels)
      for (size_t i = 0; i < k.outputs.size(); ++i)
        if (k.outputs[i] == n.inputs[0]) {
          if (also_plain) *also_plain = k.keeps_plain(i);
          return k.block_of(i);
        }
  }
  return -1;
}

void expect_compiled_bits(BlockedCase& c, int* blocked_writes, int* h_block = nullptr,
                          compiler::CompileOptions options = {}, int* blocked_reads = nullptr,
                          bool* h_also_plain = nullptr) {
  std::vector<Tensor> want = Interpreter(c.g, c.outs).run(c.feeds);
  auto ex = compiler::compile(c.g, c.outs, options);
  ASSERT_TRUE(ex->stats().codegen_ok) << ex->stats().summary();
  *blocked_writes = ex->stats().blocked_writes;
  if (blocked_reads) *blocked_reads = ex->stats().blocked_reads;
  if (h_block) *h_block = block_of_conv_input(*ex, "w1", h_also_plain);
  for (int run = 0; run < 2; ++run) {  // twice: the planned copies are reused
    std::vector<Tensor> got = ex->run(c.feeds);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      ASSERT_EQ(got[i].shape(), want[i].shape());
      EXPECT_EQ(std::memcmp(got[i].raw(), want[i].raw(), want[i].nbytes()), 0)
          << "output " << i << " differs, run " << run;
    }
  }
}

}  // namespace

TEST(CompilerLayout, ConvInputsWrittenBlockedKeepTheInterpretersBits) {
  // 40x40 = 1,600 positions: two tile pieces (1,024 + 576), and the prefetches of the next
  // piece cross from one to the other; 20x20: one piece; 5x7: one short piece, odd batch.
  for (Shape x_shape : {Shape{1, 16, 40, 40}, Shape{2, 32, 20, 20}, Shape{3, 16, 5, 7}}) {
    BlockedCase c;
    build_conv_chain(c, x_shape, 16, false);
    int blocked = 0;
    expect_compiled_bits(c, &blocked);
    // silu(x·a + b), silu(y1 + c) and the output gradient of backward-data / the second
    // weight gradient: fused kernels feeding only convolutions.
    if (onednn_blocks()) {
      EXPECT_GE(blocked, 2) << shape_str(x_shape);
    }
  }
}

TEST(CompilerLayout, BlockedWritesWithoutAMemoryPlanOwnTheirCopies) {
  // No arena: each blocked copy allocates its own buffer for the run.
  BlockedCase c;
  build_conv_chain(c, {2, 32, 6, 6}, 16, false);
  compiler::CompileOptions options;
  options.plan_memory = false;
  int blocked = 0;
  expect_compiled_bits(c, &blocked, nullptr, options);
  if (onednn_blocks()) {
    EXPECT_GE(blocked, 2);
  }
}

TEST(CompilerLayout, AnInputOtherOpsReadIsStoredBothWays) {
  if (!onednn_blocks()) GTEST_SKIP() << "oneDNN keeps plain layouts on this CPU";
  int writes = 0, h_alone = -1, h_permuted = -1;
  bool alone_plain = true, permuted_plain = false;
  BlockedCase a, b;
  build_conv_chain(a, {2, 32, 6, 6}, 16, false);
  build_conv_chain(b, {2, 32, 6, 6}, 16, true);
  expect_compiled_bits(a, &writes, &h_alone, {}, nullptr, &alone_plain);
  expect_compiled_bits(b, &writes, &h_permuted, {}, nullptr, &permuted_plain);
  // silu(x·a + b) stored blocked for the convolution alone ...
  EXPECT_GT(h_alone, 0);
  EXPECT_FALSE(alone_plain);
  // ... and plain as well once a permutation reads it too (the permutation's bits are
  // checked against the interpreter above).
  EXPECT_EQ(h_permuted, h_alone);
  EXPECT_TRUE(permuted_plain);
  // Without dual writes the first convolution reorders the plain tensor itself.
  setenv("FLUXION_NO_DUAL_WRITES", "1", 1);
  BlockedCase c;
  build_conv_chain(c, {2, 32, 6, 6}, 16, true);
  int h_off = -1;
  expect_compiled_bits(c, &writes, &h_off);
  unsetenv("FLUXION_NO_DUAL_WRITES");
  EXPECT_EQ(h_off, 0);
}

TEST(CompilerLayout, DualWritesKeepTheInterpretersBits) {
  // Pieces of 1,024 + 576 positions, one piece, a short piece with an odd batch; f32, and
  // bf16 where oneDNN runs it (the copies are then 16-bit transposes).
  for (DType dt : {DType::f32, DType::bf16}) {
    if (!onednn_blocks(dt)) continue;
    for (Shape x_shape : {Shape{1, 16, 40, 40}, Shape{2, 32, 20, 20}, Shape{3, 16, 5, 7}}) {
      BlockedCase c;
      build_conv_chain(c, x_shape, 16, true, dt);
      int writes = 0, h_block = -1;
      bool h_plain = false;
      expect_compiled_bits(c, &writes, &h_block, {}, nullptr, &h_plain);
      EXPECT_GT(h_block, 0) << dtype_name(dt) << shape_str(x_shape);
      EXPECT_TRUE(h_plain) << dtype_name(dt) << shape_str(x_shape);
    }
  }
}

TEST(CompilerLayout, SwitchedOffWithAnEnvironmentVariable) {
  setenv("FLUXION_NO_BLOCKED_WRITES", "1", 1);
  BlockedCase c;
  build_conv_chain(c, {2, 32, 6, 6}, 16, false);
  int blocked = -1;
  expect_compiled_bits(c, &blocked);
  unsetenv("FLUXION_NO_BLOCKED_WRITES");
  EXPECT_EQ(blocked, 0);
}

TEST(CompilerLayout, Bf16ConvInputsWrittenBlockedKeepTheInterpretersBits) {
  // bf16 convolutions share blocked copies, and take blocked writes, where oneDNN has bf16
  // kernels (AVX512_BF16); elsewhere they widen to f32 per call and everything stays plain.
  for (Shape x_shape : {Shape{2, 32, 20, 20}, Shape{3, 16, 5, 7}}) {
    BlockedCase c;
    build_conv_chain(c, x_shape, 16, false, DType::bf16);
    int blocked = 0;
    expect_compiled_bits(c, &blocked);
    if (onednn_blocks(DType::bf16)) {
      EXPECT_GE(blocked, 2) << shape_str(x_shape);
    }
  }
}

TEST(CompilerLayout, ConvResultsReadBlockedKeepTheInterpretersBits) {
  // y1 = conv(h) is read only by the kernel computing silu(y1 + c), and backward-data's
  // result only by the SiLU gradient's kernel: both stay blocked. 40x40 = 1,600 positions
  // is two tile pieces (1,024 + 576); 5x7 a short piece and an odd batch.
  for (DType dt : {DType::f32, DType::bf16})
    for (Shape x_shape : {Shape{2, 32, 20, 20}, Shape{3, 16, 5, 7}, Shape{1, 16, 40, 40}}) {
      BlockedCase c;
      build_conv_chain(c, x_shape, 16, false, dt);
      int writes = 0, reads = 0;
      expect_compiled_bits(c, &writes, nullptr, {}, &reads);
      if (onednn_blocks(dt)) {
        EXPECT_GE(reads, 2) << dtype_name(dt) << shape_str(x_shape);
      }
    }
}

TEST(CompilerLayout, AResultALibraryOpReadsStaysPlain) {
  if (!onednn_blocks()) GTEST_SKIP() << "oneDNN keeps plain layouts on this CPU";
  int writes = 0, alone = 0, permuted = 0;
  BlockedCase a, b;
  build_conv_chain(a, {2, 32, 6, 6}, 16, false);
  build_conv_chain(b, {2, 32, 6, 6}, 16, false, DType::f32, true);
  expect_compiled_bits(a, &writes, nullptr, {}, &alone);
  expect_compiled_bits(b, &writes, nullptr, {}, &permuted);
  EXPECT_EQ(permuted, alone - 1);  // y1 is plain once a permutation reads it too
}

TEST(CompilerLayout, BlockedReadsWithoutAMemoryPlan) {
  BlockedCase c;
  build_conv_chain(c, {2, 32, 6, 6}, 16, false);
  compiler::CompileOptions options;
  options.plan_memory = false;
  int writes = 0, reads = 0;
  expect_compiled_bits(c, &writes, nullptr, options, &reads);
  if (onednn_blocks()) {
    EXPECT_GE(reads, 2);
  }
}

TEST(CompilerLayout, BlockedReadsSwitchedOffWithAnEnvironmentVariable) {
  setenv("FLUXION_NO_BLOCKED_READS", "1", 1);
  BlockedCase c;
  build_conv_chain(c, {2, 32, 6, 6}, 16, false);
  int writes = 0, reads = -1;
  expect_compiled_bits(c, &writes, nullptr, {}, &reads);
  unsetenv("FLUXION_NO_BLOCKED_READS");
  EXPECT_EQ(reads, 0);
}

TEST(CompilerLayout, GroupNormSiluFeedsAConvolutionInOneBlockedKernel) {
  // GroupNorm normalises over [N, G, C/G, H*W] and the SiLU after it joins that kernel
  // once the reshape back to NCHW sinks below it; the kernel then writes the reshape's
  // blocked copy itself (units of B channels of the NCHW view, not of the domain).
  for (DType dt : {DType::f32, DType::bf16})
    for (Shape x_shape : {Shape{2, 32, 20, 20}, Shape{3, 32, 5, 7}}) {
      BlockedCase c;
      Graph& g = c.g;
      const int64_t C = x_shape[1];
      Var x = g.input("x", x_shape, dt);
      Var gamma = g.input("gamma", {C}, dt), beta = g.input("beta", {C}, dt);
      Var w = g.input("w", {16, C, 3, 3}, dt);
      uint64_t seed = 21;
      for (const Var& v : {x, gamma, beta, w})
        c.feeds[v.node().attrs.name] = optest::random_tensor(v.shape(), seed++, dt);
      Var y = conv2d(silu(group_norm(x, 8, gamma, beta, 1e-5)), w, {.padding = {1, 1}});
      Var cot = g.constant(optest::random_tensor(y.shape(), seed++, dt));
      c.outs = {y};
      for (const Var& d : grad(sum(y * cot), {x, gamma, w})) c.outs.push_back(d);
      int writes = 0;
      expect_compiled_bits(c, &writes);
      if (onednn_blocks(dt)) {
        EXPECT_GE(writes, 1) << dtype_name(dt) << shape_str(x_shape);
      }
    }
}
