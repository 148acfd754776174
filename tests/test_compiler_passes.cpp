// Compiler passes one by one (DCE, CSE, constant folding, algebraic simplification): node
// counts after each pass, and the rewritten program computes exactly what the original did.
#include <gtest/gtest.h>

#include <algorithm>

#include "fluxion/api/fx.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/compiler/passes.h"
#include "fluxion/exec/interpreter.h"

using namespace fx;
using namespace fx::compiler;

namespace {

int live_op_count(const Program& p, Op op) { return count_op(p, op); }

int live_size(const Program& p) {
  int c = 0;
  for (char l : live_nodes(p)) c += l;
  return c;
}

std::vector<Tensor> run(const Program& p, const Feeds& f) {
  std::vector<Var> outs;
  for (int o : p.outputs) outs.push_back(Var{p.graph.get(), o});
  return Interpreter(*p.graph, outs).run(f);
}

void expect_same(const Program& a, const Program& b, const Feeds& f) {
  std::vector<Tensor> ra = run(a, f), rb = run(b, f);
  ASSERT_EQ(ra.size(), rb.size());
  for (size_t i = 0; i < ra.size(); ++i) {
    EXPECT_EQ(ra[i].shape(), rb[i].shape()) << "output " << i;
    EXPECT_EQ(ra[i].to_vector(), rb[i].to_vector()) << "output " << i;
  }
}

Tensor randn(Shape s, uint64_t seed) {
  std::vector<double> v(numel(s));
  uint64_t x = seed * 2654435761u + 1;
  for (double& d : v) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    d = ((x >> 11) * (1.0 / 9007199254740992.0)) * 2 - 1;
  }
  return Tensor::from(v, s);
}

}  // namespace

TEST(CompilerDce, DropsUnusedNodesAndInputs) {
  Graph g;
  Var x = g.input("x", {4});
  Var unused_in = g.input("unused", {4});
  Var dead = exp(unused_in) + x;  // never an output
  (void)dead;
  Var y = x * 2.0;
  Program p(g, {y});
  Program q = dead_code_elimination(p);
  EXPECT_EQ(q.size(), 3);  // x, 2.0, mul
  EXPECT_FALSE(q.graph->has_input("unused"));
  EXPECT_EQ(live_op_count(q, Op::exp), 0);
  expect_same(p, q, {{"x", randn({4}, 1)}, {"unused", randn({4}, 2)}});
}

TEST(CompilerCse, MergesRepeatedWorkButNotDifferentAttrs) {
  Graph g;
  Var x = g.input("x", {3, 4});
  Var a = exp(x) + exp(x);                        // two exp(x): one after CSE
  Var b = sum(x, {0}) * 2.0 + sum(x, {0}) * 2.0;  // the constant 2.0 merges too
  Var c = sum(x, {1});                            // other axes: stays separate
  Program p(g, {a, b, c});
  Program q = common_subexpression_elimination(p);
  EXPECT_EQ(live_op_count(p, Op::exp), 2);
  EXPECT_EQ(live_op_count(q, Op::exp), 1);
  EXPECT_EQ(live_op_count(q, Op::reduce_sum), 2);
  EXPECT_EQ(live_op_count(q, Op::mul), 1);
  EXPECT_EQ(live_op_count(q, Op::constant), 1);
  expect_same(p, q, {{"x", randn({3, 4}, 3)}});
}

TEST(CompilerCse, MergesRandomDrawsWithTheSameKeyOnly) {
  Graph g;
  Var k1 = g.input("k1", {2}, DType::i64);
  Var k2 = g.input("k2", {2}, DType::i64);
  Var a = random_uniform(k1, {8}) + random_uniform(k1, {8}) + random_uniform(k2, {8});
  Program q = common_subexpression_elimination(Program(g, {a}));
  EXPECT_EQ(live_op_count(q, Op::random_uniform), 2);
}

