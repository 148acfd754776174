// Composite ops (built from primitives, differentiated through them) against PyTorch
// (tests/fixtures/ops_composite.json): square relu silu gelu (erf and tanh forms)
// softplus mean variance logsumexp softmax log_softmax layer_norm linear mse_loss
// cross_entropy sum_to; plus the constructors iota/full/zeros_like/ones_like.
#include "op_test_util.h"

// A namespace per file: the unity build (FLUXION_UNITY) compiles several test files as one.
namespace fx::optest::ops_composite {
namespace {

const char* kFile = "ops_composite.json";

CaseDef on_x(std::function<Var(Var)> fn) {
  return {[fn](const Args& a) { return fn(a["x"]); }};
}

const CaseTable& table() {
  static const CaseTable t = [] {
    CaseTable t;
    t["square"] = on_x(square);
    t["relu"] = on_x(relu);
    t["silu"] = on_x(silu);
    t["gelu"] = on_x([](Var x) { return gelu(x); });
    t["gelu_tanh"] = on_x([](Var x) { return gelu(x, true); });
    t["softplus"] = on_x(softplus);
    t["softplus_wide"] = on_x(softplus);
    t["mean_all"] = on_x([](Var x) { return mean(x); });
    t["mean_axes02"] = on_x([](Var x) { return mean(x, {0, 2}); });
    t["mean_neg1_keepdims"] = on_x([](Var x) { return mean(x, {-1}, true); });
    t["variance_all"] = on_x([](Var x) { return variance(x); });
    t["variance_axis1"] = on_x([](Var x) { return variance(x, {1}); });
    t["variance_axes01_keepdims"] = on_x([](Var x) { return variance(x, {0, 1}, true); });
    t["logsumexp"] = on_x([](Var x) { return logsumexp(x); });
    t["logsumexp_axis0_keepdims"] = on_x([](Var x) { return logsumexp(x, 0, true); });
    t["logsumexp_large"] = on_x([](Var x) { return logsumexp(x, -1); });
    t["softmax"] = on_x([](Var x) { return softmax(x); });
    t["softmax_axis0"] = on_x([](Var x) { return softmax(x, 0); });
    t["log_softmax"] = on_x([](Var x) { return log_softmax(x); });
    t["log_softmax_axis1"] = on_x([](Var x) { return log_softmax(x, 1); });
    t["layer_norm"] = {[](const Args& a) { return layer_norm(a["x"], a["w"], a["b"]); }};
    t["layer_norm_plain"] = on_x([](Var x) { return layer_norm(x, std::nullopt, std::nullopt); });
    t["linear"] = {[](const Args& a) { return linear(a["x"], a["w"], a["b"]); }};
    t["linear_nobias"] = {[](const Args& a) { return linear(a["x"], a["w"], std::nullopt); }};
    t["linear_batched"] = {[](const Args& a) { return linear(a["x"], a["w"], a["b"]); }};
    t["mse_loss"] = {[](const Args& a) { return mse_loss(a["p"], a["t"]); }};
    t["cross_entropy"] = {[](const Args& a) { return cross_entropy(a["logits"], a["labels"]); }};
    t["sum_to_col"] = on_x([](Var x) { return sum_to(x, {3, 1}); });
    t["sum_to_row"] = on_x([](Var x) { return sum_to(x, {4}); });
    t["sum_to_keep"] = on_x([](Var x) { return sum_to(x, {2, 1, 4}); });
    t["sum_to_scalar"] = on_x([](Var x) { return sum_to(x, {}); });
    return t;
  }();
  return t;
}

FX_OP_FIXTURE_TESTS(OpsComposite, kFile, table)

TEST(OpsComposite, Constructors) {
  Graph g;
  Var x = g.input("x", {2, 3}, DType::f64);
  auto r = evaluate({iota(g, {2, 3}, 1), iota(g, {2, 3}, 0, DType::f32), full(g, {2, 2}, 2.5),
                     zeros_like(x), ones_like(x), scalar_like(x, -4.0)},
                    {{"x", Tensor::zeros({2, 3}, DType::f64)}});
  EXPECT_EQ(r[0].dtype(), DType::i64);
  EXPECT_EQ(r[0].to_vector(), (std::vector<double>{0, 1, 2, 0, 1, 2}));
  EXPECT_EQ(r[1].dtype(), DType::f32);
  EXPECT_EQ(r[1].to_vector(), (std::vector<double>{0, 0, 0, 1, 1, 1}));
  EXPECT_EQ(r[2].dtype(), DType::f32);
  EXPECT_EQ(r[2].to_vector(), (std::vector<double>(4, 2.5)));
  EXPECT_EQ(r[3].dtype(), DType::f64);
  EXPECT_EQ(r[3].to_vector(), (std::vector<double>(6, 0.0)));
  EXPECT_EQ(r[4].to_vector(), (std::vector<double>(6, 1.0)));
  EXPECT_EQ(r[5].shape(), Shape{});
  EXPECT_EQ(r[5].item(), -4.0);
}

// Softmax-type composites stay finite far outside exp's range (the max is subtracted).
TEST(OpsComposite, SoftmaxFamilyStableForHugeLogits) {
  for (DType d : {DType::f32, DType::f64}) {
    Graph g;
    Var x = g.input("x", {2, 3}, d);
    Feeds f = {{"x", make({1000, 999, -1e4, -1000, -1001, -1002}, {2, 3}, d)}};
    auto r = evaluate({softmax(x), log_softmax(x), logsumexp(x), softplus(x)}, f);
    for (const Tensor& t : r)
      for (double v : t.to_vector()) EXPECT_TRUE(std::isfinite(v)) << dtype_name(d);
    double s0 = std::exp(-1.0), s1 = std::exp(-2.0);
    std::vector<double> want = {1 / (1 + s0),      s0 / (1 + s0),      0,
                                1 / (1 + s0 + s1), s0 / (1 + s0 + s1), s1 / (1 + s0 + s1)};
    Tol tol = d == DType::f64 ? kF64Tol : kF32Tol;
    EXPECT_TRUE(all_close(r[0].to_vector(), want, tol));
    EXPECT_NEAR(r[2].at(0), 1000 + std::log1p(s0), d == DType::f64 ? 1e-12 : 1e-4);
  }
}

}  // namespace
}  // namespace fx::optest::ops_composite
