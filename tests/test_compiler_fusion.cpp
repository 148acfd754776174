// Fusion plans (kernel counts for canonical patterns, as tinygrad's schedule tests and XLA's
// fusion tests do) and the memory planner.
#include <gtest/gtest.h>

#include "fluxion/api/fx.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/compiler/compiler.h"

using namespace fx;
using namespace fx::compiler;

namespace {

FusionPlan plan_of(const Graph& g, std::vector<Var> outs, Program* keep = nullptr) {
  Program p(g, outs);
  for (const PassInfo& pass : default_pipeline()) p = pass.run(p);
  FusionPlan f = plan_fusion(p);
  if (keep) *keep = std::move(p);
  return f;
}

int library_steps(const Program& p, const FusionPlan& f) {
  int c = 0;
  for (const Step& s : f.schedule)
    if (s.node >= 0 && p.node(s.node).op != Op::input && p.node(s.node).op != Op::constant) ++c;
  return c;
}

}  // namespace

TEST(CompilerFusion, LinearBiasSiluIsOneMatmulAndOneKernel) {
  Graph g;
  Var x = g.input("x", {64, 16});
  Var w = g.input("w", {32, 16});
  Var b = g.input("b", {32});
  Program p;
  FusionPlan f = plan_of(g, {silu(dot(x, w, false, true) + b)}, &p);
  EXPECT_EQ(f.kernels.size(), 1u) << f.dump(p);
  EXPECT_EQ(library_steps(p, f), 1);           // the dot
  EXPECT_EQ(f.kernels[0].members.size(), 3u);  // add, sigmoid, mul
  EXPECT_EQ(f.kernels[0].outputs.size(), 1u);  // nothing in between reaches memory
}

// An MLP's [x, t] input layer (three contracted values): the product is computed by the
// kernel of the bias add and the SiLU, and never reaches memory. No dot of K 3 is left; the
// weight gradient (K 64) is one.
TEST(CompilerFusion, SmallKProductJoinsTheKernelThatReadsIt) {
  Graph g;
  Var x = g.input("x", {64, 3});
  Var w = g.input("w", {32, 3});
  Var b = g.input("b", {32});
  Var h = silu(dot(x, w, false, true) + b);
  Var loss = sum(h * g.input("c", {64, 32}));
  std::vector<Var> gs = grad(loss, {w, b});
  Program p;
  FusionPlan f = plan_of(g, {h, gs[0], gs[1]}, &p);
  int dots = 0;
  for (const Step& s : f.schedule)
    if (s.node >= 0 && p.node(s.node).op == Op::dot) {
      ++dots;
      EXPECT_EQ(p.node(s.node).shape, (Shape{32, 3})) << f.dump(p);  // dL/dw = g^T x
    }
  EXPECT_EQ(dots, 1) << f.dump(p);
  int product = -1;  // the bias add's other operand
  for (int i = 0; i < p.size(); ++i) {
    const Node& n = p.node(i);
    if (n.op == Op::add && p.node(n.inputs[1]).attrs.name == "b") product = n.inputs[0];
  }
  ASSERT_GE(product, 0) << f.dump(p);
  EXPECT_EQ(p.node(product).op, Op::add) << f.dump(p);  // ... + a2 b2
  for (const FusedKernel& k : f.kernels)
    for (int o : k.outputs) EXPECT_NE(o, product) << "the product reached memory\n" << f.dump(p);
}

TEST(CompilerFusion, AdamUpdateIsOneKernelWithThreeOutputs) {
  Graph g;
  Var p0 = g.input("p", {10, 10}), gr = g.input("g", {10, 10});
  Var m0 = g.input("m", {10, 10}), v0 = g.input("v", {10, 10});
  Var lr = g.input("lr", {}), bc1 = g.input("bc1", {}), sbc2 = g.input("sbc2", {});
  Var m = m0 * 0.9 + gr * 0.1;
  Var v = v0 * 0.999 + gr * gr * 0.001;
  Var p = p0 - (lr / bc1) * (m / (sqrt(v) / sbc2 + 1e-8));
  Program prog;
  FusionPlan f = plan_of(g, {p, m, v}, &prog);
  // lr / bc1 is a scalar op: its own (tiny) kernel; everything else in one.
  int big = 0;
  for (const FusedKernel& k : f.kernels)
    if (k.domain == Shape{10, 10}) {
      ++big;
      EXPECT_EQ(k.outputs.size(), 3u);
    }
  EXPECT_EQ(big, 1) << f.dump(prog);
  EXPECT_EQ(library_steps(prog, f), 0);
}