TEST(CompilerConstantFolding, FoldsSmallConstantSubgraphsOnly) {
  Graph g;
  Var x = g.input("x", {5});
  Var c = (g.scalar(2.0) + g.scalar(3.0)) * g.scalar(4.0);  // -> 20
  Var big = broadcast_to(g.scalar(1.0), {100, 100});        // 10,000 elements: kept
  Var y = x * c;
  Var z = sum(big) + sum(x);
  Program p(g, {y, z});
  Program q = dead_code_elimination(constant_folding(p));
  EXPECT_EQ(live_op_count(q, Op::add), 1);  // only sum(big) + sum(x)
  EXPECT_EQ(live_op_count(q, Op::broadcast_to), 1);
  int twenty = 0;
  for (const Node& n : q.graph->nodes())
    if (n.op == Op::constant && n.attrs.literal.numel() == 1 && n.attrs.literal.item() == 20.0)
      ++twenty;
  EXPECT_EQ(twenty, 1);
  expect_same(p, q, {{"x", randn({5}, 4)}});
}

TEST(CompilerSimplify, IdentitiesVanish) {
  Graph g;
  Var x = g.input("x", {2, 3});
  Var y = ((x * 1.0) + 0.0) / 1.0 - 0.0;
  Var z = neg(neg(stop_gradient(y)));
  Program p(g, {z});
  Program q = dead_code_elimination(algebraic_simplification(p));
  EXPECT_EQ(live_size(q), 1) << q.dump();  // just the input
  EXPECT_EQ(q.outputs[0], 0);
  expect_same(p, q, {{"x", randn({2, 3}, 5)}});
}

TEST(CompilerSimplify, OnesOfALargerShapeAreKept) {
  Graph g;
  Var x = g.input("x", {3});
  Var y = x * ones_like(broadcast_to(g.scalar(1.0), {2, 3}));  // result [2, 3], not x
  Program q = dead_code_elimination(algebraic_simplification(Program(g, {y})));
  EXPECT_EQ(q.node(q.outputs[0]).shape, (Shape{2, 3}));
}

TEST(CompilerSimplify, PermuteOfPermuteComposes) {
  Graph g;
  Var x = g.input("x", {2, 3, 4});
  Var back = transpose(transpose(x));                   // identity
  Var rot = permute(permute(x, {1, 2, 0}), {1, 2, 0});  // one permute {2, 0, 1}
  Program p(g, {back, rot});
  Program q = dead_code_elimination(algebraic_simplification(p));
  EXPECT_EQ(live_op_count(q, Op::permute), 1);
  EXPECT_EQ(q.outputs[0], 0);
  EXPECT_EQ(q.node(q.outputs[1]).attrs.axes, (Axes{2, 0, 1}));
  expect_same(p, q, {{"x", randn({2, 3, 4}, 6)}});
}

TEST(CompilerSimplify, CastOfCastOnlyWhenTheInnerCastIsLossless) {
  Graph g;
  Var x32 = g.input("x32", {4});
  Var x64 = g.input("x64", {4}, DType::f64);
  Var round_trip = cast(cast(x32, DType::f64), DType::f32);  // exact: -> x32
  Var narrowing = cast(cast(x64, DType::f32), DType::f64);   // rounds: kept
  Var to_int = cast(cast(x32, DType::f64), DType::i32);      // -> one cast f32 -> i32
  Program p(g, {round_trip, narrowing, to_int});
  Program q = dead_code_elimination(algebraic_simplification(p));
  EXPECT_EQ(q.node(q.outputs[0]).op, Op::input);
  EXPECT_EQ(q.node(q.outputs[1]).op, Op::cast);
  EXPECT_EQ(q.node(q.node(q.outputs[1]).inputs[0]).op, Op::cast);
  EXPECT_EQ(q.node(q.outputs[2]).op, Op::cast);
  EXPECT_EQ(q.node(q.node(q.outputs[2]).inputs[0]).op, Op::input);
  Tensor v64 = Tensor::from({0.1, -2.7, 1e-9, 3.3}, {4}, DType::f64);
  expect_same(p, q, {{"x32", randn({4}, 7)}, {"x64", v64}});
}

TEST(CompilerSimplify, ReshapeAndBroadcastChainsCollapse) {
  Graph g;
  Var x = g.input("x", {6});
  Var r = reshape(reshape(reshape(x, {2, 3}), {3, 2}), {1, 6});
  Var same = reshape(reshape(x, {2, 3}), {6});  // back to x
  Var b = broadcast_to(broadcast_to(g.input("s", {3}), {2, 3}), {4, 2, 3});
  Program p(g, {r, same, b});
  Program q = dead_code_elimination(algebraic_simplification(p));
  EXPECT_EQ(live_op_count(q, Op::reshape), 1);
  EXPECT_EQ(live_op_count(q, Op::broadcast_to), 1);
  EXPECT_EQ(q.node(q.outputs[1]).op, Op::input);
  expect_same(p, q, {{"x", randn({6}, 8)}, {"s", randn({3}, 9)}});
}

