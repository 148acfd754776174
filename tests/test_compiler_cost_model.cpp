// The cost model behind the roofline tables: FLOPs from matmul and convolution shapes,
// bytes from what each step reads and writes.
#include <gtest/gtest.h>

#include "fluxion/api/fx.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/compiler/compiler.h"
#include "fluxion/compiler/cost_model.h"

using namespace fx;
using namespace fx::compiler;

TEST(CompilerCostModel, MatmulFlopsAreTwoMNKWithTransposesAndBatches) {
  Graph g;
  Var a = g.input("a", {3, 40, 16});  // batch 3, M 40, K 16
  Var b = g.input("b", {24, 16});     // N 24, transposed
  Var at = g.input("at", {16, 40});   // K 16, M 40, transposed
  Var c = g.input("c", {16, 24});
  Program p(g, {dot(a, b, false, true), dot(at, c, true, false)});
  Cost cost = unfused_cost(p);
  EXPECT_DOUBLE_EQ(cost.matmul_flops, 2.0 * 3 * 40 * 24 * 16 + 2.0 * 40 * 24 * 16);
  EXPECT_DOUBLE_EQ(cost.conv_flops, 0.0);
  EXPECT_DOUBLE_EQ(cost.other_flops, 0.0);
  // Each dot reads its operands and writes its result (f32).
  EXPECT_DOUBLE_EQ(cost.bytes,
                   4.0 * ((3 * 40 * 16 + 24 * 16 + 3 * 40 * 24) + (16 * 40 + 16 * 24 + 40 * 24)));
}

TEST(CompilerCostModel, ConvolutionAndItsGradientsCountTheSameProducts) {
  Graph g;
  Var x = g.input("x", {2, 6, 9, 9});
  Var w = g.input("w", {8, 3, 3, 3});  // 2 groups of 3 input channels
  ConvParams cp;
  cp.padding = {1, 1};
  cp.stride = {2, 2};
  cp.groups = 2;
  Var y = conv2d(x, w, cp);  // [2, 8, 5, 5]
  ASSERT_EQ(y.shape(), (Shape{2, 8, 5, 5}));
  Var loss = sum(y * y);
  std::vector<Var> grads = grad(loss, {x, w});
  Program p(g, {loss, grads[0], grads[1]});
  double forward = 2.0 * (2 * 8 * 5 * 5) * (3 * 3 * 3);
  int convs = count_op(p, Op::conv2d) + count_op(p, Op::conv2d_backward_data) +
              count_op(p, Op::conv2d_backward_weights);
  ASSERT_EQ(convs, 3);
  EXPECT_DOUBLE_EQ(unfused_cost(p).conv_flops, 3 * forward);
}

// Fusion keeps the FLOPs and cuts the bytes: the chain's intermediates never reach memory.
TEST(CompilerCostModel, FusedKernelMovesOnlyItsInputsAndOutputs) {
  Graph g;
  Var x = g.input("x", {256, 64});
  Var b = g.input("b", {64});
  Var y = tanh(exp(x + b) * 2.0);
  Program p(g, {y});
  FusionPlan plan = plan_fusion(p);
  ASSERT_EQ(plan.kernels.size(), 1u);
  Cost fused = plan_cost(p, plan), unfused = unfused_cost(p);
  EXPECT_DOUBLE_EQ(fused.flops(), unfused.flops());
  EXPECT_DOUBLE_EQ(fused.other_flops, 4.0 * 256 * 64);  // add, exp, mul, tanh
  EXPECT_DOUBLE_EQ(fused.bytes, 4.0 * (256 * 64 + 64 + 256 * 64));
  EXPECT_GT(unfused.bytes, 2.5 * fused.bytes);
}

// A compiled executable reports its program's cost in its statistics.
TEST(CompilerCostModel, ExecutableStatsCarryTheCost) {
  Graph g;
  Var x = g.input("x", {32, 16});
  Var w = g.input("w", {8, 16});
  auto exe = compile(g, {silu(dot(x, w, false, true))});
  EXPECT_DOUBLE_EQ(exe->stats().cost.matmul_flops, 2.0 * 32 * 8 * 16);
  EXPECT_GT(exe->stats().cost.bytes, 0.0);
}
