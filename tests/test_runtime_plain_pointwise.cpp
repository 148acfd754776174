// Plain-layout 1x1 convolutions (runtime/plain_pointwise_convs.h): which convolutions a
// forward-only graph marks, that training graphs (a weight gradient reads the input) and
// other shapes stay blocked, and that the interpreter and the compiled executor still agree
// bit for bit on a marked graph, within float rounding of the blocked kernel's result.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>

#include "fluxion/api/fx.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/runtime/executor.h"
#include "fluxion/runtime/plain_pointwise_convs.h"
#include "op_test_util.h"

using namespace fx;

namespace {

// concat(a, b) -> 1x1 conv (a U-Net up block's skip projection), plus convolutions that
// must stay blocked: a 3x3 one, and a 1x1 one on a 7x7 map.
struct PointwiseCase {
  Graph g;
  Var pointwise, three_by_three, small_map, weights;
};

void build(PointwiseCase& c, int64_t side) {
  Graph& g = c.g;
  Var a = g.input("a", {2, 16, side, side}), b = g.input("b", {2, 8, side, side});
  c.weights = g.input("w", {8, 24, 1, 1});
  Var w3 = g.input("w3", {8, 24, 3, 3}), s = g.input("s", {2, 24, 7, 7});
  Var x = concat({a, b}, 1);
  c.pointwise = conv2d(x, c.weights);
  c.three_by_three = conv2d(silu(x), w3, {.padding = {1, 1}});
  c.small_map = conv2d(s, c.weights);
}

Feeds feeds_for(const Graph& g) {
  Feeds f;
  uint64_t seed = 3;
  for (int id : g.input_ids()) {
    const Node& n = g.node(id);
    f[n.attrs.name] = optest::random_tensor(n.shape, seed++, DType::f32);
  }
  return f;
}

TEST(PlainPointwiseConvs, AForwardOnlyGraphMarksTheLargeOneByOne) {
  PointwiseCase c;
  build(c, 16);  // 256 positions
  EXPECT_TRUE(runtime::plain_pointwise_conv(c.g, c.pointwise.id));
  EXPECT_FALSE(runtime::plain_pointwise_conv(c.g, c.three_by_three.id));
  EXPECT_FALSE(runtime::plain_pointwise_conv(c.g, c.small_map.id));  // 49 positions
  if (!runtime::plain_pointwise_enabled()) GTEST_SKIP() << "FLUXION_NO_PLAIN_POINTWISE=1";
  EXPECT_EQ(runtime::mark_plain_pointwise_convs(c.g), 1);
  EXPECT_TRUE(c.g.node(c.pointwise.id).attrs.plain_layout);
  EXPECT_EQ(runtime::mark_plain_pointwise_convs(c.g), 0);  // already marked
  EXPECT_NE(node_str(c.g, c.pointwise.id).find("plain_layout"), std::string::npos);
}

TEST(PlainPointwiseConvs, AWeightGradientKeepsTheBlockedKernel) {
  PointwiseCase c;
  build(c, 16);
  Var loss = sum(c.pointwise * c.pointwise);
  grad(loss, {c.weights});  // conv2d_backward_weights reads the concat too
  EXPECT_FALSE(runtime::plain_pointwise_conv(c.g, c.pointwise.id));
}

TEST(PlainPointwiseConvs, OnlyF32) {
  Graph g;
  Var x = g.input("x", {2, 24, 16, 16}, DType::bf16), w = g.input("w", {8, 24, 1, 1}, DType::bf16);
  Var y = conv2d(x, w);
  EXPECT_FALSE(runtime::plain_pointwise_conv(g, y.id));
}

// make_executor marks the graph both executors run: their outputs agree bit for bit, and
// with the mark off (the blocked kernel) within float rounding.
TEST(PlainPointwiseConvs, BothExecutorsAgreeOnTheMarkedGraph) {
  PointwiseCase c;
  build(c, 16);
  std::vector<Var> outs = {c.pointwise, c.three_by_three, c.small_map};
  Feeds f = feeds_for(c.g);
  auto interp = runtime::make_executor(c.g, outs, {{}, false, {}});
  auto compiled = runtime::make_executor(c.g, outs, {{}, true, {}});
  std::vector<Tensor> a = interp.run(f), b = compiled.run(f);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i)
    EXPECT_EQ(std::memcmp(a[i].raw(), b[i].raw(), a[i].nbytes()), 0) << "output " << i;
  EXPECT_FALSE(c.g.node(c.pointwise.id).attrs.plain_layout);  // the caller's graph untouched
  // The blocked kernel on the unmarked graph (an interpreter made directly).
  std::vector<Tensor> blocked = Interpreter(c.g, outs).run(f);
  auto p = a[0].to_vector(), q = blocked[0].to_vector();
  for (size_t i = 0; i < p.size(); ++i) ASSERT_NEAR(p[i], q[i], 1e-5 * (1 + std::fabs(q[i]))) << i;
}

}  // namespace