TEST(CompilerSimplify, ElementwiseOperandsReadBroadcastsAtTheirOwnShape) {
  Graph g;
  Var x = g.input("x", {4, 3});
  Var b = g.input("b", {3});
  Var y = x + broadcast_to(b, {4, 3});                        // -> x + b
  Var z = broadcast_to(b, {4, 3}) * broadcast_to(b, {4, 3});  // one must stay: result is [4, 3]
  Program p(g, {y, z});
  Program q = dead_code_elimination(algebraic_simplification(p));
  const Node& add = q.node(q.outputs[0]);
  EXPECT_EQ(q.node(add.inputs[1]).op, Op::input);
  EXPECT_EQ(q.node(q.outputs[1]).shape, (Shape{4, 3}));
  expect_same(p, q, {{"x", randn({4, 3}, 10)}, {"b", randn({3}, 11)}});
}

TEST(CompilerSinkReshapes, RegionsEndingInLibraryOpsComputeInTheSourceShape) {
  Graph g;
  Var x = g.input("x", {2, 3, 4});
  Var y = g.input("y", {2, 3, 4});
  Var z = g.input("z", {6, 4});
  Var a = reshape(x, {6, 4}), b = reshape(y, {6, 4});
  Var silu_a = a * sigmoid(a);                            // both operands from x: sinks
  Var into_dot = dot(a + b * 2.0, g.input("m", {4, 5}));  // reshapes and a scalar: sinks
  Var mixed = a + z;                                      // a plain operand: stays
  Var feeds_mixed = sigmoid(b) - z;                       // sigmoid's user stays: so does it
  Var other = reshape(g.input("w", {4, 6}), {6, 4}) + a;  // two source shapes: stays
  Var summed = sum(exp(a), {1});                          // a sum would have fused: stays
  Program p(g, {silu_a, into_dot, mixed, feeds_mixed, other, summed});
  Program q = dead_code_elimination(sink_reshapes(p));
  const Node& out0 = q.node(q.outputs[0]);
  EXPECT_EQ(out0.op, Op::reshape);
  EXPECT_EQ(q.node(out0.inputs[0]).shape, (Shape{2, 3, 4}));
  const Node& dot_a = q.node(q.node(q.outputs[1]).inputs[0]);
  EXPECT_EQ(dot_a.op, Op::reshape);  // the dot reads the sunk sum through a reshape
  EXPECT_EQ(q.node(dot_a.inputs[0]).shape, (Shape{2, 3, 4}));
  EXPECT_EQ(q.node(q.outputs[2]).op, Op::add);
  EXPECT_EQ(q.node(q.node(q.outputs[3]).inputs[0]).op, Op::sigmoid);
  EXPECT_EQ(q.node(q.node(q.outputs[3]).inputs[0]).shape, (Shape{6, 4}));
  EXPECT_EQ(q.node(q.outputs[4]).op, Op::add);
  EXPECT_EQ(q.node(q.node(q.outputs[5]).inputs[0]).shape, (Shape{6, 4}));
  expect_same(p, q,
              {{"x", randn({2, 3, 4}, 12)},
               {"y", randn({2, 3, 4}, 13)},
               {"z", randn({6, 4}, 14)},
               {"m", randn({4, 5}, 16)},
               {"w", randn({4, 6}, 15)}});
}