TEST(CompilerFusion, BiasGradientColumnSumJoinsItsProducer) {
  Graph g;
  Var x = g.input("x", {64, 8});
  Var w = g.input("w", {8, 8});
  Var b = g.input("b", {8});
  Var loss = sum(square(silu(matmul(x, w) + b)));
  std::vector<Var> gr = grad(loss, {w, b});
  Program p;
  FusionPlan f = plan_of(g, {loss, gr[0], gr[1]}, &p);
  int with_sums = 0;
  for (const FusedKernel& k : f.kernels) with_sums += !k.reduces.empty();
  EXPECT_EQ(with_sums, 1) << f.dump(p);
}

// The variance of GroupNorm-like rows: (x - mean)^2 is summed over the last axis inside the
// kernel that computes it, and the squares never reach memory. A whole-vector sum (one row)
// stays the reference kernel's, whose order differs.
TEST(CompilerFusion, RowSumJoinsItsProducer) {
  Graph g;
  Var x = g.input("x", {4, 3, 50});
  Var mean = g.input("mean", {4, 3, 1});
  Var d = x - mean;
  Var var = sum(d * d, {2}, true);
  Program p;
  FusionPlan f = plan_of(g, {var, sum(exp(reshape(x, {600})))}, &p);
  int row_kernels = 0;
  for (const FusedKernel& k : f.kernels)
    if (!k.reduces.empty()) {
      row_kernels += k.row_sums;
      EXPECT_EQ(k.outputs.size(), 1u) << "only the sum reaches memory\n" << f.dump(p);
    }
  EXPECT_EQ(row_kernels, 1) << f.dump(p);
  EXPECT_NE(f.dump(p).find("row_sums=1"), std::string::npos);
}

// GroupNorm's normalisation, as sampling runs it: the kernel after the variance's row sums
// recomputes x - mean from x and the small per-row mean instead of reading the difference,
// so the variance kernel writes its sums alone (a per-row operand is not a full-size read).
TEST(CompilerFusion, NormRecomputesTheCentredValueFromItsSmallMean) {
  Graph g;
  Var x = g.input("x", {8, 4, 512});
  Var mean = sum(x, {2}, true) / 512.0;
  Var d = x - mean;
  Var var = sum(d * d, {2}, true) / 512.0;
  Var y = d * rsqrt(var + 1e-5);
  Program p;
  FusionPlan f = plan_of(g, {y}, &p);
  int row_kernels = 0;
  for (const FusedKernel& k : f.kernels) {
    if (!k.row_sums) continue;
    ++row_kernels;
    ASSERT_EQ(k.outputs.size(), 1u) << "x - mean stays in registers\n" << f.dump(p);
    EXPECT_EQ(p.node(k.outputs[0]).shape, (Shape{8, 4, 1})) << f.dump(p);
  }
  EXPECT_EQ(row_kernels, 1) << f.dump(p);
}

// A conv bias gradient, sum over [N, H, W] of an elementwise [N, C, H, W] value: reduction
// splitting turns its first pass into a row sum that the producing kernel accumulates, so
// only the [N, C, H, 1] row sums go to the standalone sum over [N, H].
TEST(CompilerFusion, ChannelSumsFoldTheirBigPassIntoTheProducer) {
  Graph g;
  Var x = g.input("x", {2, 3, 4, 5});
  Var y = silu(x);
  Program p;
  FusionPlan f = plan_of(g, {sum(y * x, {0, 2, 3})}, &p);
  ASSERT_EQ(f.kernels.size(), 1u) << f.dump(p);
  EXPECT_TRUE(f.kernels[0].row_sums) << f.dump(p);
  EXPECT_EQ(f.kernels[0].outputs.size(), 1u) << "only the row sums reach memory\n" << f.dump(p);
  EXPECT_EQ(p.node(f.kernels[0].outputs[0]).shape, (Shape{2, 3, 4, 1}));
}

TEST(CompilerFusion, NeverFusesAcrossAMatmulCycle) {
  // y = exp(x); z = y @ w; out = y + z: exp and add cannot share a kernel (the add needs
  // the matmul, which needs exp's result in memory).
  Graph g;
  Var x = g.input("x", {4, 4}), w = g.input("w", {4, 4});
  Var y = exp(x);
  Var out = y + matmul(y, w);
  Program p;
  FusionPlan f = plan_of(g, {out}, &p);
  EXPECT_EQ(f.kernels.size(), 2u) << f.dump(p);
  auto ex = compile(g, {out}, {});
  Tensor xv = Tensor::from(
      {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, -0.1, -0.2, -0.3, -0.4, 1, 2, 3, 4}, {4, 4});
  Tensor wv = Tensor::from({1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3, 0, 0, 0, 0, 4}, {4, 4});
  Tensor want = evaluate(out, {{"x", xv}, {"w", wv}});
  Tensor got = ex->run({{"x", xv}, {"w", wv}})[0];
  EXPECT_EQ(got.to_vector(), want.to_vector());
}

