// Gradient checks beyond the per-case finite differences of the fixture suites:
// grad-of-grad (the first gradient, itself a graph, differentiated again) compared with
// central differences of the first gradient, for elementwise ops and dot; plus gradient
// plumbing (unused inputs, integer inputs, shared subexpressions).
#include "op_test_util.h"

// A namespace per file: the unity build (FLUXION_UNITY) compiles several test files as one.
namespace fx::optest::ops_grad {
namespace {

Builder unary(Var (*fn)(Var)) {
  return [fn](const Args& a) { return fn(a["x"]); };
}

// d/dx of sum(f(x) * c1), differentiated again: compared with finite differences of the
// first gradient (check_grad_fd applied to first_grad).
void check_second_order(const Builder& f, const std::vector<std::pair<std::string, Tensor>>& in,
                        const std::string& wrt, uint64_t seed) {
  SCOPED_TRACE("second derivative through d/d" + wrt);
  EXPECT_GT(check_grad_fd(first_grad(f, wrt, seed), in, seed + 1), 0);
}

TEST(OpsGrad, SecondOrderElementwise) {
  const std::pair<const char*, Var (*)(Var)> ops[] = {
      {"exp", exp}, {"tanh", tanh},     {"sigmoid", sigmoid},  {"silu", silu},
      {"log", log}, {"sin", sin},       {"sqrt", sqrt},        {"rsqrt", rsqrt},
      {"erf", erf}, {"square", square}, {"softplus", softplus}};
  uint64_t seed = 1000;
  for (const auto& [name, fn] : ops) {
    SCOPED_TRACE(name);
    Tensor x = random_tensor({3, 4}, seed++, DType::f64, 0.2, 2.0);  // log/sqrt need x > 0
    check_second_order(unary(fn), {{"x", x}}, "x", seed++);
  }
}

TEST(OpsGrad, SecondOrderBinary) {
  uint64_t seed = 2000;
  const std::pair<const char*, Var (*)(Var, Var)> ops[] = {
      {"mul", mul}, {"div", div}, {"pow", pow}, {"add", add}, {"sub", sub}};
  for (const auto& [name, fn] : ops) {
    SCOPED_TRACE(name);
    Builder f = [fn](const Args& a) { return fn(a["a"], a["b"]); };
    // Broadcasting operands: the second derivative goes through sum_to as well.
    std::vector<std::pair<std::string, Tensor>> in = {
        {"a", random_tensor({3, 4}, seed++, DType::f64, 0.5, 2.0)},
        {"b", random_tensor({4}, seed++, DType::f64, 0.5, 2.0)}};
    check_second_order(f, in, "a", seed++);
    check_second_order(f, in, "b", seed++);
  }
}

TEST(OpsGrad, SecondOrderDot) {
  uint64_t seed = 3000;
  struct P {
    Shape a, b;
    bool ta, tb;
  };
  const P cases[] = {{{3, 4}, {4, 5}, false, false},
                     {{4, 3}, {5, 4}, true, true},
                     {{2, 3, 4}, {2, 5, 4}, false, true},
                     {{2, 4, 3}, {4, 5}, true, false}};
  for (const P& p : cases) {
    SCOPED_TRACE(::testing::Message() << shape_str(p.a) << " x " << shape_str(p.b));
    // Make the first gradient nonlinear in the inputs, so that the second one is not
    // trivially a constant: f = tanh(dot(a, b)).
    Builder f = [p](const Args& a) { return tanh(dot(a["a"], a["b"], p.ta, p.tb)); };
    Builder lin = [p](const Args& a) { return dot(a["a"], a["b"], p.ta, p.tb); };
    std::vector<std::pair<std::string, Tensor>> in = {{"a", random_tensor(p.a, seed++)},
                                                      {"b", random_tensor(p.b, seed++)}};
    for (const char* w : {"a", "b"}) {
      check_second_order(lin, in, w, seed++);
      check_second_order(f, in, w, seed++);
    }
  }
}

TEST(OpsGrad, SecondOrderComposites) {
  uint64_t seed = 4000;
  std::vector<std::pair<std::string, Builder>> fs = {
      {"softmax", [](const Args& a) { return softmax(a["x"]); }},
      {"log_softmax", [](const Args& a) { return log_softmax(a["x"], 0); }},
      {"layer_norm", [](const Args& a) { return layer_norm(a["x"], std::nullopt, std::nullopt); }},
      {"gelu", [](const Args& a) { return gelu(a["x"]); }},
      {"gelu_tanh", [](const Args& a) { return gelu(a["x"], true); }},
      {"variance", [](const Args& a) { return variance(a["x"], {1}); }}};
  for (const auto& [name, f] : fs) {
    SCOPED_TRACE(name);
    check_second_order(f, {{"x", random_tensor({3, 4}, seed++, DType::f64, -2, 2)}}, "x", seed++);
  }
}

// Inputs the loss does not depend on get zeros; integer inputs get no gradient; a value
// used twice accumulates both contributions.
TEST(OpsGrad, Plumbing) {
  Graph g;
  Var x = g.input("x", {3}, DType::f64), unused = g.input("u", {2, 2}, DType::f64);
  Var n = g.input("n", {3}, DType::i64);
  Var y = x * x + x * cast(n, DType::f64);  // x used three times
  auto grads = grad(sum(y), {x, unused});
  Feeds f = {{"x", make({1, 2, 3}, {3})}, {"n", make({4, 5, 6}, {3}, DType::i64)}};
  auto r = evaluate(grads, f);
  EXPECT_EQ(r[0].to_vector(), (std::vector<double>{6, 9, 12}));  // 2x + n
  EXPECT_EQ(r[1].shape(), (Shape{2, 2}));
  EXPECT_EQ(r[1].to_vector(), (std::vector<double>(4, 0.0)));
}

// grad refuses a non-scalar or integer loss, naming the problem.
TEST(OpsGrad, RejectsBadLoss) {
  Graph g;
  Var x = g.input("x", {3}, DType::f64);
  EXPECT_THAT(error_of([&] { grad(x * 2.0, {x}); }), HasSubstr("single value"));
  Var n = g.input("n", {}, DType::i64);
  EXPECT_THAT(error_of([&] { grad(n, {x}); }), HasSubstr("floating"));
}

}  // namespace
}  // namespace fx::optest::ops_grad