TEST(CompilerSplitReductions, LastAxisFirstAndBitExact) {
  Graph g;
  Var x = g.input("x", {3, 4, 5, 6});
  Var m = g.input("m", {7, 9});
  Var channel = sum(x, {0, 2, 3});                            // [4]: split
  Var kept = sum(x, {2, 3}, true);                            // [3, 4, 1, 1]: split
  Var all = sum(m);                                           // []: split
  Var inner = sum(x, {3});                                    // one axis: kept
  Var middle = sum(x, {0, 2});                                // last axis not reduced: kept
  Var wide = sum(cast(x, DType::f64), {1, 3});                // f64 too
  Var positions = sum(cast(iota(g, {3, 4}, 1), DType::f32));  // a node with no inputs
  Program p(g, {channel, kept, all, inner, middle, wide, positions});
  Program q = dead_code_elimination(split_reductions(p));
  EXPECT_EQ(live_op_count(q, Op::reduce_sum), 12);
  for (size_t i = 0; i < 3; ++i) {
    const Node& out = q.node(q.outputs[i]);
    EXPECT_EQ(out.shape, p.node(p.outputs[i]).shape);
  }
  expect_same(p, q, {{"x", randn({3, 4, 5, 6}, 21)}, {"m", randn({7, 9}, 22)}});
}

// A sum over batch and time of [A, B, C] becomes a sum over B then over A (the reference
// kernel's order), in f32 and f64, with or without keepdims; one column stays as it is.
TEST(CompilerSplitReductions, BatchAndTimeSumsSplitBitExact) {
  Graph g;
  Var x = g.input("x", {3, 50, 7});
  Var y = g.input("y", {3, 50, 1});
  Var plain = sum(x, {0, 1});                   // [7]: split
  Var kept = sum(x * x, {0, 1}, true);          // [1, 1, 7]: split
  Var wide = sum(cast(x, DType::f64), {0, 1});  // f64: split
  Var one_column = sum(y, {0, 1});              // kept
  Program p(g, {plain, kept, wide, one_column});
  Program q = dead_code_elimination(split_reductions(p));
  EXPECT_EQ(live_op_count(q, Op::reduce_sum), 7);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(q.node(q.outputs[i]).shape, p.node(p.outputs[i]).shape);
  expect_same(p, q, {{"x", randn({3, 50, 7}, 31)}, {"y", randn({3, 50, 1}, 32)}});
}

// f32 products of 1 to 4 contracted values become 0 + a0 b0 + a1 b1 + ...; the rest stay
// dots: five contracted values, an f64 product, a batch of B.
TEST(CompilerExpandSmallDots, SmallProductsBecomeElementwiseBitExact) {
  Graph g;
  Var x = g.input("x", {16, 3}), w = g.input("w", {7, 3});
  Var xt = g.input("xt", {2, 16}), v = g.input("v", {2, 7});
  Var seq = g.input("seq", {4, 16, 2}), e = g.input("e", {2, 5});
  Var five = g.input("five", {16, 5}), m = g.input("m", {5, 7});
  Var batched_b = g.input("bb", {4, 2, 5});
  std::vector<Var> outs = {
      dot(x, w, false, true),        // K 3, B^T: expanded
      dot(xt, v, true, false),       // K 2, A^T: expanded
      dot(seq, e),                   // K 2, a batch of A, shared B: expanded
      dot(x, w, false, true) + 1.0,  // the same product again (no CSE here)
      dot(five, m),                  // K 5: stays
      dot(cast(x, DType::f64), cast(w, DType::f64), false, true),  // f64: stays
      dot(seq, batched_b),                                         // a batch of B: stays
  };
  Program p(g, outs);
  Program q = dead_code_elimination(expand_small_dots(p));
  EXPECT_EQ(live_op_count(q, Op::dot), 3);
  EXPECT_EQ(live_op_count(q, Op::slice), (3 + 3) * 2 + (2 + 2) * 2);  // a column, a row per K
  EXPECT_EQ(q.node(q.outputs[0]).op, Op::add);
  EXPECT_EQ(q.node(q.outputs[2]).shape, (Shape{4, 16, 5}));
  expect_same(p, q,
              {{"x", randn({16, 3}, 41)},
               {"w", randn({7, 3}, 42)},
               {"xt", randn({2, 16}, 43)},
               {"v", randn({2, 7}, 44)},
               {"seq", randn({4, 16, 2}, 45)},
               {"e", randn({2, 5}, 46)},
               {"five", randn({16, 5}, 47)},
               {"m", randn({5, 7}, 48)},
               {"bb", randn({4, 2, 5}, 49)}});
  // The switch sits in the pipeline's entry for the pass, as for its siblings.
  auto pipeline = default_pipeline();
  auto entry = std::find_if(pipeline.begin(), pipeline.end(),
                            [](const PassInfo& i) { return i.name == "expand_small_dots"; });
  ASSERT_NE(entry, pipeline.end());
  ::setenv("FLUXION_NO_SMALL_DOT_EXPANSION", "1", 1);
  Program kept = dead_code_elimination(entry->run(p));
  ::unsetenv("FLUXION_NO_SMALL_DOT_EXPANSION");
  EXPECT_EQ(live_op_count(kept, Op::dot), 7);
}