TEST(CompilerFusion, DumpNamesKernelsAndMembers) {
  Graph g;
  Var x = g.input("x", {8});
  Program p;
  FusionPlan f = plan_of(g, {exp(x) * 2.0}, &p);
  std::string d = f.dump(p);
  EXPECT_NE(d.find("fused_kernel_0 domain=[8] members=2 reads=1 writes=1"), std::string::npos) << d;
  EXPECT_NE(d.find("-> memory"), std::string::npos);
}

TEST(CompilerMemoryPlan, DisjointLifetimesShareBytes) {
  // a: steps 0-1, b: 1-2 (overlaps a), c: 2-3 (a is dead again: its bytes), d: step 4 only
  // (everything else is dead: the arena's start)
  std::vector<Lifetime> v = {{0, 1000, 0, 1}, {1, 1000, 1, 2}, {2, 800, 2, 3}, {3, 4000, 4, 4}};
  MemoryPlan m = plan_buffers(v, 4);
  EXPECT_NE(m.offset_of[0], m.offset_of[1]);
  EXPECT_EQ(m.offset_of[2], m.offset_of[0]);
  EXPECT_EQ(m.offset_of[3], 0);
  EXPECT_EQ(m.naive_bytes, 1024u + 1024 + 832 + 4032);
  EXPECT_EQ(m.planned_bytes, 4032u);
  EXPECT_EQ(m.peak_live_bytes, 4032u);
}

TEST(CompilerMemoryPlan, AValueNeverSharesWithOneStillRead) {
  // Written at the step its neighbour is last read: must not take those bytes.
  std::vector<Lifetime> v = {{0, 64, 0, 3}, {1, 64, 3, 5}};
  MemoryPlan m = plan_buffers(v, 2);
  EXPECT_NE(m.offset_of[0], m.offset_of[1]);
  EXPECT_EQ(m.planned_bytes, 128u);
}

TEST(CompilerMemoryPlan, TakesTheSmallestGapThatFits) {
  // Placed by size: a [0, 4096), b [4096, 6144), c [6144, 7168), d [7168, 7680). At steps
  // 2-3 a and c are dead: gaps of 4096 and 1024 bytes between b and d; e (448) takes c's.
  std::vector<Lifetime> v = {
      {0, 4096, 0, 1}, {1, 2048, 0, 3}, {2, 1024, 0, 1}, {3, 512, 0, 3}, {4, 400, 2, 3}};
  MemoryPlan m = plan_buffers(v, 5);
  EXPECT_EQ(m.offset_of[2], 6144);
  EXPECT_EQ(m.offset_of[4], m.offset_of[2]);
}

// A training step's pattern (the forward pass allocates, the backward pass frees in reverse
// while it allocates gradients) and random lifetimes: live values never share a byte, and
// the arena lies between the most bytes live at once (no plan does better) and no reuse.
TEST(CompilerMemoryPlan, LiveValuesNeverShareAByte) {
  uint64_t x = 12345;
  auto rnd = [&](int n) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return (int)(x % (uint64_t)n);
  };
  for (int trial = 0; trial < 200; ++trial) {
    std::vector<Lifetime> v;
    int n = 2 + rnd(60);
    for (int i = 0; i < n; ++i) {
      int def = trial % 2 ? i : rnd(40);
      int last = trial % 2 ? 2 * n - 1 - i : def + rnd(10);
      v.push_back({i, (size_t)(1 + rnd(5000)), def, last});
    }
    MemoryPlan m = plan_buffers(v, n);
    for (int i = 0; i < n; ++i)
      for (int j = i + 1; j < n; ++j)
        if (v[i].def <= v[j].last && v[j].def <= v[i].last) {
          int64_t ai = m.offset_of[i], bi = ai + (int64_t)m.bytes_of[i];
          int64_t aj = m.offset_of[j], bj = aj + (int64_t)m.bytes_of[j];
          ASSERT_TRUE(bi <= aj || bj <= ai) << "trial " << trial << ": %" << i << " and %" << j;
        }
    EXPECT_GE(m.planned_bytes, m.peak_live_bytes);
    EXPECT_LE(m.planned_bytes, m.naive_bytes);
    if (trial % 2) EXPECT_EQ(m.planned_bytes, m.peak_live_bytes) << "nested lifetimes";
  }
}
