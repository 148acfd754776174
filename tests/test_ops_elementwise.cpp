// Elementwise primitives against PyTorch (tests/fixtures/ops_elementwise.json): unary ops,
// binary ops with broadcasting ([3,4]x[3,4], [3,1]x[1,4], [2,3,4]x[4], scalar x tensor),
// comparisons, logical ops, where, cast and stop_gradient. Each case runs in f64 and f32
// and is gradient-checked against finite differences (see op_test_util.h).
#include "op_test_util.h"

// A namespace per file: the unity build (FLUXION_UNITY) compiles several test files as one.
namespace fx::optest::ops_elementwise {
namespace {

const char* kFile = "ops_elementwise.json";

CaseDef unary(Var (*fn)(Var)) {
  return {[fn](const Args& a) { return fn(a["x"]); }};
}
CaseDef binary(Var (*fn)(Var, Var)) {
  return {[fn](const Args& a) { return fn(a["a"], a["b"]); }};
}

const CaseTable& table() {
  static const CaseTable t = [] {
    CaseTable t;
    const std::pair<const char*, Var (*)(Var)> unaries[] = {
        {"neg", neg},     {"exp", exp},         {"log", log},
        {"sin", sin},     {"cos", cos},         {"tanh", tanh},
        {"sqrt", sqrt},   {"rsqrt", rsqrt},     {"abs", abs},
        {"sign", sign},   {"sigmoid", sigmoid}, {"erf", erf},
        {"floor", floor}, {"tanh_small", tanh}, {"sigmoid_wide", sigmoid}};
    for (const auto& [name, fn] : unaries) t[name] = unary(fn);

    const std::pair<const char*, Var (*)(Var, Var)> binaries[] = {
        {"add", add}, {"sub", sub},         {"mul", mul},        {"div", div},
        {"pow", pow}, {"maximum", maximum}, {"minimum", minimum}};
    for (const auto& [name, fn] : binaries) {
      for (const char* tag : {"same", "bcast", "rank", "scalar"})
        t[std::string(name) + "_" + tag] = binary(fn);
    }
    for (const char* name : {"sub", "div", "pow"})
      t[std::string(name) + "_tscalar"] = t[std::string(name) + "_same"];
    t["maximum_ties"] = binary(maximum);
    t["minimum_ties"] = binary(minimum);

    const std::pair<const char*, Var (*)(Var, Var)> compares[] = {
        {"lt", lt}, {"le", le}, {"gt", gt}, {"ge", ge}, {"eq", eq}, {"ne", ne}};
    for (const auto& [name, fn] : compares) {
      t[std::string(name) + "_bcast"] = binary(fn);
      t[std::string(name) + "_rank"] = binary(fn);
    }
    t["lt_scalar"] = binary(lt);
    t["eq_i64"] = binary(eq);
    t["ge_i32"] = binary(ge);
    t["logical_and"] = binary(logical_and);
    t["logical_or"] = binary(logical_or);
    t["logical_not"] = {[](const Args& a) { return logical_not(a["a"]); }};

    for (const char* name : {"where", "where_bcast", "where_rank"})
      t[name] = {[](const Args& a) { return where(a["c"], a["a"], a["b"]); }};

    // x / 3 rounded to f32 and back: in f64, central differences would see the f32 steps.
    t["cast_f32_roundtrip"] = {
        [](const Args& a) { return cast(cast(a["x"] / 3.0, DType::f32), a.ft); }, false};
    t["cast_i32"] = {[](const Args& a) { return cast(a["x"], DType::i32); }};
    t["cast_i64"] = {[](const Args& a) { return cast(a["x"], DType::i64); }};
    t["cast_bool"] = {[](const Args& a) { return cast(a["x"], DType::boolean); }};
    t["cast_from_i64"] = {[](const Args& a) { return cast(a["n"], a.ft) * a["x"]; }};
    t["cast_from_bool"] = {[](const Args& a) { return cast(a["m"], a.ft) * a["x"]; }};
    // Finite differences see x * x; the gradient of x * stop_gradient(x) is x by definition.
    t["stop_gradient"] = {[](const Args& a) { return a["x"] * stop_gradient(a["x"]); }, false};
    return t;
  }();
  return t;
}

FX_OP_FIXTURE_TESTS(OpsElementwise, kFile, table)

// The scalar operator overloads build the same graphs as the named ops.
TEST(OpsElementwise, ScalarOperators) {
  Graph g;
  Var x = g.input("x", {4}, DType::f64);
  Tensor xv = make({-1.5, 0.25, 2.0, 3.0}, {4});
  std::vector<Var> outs = {x + 2.0, x - 2.0, x * 2.0, x / 2.0, 2.0 + x, 2.0 - x, 2.0 * x,
                           2.0 / x, -x,      x + x,   x - x,   x * x,   x / x};
  std::vector<Tensor> r = evaluate(outs, {{"x", xv}});
  std::vector<std::vector<double>> want = {
      {0.5, 2.25, 4, 5},    {-3.5, -1.75, 0, 1}, {-3, 0.5, 4, 6}, {-0.75, 0.125, 1, 1.5},
      {0.5, 2.25, 4, 5},    {3.5, 1.75, 0, -1},  {-3, 0.5, 4, 6}, {-4.0 / 3, 8, 1, 2.0 / 3},
      {1.5, -0.25, -2, -3}, {-3, 0.5, 4, 6},     {0, 0, 0, 0},    {2.25, 0.0625, 4, 9},
      {1, 1, 1, 1}};
  for (size_t i = 0; i < outs.size(); ++i) {
    EXPECT_EQ(r[i].dtype(), DType::f64) << i;
    EXPECT_TRUE(all_close(r[i].to_vector(), want[i], kF64Tol)) << "operator case " << i;
  }
}

// Scalars adopt the dtype of the tensor they meet, so f32 graphs stay f32.
TEST(OpsElementwise, ScalarAdoptsTensorDtype) {
  Graph g;
  for (DType d : {DType::f32, DType::f64, DType::bf16, DType::i32}) {
    Var x = g.input(std::string("x") + std::string(dtype_name(d)), {2}, d);
    EXPECT_EQ((x * 2.0).dtype(), d);
    EXPECT_EQ((1.0 - x).dtype(), d);
    EXPECT_EQ(scalar_like(x, 3.0).dtype(), d);
  }
}

// Integer arithmetic (no fixture: PyTorch's integer division differs by design).
TEST(OpsElementwise, IntegerArithmetic) {
  Graph g;
  Var a = g.input("a", {5}, DType::i64), b = g.input("b", {5}, DType::i64);
  Feeds f = {{"a", make({7, -7, 3, 0, 5}, {5}, DType::i64)},
             {"b", make({2, 2, -4, 3, 0}, {5}, DType::i64)}};
  auto r = evaluate(
      {a + b, a - b, a * b, maximum(a, b), minimum(a, b), neg(a), abs(a), sign(a), div(a, b)}, f);
  EXPECT_EQ(r[0].to_vector(), (std::vector<double>{9, -5, -1, 3, 5}));
  EXPECT_EQ(r[1].to_vector(), (std::vector<double>{5, -9, 7, -3, 5}));
  EXPECT_EQ(r[2].to_vector(), (std::vector<double>{14, -14, -12, 0, 0}));
  EXPECT_EQ(r[3].to_vector(), (std::vector<double>{7, 2, 3, 3, 5}));
  EXPECT_EQ(r[4].to_vector(), (std::vector<double>{2, -7, -4, 0, 0}));
  EXPECT_EQ(r[5].to_vector(), (std::vector<double>{-7, 7, -3, 0, -5}));
  EXPECT_EQ(r[6].to_vector(), (std::vector<double>{7, 7, 3, 0, 5}));
  EXPECT_EQ(r[7].to_vector(), (std::vector<double>{1, -1, 1, 0, 1}));
  // C semantics (truncation); division by zero gives 0 instead of trapping.
  EXPECT_EQ(r[8].to_vector(), (std::vector<double>{3, -3, 0, 0, 0}));
  for (const Tensor& t : r) EXPECT_EQ(t.dtype(), DType::i64);
}

// NaN propagates through maximum/minimum, as torch.maximum/minimum do.
TEST(OpsElementwise, MaximumMinimumPropagateNan) {
  for (DType d : {DType::f64, DType::f32}) {
    Graph g;
    Var a = g.input("a", {3}, d), b = g.input("b", {3}, d);
    double nan = std::numeric_limits<double>::quiet_NaN();
    Feeds f = {{"a", make({nan, 1, 2}, {3}, d)}, {"b", make({0, nan, 1}, {3}, d)}};
    auto r = evaluate({maximum(a, b), minimum(a, b)}, f);
    EXPECT_TRUE(all_close(r[0].to_vector(), {nan, nan, 2}, kExact)) << dtype_name(d);
    EXPECT_TRUE(all_close(r[1].to_vector(), {nan, nan, 1}, kExact)) << dtype_name(d);
  }
}

}  // namespace
}  // namespace fx::optest::ops_elementwise