TEST(CompilerPipeline, GradientGraphShrinksAndAgrees) {
  Graph g;
  Var x = g.input("x", {8, 5});
  Var w = g.input("w", {5, 5});
  Var h = silu(matmul(x, w) * 1.0 + 0.0);
  Var loss = mean(square(h)) + mean(square(h));
  Var gw = grad(loss, {w})[0];
  Program p(g, {loss, gw});
  Program q(g, {loss, gw});
  for (const PassInfo& pass : default_pipeline()) q = pass.run(q);
  EXPECT_LT(live_size(q), live_size(p));
  expect_same(p, q, {{"x", randn({8, 5}, 12)}, {"w", randn({5, 5}, 13)}});
}

TEST(CompilerProgram, DumpListsNodesAndOutputs) {
  Graph g;
  Var x = g.input("x", {2});
  Program p(g, {exp(x)});
  EXPECT_EQ(p.dump(), "%0 = input() name=x : f32[2]\n%1 = exp(%0) : f32[2]\noutputs: %1\n");
  // The hash is structural: the same trace gives the same key, another shape another.
  Graph g2;
  Var x2 = g2.input("x", {2});
  Graph g3;
  Var x3 = g3.input("x", {3});
  EXPECT_EQ(structural_hash(p), structural_hash(Program(g2, {exp(x2)})));
  EXPECT_NE(structural_hash(p), structural_hash(Program(g3, {exp(x3)})));
}

// Attributes added by later ops (linear_scan's reverse) must keep otherwise identical nodes
// apart: a forward and a reverse scan of the same inputs are different values.
TEST(CompilerCse, KeepsScansThatDifferOnlyInDirection) {
  Graph g;
  Var a = g.input("a", {5, 3, 2}), b = g.input("b", {5, 3, 2});
  Var fwd = linear_scan(a * 0.5, b, 0), bwd = linear_scan(a * 0.5, b, 0, /*reverse=*/true);
  Program p(g, {fwd, bwd});
  Program q = common_subexpression_elimination(p);
  EXPECT_EQ(live_op_count(q, Op::linear_scan), 2);
  expect_same(p, q, {{"a", randn({5, 3, 2}, 4)}, {"b", randn({5, 3, 2}, 5)}});
}

TEST(CompilerSimplify, SummedPadsOfAdjacentSlicesBecomeOneConcat) {
  // The gradient of splitting qkv into three: three zero pads along one axis, summed.
  Graph g;
  Var a = g.input("a", {2, 3, 4}), b = g.input("b", {2, 2, 4}), c = g.input("c", {2, 1, 4});
  Var sum3 =
      pad(a, {0, 0, 0}, {0, 3, 0}) + pad(b, {0, 3, 0}, {0, 1, 0}) + pad(c, {0, 5, 0}, {0, 0, 0});
  Var inner = pad(c, {0, 2, 0}, {0, 1, 0}) + pad(b, {0, 0, 0}, {0, 2, 0});  // [b, c, 0]
  Var gap = pad(c, {0, 0, 0}, {0, 3, 0}) + pad(c, {0, 2, 0}, {0, 1, 0});    // not adjacent
  Program p(g, {sum3, inner, gap});
  Program q = dead_code_elimination(algebraic_simplification(p));
  EXPECT_EQ(q.node(q.outputs[0]).op, Op::concat);
  EXPECT_EQ(q.node(q.outputs[0]).inputs.size(), 3u);
  EXPECT_EQ(q.node(q.outputs[1]).op, Op::pad);
  EXPECT_EQ(q.node(q.outputs[2]).op, Op::add);
  EXPECT_EQ(live_op_count(q, Op::pad), 3);  // inner's one, gap's two
  expect_same(
      p, q,
      {{"a", randn({2, 3, 4}, 31)}, {"b", randn({2, 2, 4}, 32)}, {"c", randn({2, 1, 4}, 33)}});
}
