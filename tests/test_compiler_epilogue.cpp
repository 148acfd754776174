// Matmul epilogue fusion: bias and residual adds and the bf16 cast computed inside the
// oneDNN call (post-ops on the f32 accumulator), decided by the fusion pass, bit-identical
// to the interpreter's separate kernels.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

#include "fluxion/api/fx.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/compiler/compiler.h"
#include "fluxion/core/error.h"

using namespace fx;
using namespace fx::compiler;

namespace {

Tensor noise(Shape s, uint64_t seed, double scale = 2.0) {
  std::vector<double> v(numel(s));
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 11;
  for (double& e : v) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    e = scale * (2.0 * ((x >> 11) * (1.0 / 9007199254740992.0)) - 1.0);
  }
  return Tensor::from(v, s, DType::f32);
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.dtype() == b.dtype() &&
         std::memcmp(a.raw(), b.raw(), a.nbytes()) == 0;
}

// Epilogue fusion is opt-in (FLUXION_EPILOGUE_FUSION=1); these tests turn it on.
class CompilerEpilogue : public ::testing::Test {
 protected:
  void SetUp() override { setenv("FLUXION_EPILOGUE_FUSION", "1", 1); }
  void TearDown() override { unsetenv("FLUXION_EPILOGUE_FUSION"); }
};

// Compiles with and without epilogue fusion and checks both against the interpreter.
int epilogues_and_check(const Graph& g, const std::vector<Var>& outs, const Feeds& feeds) {
  std::vector<Tensor> want = Interpreter(g, outs).run(feeds);
  auto fused = compile(g, outs);
  for (int run = 0; run < 2; ++run) {  // twice: the planned buffers are reused
    std::vector<Tensor> got = fused->run(feeds);
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_TRUE(same_bits(got[i], want[i])) << "output " << i << ", run " << run;
  }
  unsetenv("FLUXION_EPILOGUE_FUSION");
  auto plain = compile(g, outs);
  setenv("FLUXION_EPILOGUE_FUSION", "1", 1);
  EXPECT_EQ(plain->stats().epilogues, 0);
  std::vector<Tensor> got = plain->run(feeds);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(same_bits(got[i], want[i])) << i;
  return fused->stats().epilogues;
}

}  // namespace

TEST_F(CompilerEpilogue, BiasJoinsTheMatmulAndTheActivationStaysInTheKernel) {
  Graph g;
  Var x = g.input("x", {64, 16}), w = g.input("w", {32, 16}), b = g.input("b", {32});
  Program p(g, {silu(dot(x, w, false, true) + b)});
  FusionPlan f = plan_fusion(p);
  ASSERT_EQ(f.epilogues.size(), 1u) << f.dump(p);
  EXPECT_EQ(f.epilogues[0].addends, std::vector<int>{b.id});
  ASSERT_EQ(f.kernels.size(), 1u);
  EXPECT_EQ(f.kernels[0].members.size(), 2u);  // sigmoid, mul
  EXPECT_EQ(plan_fusion(p, true, false).epilogues.size(), 0u);
}

// Not absorbed: a product someone else reads, a residual that a fused kernel would
// compute (it stays in that kernel instead of reaching memory), f64.
TEST_F(CompilerEpilogue, OnlyWhereItRemovesAPass) {
  Graph g;
  Var x = g.input("x", {8, 6}), w = g.input("w", {6, 5}), b = g.input("b", {5});
  Var r = g.input("r", {8, 5});
  Var y1 = matmul(x, w);
  Var read_twice = (y1 + b) * y1;
  Var fused_residual = matmul(x, w * 2.0) + exp(r);
  Var xd = g.input("xd", {8, 6}, DType::f64), wd = g.input("wd", {6, 5}, DType::f64);
  Var f64 = matmul(xd, wd) + g.input("bd", {5}, DType::f64);
  Program p(g, {read_twice, fused_residual, f64});
  EXPECT_EQ(plan_fusion(p).epilogues.size(), 0u) << plan_fusion(p).dump(p);
}

