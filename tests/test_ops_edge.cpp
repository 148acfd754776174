// Edge shapes and dtypes: size-0 and size-1 dimensions, lengths around the vector width
// (1, 7, 8, 15, 16, 17, 31, 33, 1000, and beyond the parallel grain) so that the f32
// kernels' vectorised loops and their scalar tails both run, and bf16/f16 inputs compared
// with the f32 result rounded to the same format.
#include "op_test_util.h"

// A namespace per file: the unity build (FLUXION_UNITY) compiles several test files as one.
namespace fx::optest::ops_edge {
namespace {

// ---- size 0 and size 1 ----

TEST(OpsEdge, EmptyElementwise) {
  Graph g;
  Var a = g.input("a", {0, 3}, DType::f32), b = g.input("b", {3}, DType::f32);
  Var c = g.input("c", {0, 1}, DType::f32);
  Feeds f = {{"a", Tensor::zeros({0, 3})}, {"b", Tensor::zeros({3})}, {"c", Tensor::zeros({0, 1})}};
  auto r = evaluate({a + a, a * b, exp(a), c + b, lt(a, b), where(lt(a, b), a, c)}, f);
  for (const Tensor& t : r) {
    EXPECT_EQ(t.shape(), (Shape{0, 3}));
    EXPECT_EQ(t.numel(), 0);
  }
  EXPECT_EQ(r[4].dtype(), DType::boolean);
}

TEST(OpsEdge, SumOverEmptyAxisIsZero) {
  for (DType d : {DType::f32, DType::f64, DType::i64}) {
    Graph g;
    Var a = g.input("a", {0, 3}, d), b = g.input("b", {3, 0}, d);
    Feeds f = {{"a", Tensor::zeros({0, 3}, d)}, {"b", Tensor::zeros({3, 0}, d)}};
    auto r = evaluate({sum(a, {0}), sum(b, {1}), sum(a), sum(b, {1}, true), sum(a, {1})}, f);
    EXPECT_EQ(r[0].to_vector(), (std::vector<double>{0, 0, 0})) << dtype_name(d);
    EXPECT_EQ(r[1].to_vector(), (std::vector<double>{0, 0, 0}));
    EXPECT_EQ(r[2].shape(), Shape{});
    EXPECT_EQ(r[2].item(), 0.0);
    EXPECT_EQ(r[3].shape(), (Shape{3, 1}));
    EXPECT_EQ(r[4].shape(), (Shape{0}));
  }
}

TEST(OpsEdge, MeanOfEmptyIsNan) {
  Graph g;
  Var a = g.input("a", {0, 3}, DType::f64);
  Tensor r = evaluate(mean(a, {0}), {{"a", Tensor::zeros({0, 3}, DType::f64)}});
  for (double v : r.to_vector()) EXPECT_TRUE(std::isnan(v));  // 0 / 0, as torch.mean
}

TEST(OpsEdge, DotWithEmptyContractionIsZeros) {
  for (DType d : {DType::f32, DType::f64, DType::bf16}) {
    Graph g;
    Var a = g.input("a", {2, 0}, d), b = g.input("b", {0, 3}, d);
    Var ab = g.input("ab", {4, 2, 0}, d);
    Feeds f = {{"a", Tensor::zeros({2, 0}, d)},
               {"b", Tensor::zeros({0, 3}, d)},
               {"ab", Tensor::zeros({4, 2, 0}, d)}};
    auto r = evaluate({dot(a, b), dot(ab, b), dot(a, a, true, false)}, f);
    EXPECT_EQ(r[0].shape(), (Shape{2, 3})) << dtype_name(d);
    EXPECT_EQ(r[0].to_vector(), std::vector<double>(6, 0.0));
    EXPECT_EQ(r[1].shape(), (Shape{4, 2, 3}));
    EXPECT_EQ(r[1].to_vector(), std::vector<double>(24, 0.0));
    EXPECT_EQ(r[2].shape(), (Shape{0, 0}));
  }
}

TEST(OpsEdge, DotWithEmptyOuterDims) {
  Graph g;
  Var a = g.input("a", {0, 4}, DType::f32), b = g.input("b", {4, 3}, DType::f32);
  Var ab = g.input("ab", {0, 2, 4}, DType::f32);
  auto r = evaluate({dot(a, b), dot(ab, b)}, {{"a", Tensor::zeros({0, 4})},
                                              {"b", Tensor::full({4, 3}, 1.0)},
                                              {"ab", Tensor::zeros({0, 2, 4})}});
  EXPECT_EQ(r[0].shape(), (Shape{0, 3}));
  EXPECT_EQ(r[1].shape(), (Shape{0, 2, 3}));
}

TEST(OpsEdge, ConcatWithEmptyPiece) {
  Graph g;
  Var a = g.input("a", {2, 0}, DType::f64), b = g.input("b", {2, 3}, DType::f64);
  Var c = g.input("c", {0, 3}, DType::f64);
  Feeds f = {{"a", Tensor::zeros({2, 0}, DType::f64)},
             {"b", make({1, 2, 3, 4, 5, 6}, {2, 3})},
             {"c", Tensor::zeros({0, 3}, DType::f64)}};
  Var y1 = concat({a, b, a}, 1), y2 = concat({c, b, c}, 0);
  auto r = evaluate({y1, y2}, f);
  EXPECT_EQ(r[0].shape(), (Shape{2, 3}));
  EXPECT_EQ(r[0].to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(r[1].to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  // Gradients flow through, the empty pieces get empty gradients.
  auto grads = evaluate(grad(sum(y1 * y1), {a, b}), f);
  EXPECT_EQ(grads[0].shape(), (Shape{2, 0}));
  EXPECT_EQ(grads[1].to_vector(), (std::vector<double>{2, 4, 6, 8, 10, 12}));
}

TEST(OpsEdge, EmptyLayoutAndIndexing) {
  Graph g;
  Var a = g.input("a", {0, 3}, DType::f32);
  Var x = g.input("x", {4, 3}, DType::f32);
  Var i = g.input("i", {0}, DType::i64);
  Feeds f = {{"a", Tensor::zeros({0, 3})},
             {"x", Tensor::full({4, 3}, 2.0)},
             {"i", Tensor::zeros({0}, DType::i64)}};
  auto r = evaluate({transpose(a), reshape(a, {3, 0}), slice(a, {0, 1}, {0, 3}),
                     pad(a, {1, 0}, {1, 0}, {2, 0}, 5.0), broadcast_to(a, {2, 0, 3}),
                     gather(x, i, 0), scatter_add(x, i, gather(x, i, 0), 0)},
                    f);
  EXPECT_EQ(r[0].shape(), (Shape{3, 0}));
  EXPECT_EQ(r[1].shape(), (Shape{3, 0}));
  EXPECT_EQ(r[2].shape(), (Shape{0, 2}));
  EXPECT_EQ(r[3].shape(), (Shape{2, 3}));  // only the padding: all 5
  EXPECT_EQ(r[3].to_vector(), std::vector<double>(6, 5.0));
  EXPECT_EQ(r[4].shape(), (Shape{2, 0, 3}));
  EXPECT_EQ(r[5].shape(), (Shape{0, 3}));
  EXPECT_EQ(r[6].to_vector(), std::vector<double>(12, 2.0));
}

// Size-1 dims everywhere: broadcasting against them, reducing them, and gradients that
// sum back onto them.
TEST(OpsEdge, SizeOneDims) {
  std::vector<std::pair<std::string, Tensor>> in = {{"a", random_tensor({1, 3, 1}, 1)},
                                                    {"b", random_tensor({2, 1, 1}, 2)},
                                                    {"c", random_tensor({1, 1}, 3)}};
  Builder f = [](const Args& a) {
    Var y = a["a"] * a["b"] + a["c"];  // [2, 3, 1]
    return sum(max(y, {2}), {0}, true) + dot(reshape(a["a"], {3, 1}), a["c"]);
  };
  EXPECT_GT(check_grad_fd(f, in, 4), 0);
  Graph g;
  Var x = g.input("x", {1, 1, 1}, DType::f64);
  auto r = evaluate(
      {sum(x, {1}), max(x, {0, 2}, true), reshape(x, {}), transpose(x), broadcast_to(x, {2, 1, 3})},
      {{"x", make({4.5}, {1, 1, 1})}});
  EXPECT_EQ(r[0].shape(), (Shape{1, 1}));
  EXPECT_EQ(r[1].shape(), (Shape{1, 1, 1}));
  EXPECT_EQ(r[2].shape(), Shape{});
  EXPECT_EQ(r[2].item(), 4.5);
  EXPECT_EQ(r[4].to_vector(), std::vector<double>(6, 4.5));
}

// ---- vector widths and tails ----

const int64_t kLengths[] = {1, 7, 8, 15, 16, 17, 31, 33, 1000, 40009};

double ulp_f32(double r) {
  r = std::fabs(r);
  if (r < 1.1754943508222875e-38) return std::ldexp(1.0, -149);
  int e;
  std::frexp(r, &e);
  return std::ldexp(1.0, e - 24);
}

// Every f32 unary kernel, at every length, against the double-precision function of the
// same f32 inputs: within 3 ulp (the fast exp/log/tanh/sigmoid are within 2.15 ulp, see
// test_ops_vector_math.cpp; the rest are correctly rounded or within 1.5 ulp), except the
// rational fast_erf: within 8 ulp (7.53 measured there, 4e-7 absolute).
TEST(OpsEdge, UnaryF32AllLengths) {
  struct U {
    const char* name;
    Var (*fx)(Var);
    double (*ref)(double);
    double lo, hi;
  };
  const U ops[] = {{"exp", exp, [](double x) { return std::exp(x); }, -20, 20},
                   {"log", log, [](double x) { return std::log(x); }, 1e-3, 100},
                   {"tanh", tanh, [](double x) { return std::tanh(x); }, -5, 5},
                   {"sigmoid", sigmoid, [](double x) { return 1 / (1 + std::exp(-x)); }, -20, 20},
                   {"neg", neg, [](double x) { return -x; }, -5, 5},
                   {"sqrt", sqrt, [](double x) { return std::sqrt(x); }, 0, 100},
                   {"rsqrt", rsqrt, [](double x) { return 1 / std::sqrt(x); }, 1e-3, 100},
                   {"abs", abs, [](double x) { return std::fabs(x); }, -5, 5},
                   {"sin", sin, [](double x) { return std::sin(x); }, -3, 3},
                   {"cos", cos, [](double x) { return std::cos(x); }, -1.5, 1.5},
                   {"erf", erf, [](double x) { return std::erf(x); }, 0.1, 3},
                   {"floor", floor, [](double x) { return std::floor(x); }, -5, 5},
                   {"sign", sign, [](double x) { return (double)((x > 0) - (x < 0)); }, -5, 5}};
  uint64_t seed = 50;
  for (const U& op : ops)
    for (int64_t n : kLengths) {
      Tensor xv = random_tensor({n}, seed++, DType::f32, op.lo, op.hi);
      Graph g;
      Var x = g.input("x", {n}, DType::f32);
      std::vector<float> y = evaluate(op.fx(x), {{"x", xv}}).to_f32_vector();
      std::vector<float> xs = xv.to_f32_vector();
      int bad = 0;
      double worst = 0;
      for (int64_t i = 0; i < n; ++i) {
        double r = op.ref(xs[i]), u = std::fabs(y[i] - r) / ulp_f32(r);
        worst = std::max(worst, u);
        bad += !(u <= (std::string(op.name) == "erf" ? 8.0 : 3.0));
      }
      EXPECT_EQ(bad, 0) << op.name << " n=" << n << " worst " << worst << " ulp";
    }
}

// f32 binary kernels: same-shape, scalar-broadcast (stride 0) and row-broadcast runs at
// every length; results must be the correctly rounded f32 operation.
TEST(OpsEdge, BinaryF32AllLengths) {
  struct B {
    const char* name;
    Var (*fx)(Var, Var);
    float (*ref)(float, float);
  };
  const B ops[] = {{"add", add, [](float a, float b) { return a + b; }},
                   {"sub", sub, [](float a, float b) { return a - b; }},
                   {"mul", mul, [](float a, float b) { return a * b; }},
                   {"div", div, [](float a, float b) { return a / b; }},
                   {"maximum", maximum, [](float a, float b) { return std::max(a, b); }},
                   {"minimum", minimum, [](float a, float b) { return std::min(a, b); }},
                   {"pow", pow, [](float a, float b) { return std::pow(a, b); }}};
  uint64_t seed = 70;
  for (const B& op : ops)
    for (int64_t n : kLengths) {
      Tensor av = random_tensor({3, n}, seed++, DType::f32, 0.5, 2);
      Tensor bv = random_tensor({3, n}, seed++, DType::f32, 0.5, 2);
      Tensor sv = random_tensor({}, seed++, DType::f32, 0.5, 2);
      Tensor cv = random_tensor({3, 1}, seed++, DType::f32, 0.5, 2);
      Graph g;
      Var a = g.input("a", {3, n}, DType::f32), b = g.input("b", {3, n}, DType::f32);
      Var s = g.input("s", {}, DType::f32), c = g.input("c", {3, 1}, DType::f32);
      auto r = evaluate({op.fx(a, b), op.fx(a, s), op.fx(s, b), op.fx(c, a)},
                        {{"a", av}, {"b", bv}, {"s", sv}, {"c", cv}});
      std::vector<float> A = av.to_f32_vector(), Bv = bv.to_f32_vector(), C = cv.to_f32_vector();
      float S = sv.to_f32_vector()[0];
      std::vector<float> r0 = r[0].to_f32_vector(), r1 = r[1].to_f32_vector(),
                         r2 = r[2].to_f32_vector(), r3 = r[3].to_f32_vector();
      int bad = 0;
      for (int64_t i = 0; i < 3 * n; ++i) {
        bad += r0[i] != op.ref(A[i], Bv[i]);
        bad += r1[i] != op.ref(A[i], S);
        bad += r2[i] != op.ref(S, Bv[i]);
        bad += r3[i] != op.ref(C[i / n], A[i]);
      }
      EXPECT_EQ(bad, 0) << op.name << " n=" << n;
    }
}

// f32 reductions and where at every length.
TEST(OpsEdge, ReduceAndWhereF32AllLengths) {
  uint64_t seed = 90;
  for (int64_t n : kLengths) {
    Tensor xv = random_tensor({2, n}, seed++, DType::f32);
    Graph g;
    Var x = g.input("x", {2, n}, DType::f32);
    auto r = evaluate({sum(x, {1}), max(x, {1}), sum(x, {0}), where(gt(x, zeros_like(x)), x, -x)},
                      {{"x", xv}});
    std::vector<double> xs = xv.to_vector();
    for (int row = 0; row < 2; ++row) {
      double s = 0, m = -1e300;
      for (int64_t i = 0; i < n; ++i) {
        s += xs[row * n + i];
        m = std::max(m, xs[row * n + i]);
      }
      EXPECT_NEAR(r[0].at(row), s, 1e-6 * (1 + std::fabs(s))) << n;
      EXPECT_EQ(r[1].at(row), m) << n;
    }
    std::vector<double> s0 = r[2].to_vector(), w = r[3].to_vector();
    for (int64_t i = 0; i < n; ++i) {
      EXPECT_EQ(s0[i], (double)((float)xs[i] + (float)xs[n + i])) << n;
      EXPECT_EQ(w[i], std::fabs(xs[i])) << n;
    }
  }
}

// ---- bf16 / f16 ----

// Elementwise ops and dot with half-precision inputs: the result equals the f32 result
// on the same (already rounded) inputs, rounded to the half format, within kHalfTol.
TEST(OpsEdge, HalfPrecisionMatchesRoundedF32) {
  std::vector<std::pair<std::string, std::function<Var(Var, Var)>>> ops = {
      {"add", [](Var a, Var b) { return a + b; }},
      {"mul", [](Var a, Var b) { return a * b; }},
      {"div", [](Var a, Var b) { return a / b; }},
      {"exp", [](Var a, Var) { return exp(a); }},
      {"tanh", [](Var a, Var) { return tanh(a); }},
      {"sigmoid", [](Var a, Var) { return sigmoid(a); }},
      {"silu", [](Var a, Var) { return silu(a); }},
      {"maximum", [](Var a, Var b) { return maximum(a, b); }},
      {"sum", [](Var a, Var) { return sum(a, {1}); }},
      {"softmax", [](Var a, Var) { return softmax(a); }},
      {"dot", [](Var a, Var b) { return dot(a, b, false, true); }},
      {"dot_batched_shared", [](Var a, Var b) {
         return dot(reshape(a, {2, 3, 40}), b, false, true);
       }}};
  uint64_t seed = 120;
  for (DType h : {DType::bf16, DType::f16})
    for (const auto& [name, op] : ops) {
      // Inputs rounded to the half format once; the f32 reference sees the same values.
      Tensor ah = random_tensor({6, 40}, seed++, DType::f32, 0.5, 2).to(h);
      Tensor bh = random_tensor({6, 40}, seed++, DType::f32, 0.5, 2).to(h);
      Graph g;
      Var a = g.input("a", {6, 40}, h), b = g.input("b", {6, 40}, h);
      Var a32 = g.input("a32", {6, 40}, DType::f32), b32 = g.input("b32", {6, 40}, DType::f32);
      auto r =
          evaluate({op(a, b), op(a32, b32)},
                   {{"a", ah}, {"b", bh}, {"a32", ah.to(DType::f32)}, {"b32", bh.to(DType::f32)}});
      EXPECT_EQ(r[0].dtype(), h) << name;
      Tensor want = r[1].to(h);
      EXPECT_TRUE(all_close(r[0], want, kHalfTol)) << name << " in " << dtype_name(h);
    }
}

}  // namespace
}  // namespace fx::optest::ops_edge