// Bias, residual (another product: gradient accumulation) and bf16 store, on 2-D,
// transposed and batched products, small K (no oneDNN) and large; an epilogue output that
// is a program output.
TEST_F(CompilerEpilogue, BitIdenticalToTheInterpreter) {
  Graph g;
  Feeds feeds;
  uint64_t seed = 1;
  auto in = [&](const std::string& name, Shape s) {
    feeds[name] = noise(s, seed++);
    return g.input(name, s);
  };
  Var x = in("x", {96, 40}), b = in("b", {72}), a = in("a", {40, 96}), c = in("c", {96, 72});
  auto weight = [&](int k) { return in("w" + std::to_string(k), {72, 40}); };
  Var xb = in("xb", {3, 20, 40}), wb = in("wb", {40, 24}), bb = in("bb", {1, 24});
  Var xs = in("xs", {50, 3}), ws = in("ws", {3, 33}), bs = in("bs", {33});
  Var h = silu(dot(x, weight(1), false, true) + b);                          // bias
  Var acc = dot(a, weight(2), true, true) + dot(x, weight(3), false, true);  // a product
  Var both = (dot(x, weight(4), false, true) + b) + c;                       // bias, input
  Var batched = tanh(matmul(xb, wb) + bb);                                   // [60, 24]
  Var small = sigmoid(matmul(xs, ws) + bs);                                  // K = 3
  Var to_bf16 = cast(dot(x, weight(5), false, true) + b, DType::bf16);       // bf16 store
  Var out_direct = dot(x, weight(6), false, true) + b;                       // an output
  // The compiler expands the K = 3 product into its kernel (expand_small_dots) unless told
  // not to; the dot kernel's epilogue for it stays covered this way.
  setenv("FLUXION_NO_SMALL_DOT_EXPANSION", "1", 1);
  int n = epilogues_and_check(g, {h, acc, both, batched, small, to_bf16, out_direct}, feeds);
  unsetenv("FLUXION_NO_SMALL_DOT_EXPANSION");
  EXPECT_EQ(n, 7);
  EXPECT_EQ(epilogues_and_check(g, {h, small}, feeds), 1);  // expanded: h's bias alone
}

// A training step's gradients: the backward pass adds products (the gradient of a value
// read by two matmuls), all bit-identical with the epilogues.
TEST_F(CompilerEpilogue, TwoLayerGradientsBitIdentical) {
  Graph g;
  Feeds feeds;
  uint64_t seed = 40;
  auto in = [&](const std::string& name, Shape s) {
    feeds[name] = noise(s, seed++, 1.0);
    return g.input(name, s);
  };
  Var x = in("x", {128, 24}), w1 = in("w1", {64, 24}), b1 = in("b1", {64});
  Var w2 = in("w2", {64, 64}), b2 = in("b2", {64}), w3 = in("w3", {64, 64});
  Var h1 = silu(dot(x, w1, false, true) + b1);
  Var h2 = h1 + dot(h1, w2, false, true) + b2;  // a residual block
  Var y = dot(h2, w3, false, true) + dot(h1, w3, false, true);
  Var loss = mean(square(y));
  std::vector<Var> grads = grad(loss, {x, w1, b1, w2, b2, w3});
  std::vector<Var> outs{loss};
  outs.insert(outs.end(), grads.begin(), grads.end());
  EXPECT_GE(epilogues_and_check(g, outs, feeds), 3);
}

// The kernel on its own, against the separate adds and cast.
TEST_F(CompilerEpilogue, DotIntoWithAddendsMatchesSeparateOps) {
  Graph g;
  Var a = g.input("a", {33, 70}), bw = g.input("b", {70, 45});
  Var d = matmul(a, bw);
  Tensor A = noise({33, 70}, 1), B = noise({70, 45}, 2), bias = noise({45}, 3),
         res = noise({33, 45}, 4);
  Tensor product(d.shape(), DType::f32);
  cpu::dot_into(d.node(), std::vector<Tensor>{A, B}, product);
  std::vector<float> want(product.numel());
  for (int64_t i = 0; i < product.numel(); ++i)
    want[i] = (product.data<float>()[i] + bias.data<float>()[i % 45]) + res.data<float>()[i];
  Tensor got(d.shape(), DType::f32), got16(d.shape(), DType::bf16);
  cpu::dot_into(d.node(), std::vector<Tensor>{A, B}, got, std::vector<Tensor>{bias, res});
  EXPECT_EQ(std::memcmp(got.raw(), want.data(), got.nbytes()), 0);
  cpu::dot_into(d.node(), std::vector<Tensor>{A, B}, got16, std::vector<Tensor>{bias, res});
  EXPECT_TRUE(same_bits(got16, got.to(DType::bf16)));
  Tensor wrong({33}, DType::f32);
  Tensor f64(d.shape(), DType::f64);
  EXPECT_THROW(cpu::dot_into(d.node(), std::vector<Tensor>{A, B}, got, std::vector<Tensor>{wrong}),
               Error);
  EXPECT_THROW(cpu::dot_into(d.node(), std::vector<Tensor>{A, B}, f64), Error);
}
