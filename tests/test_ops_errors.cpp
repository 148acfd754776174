// Errors: shape and dtype mismatches fail at trace time (when the node is appended) with
// an fx::Error naming the op and the shapes involved; bad indices fail at run time naming
// the index; and IEEE special values come out as in PyTorch.
#include "op_test_util.h"

namespace fx::optest {
namespace {

using ::testing::AllOf;

// Traces fn on a fresh graph and returns the fx::Error message ("" if none is thrown).
template <typename F>
std::string trace_error(F&& fn) {
  Graph g;
  return error_of([&] { fn(g); });
}

TEST(OpsErrors, BroadcastMismatchNamesOpAndShapes) {
  std::string m = trace_error([](Graph& g) { add(g.input("a", {2, 3}), g.input("b", {4})); });
  EXPECT_THAT(m, AllOf(HasSubstr("add"), HasSubstr("[2, 3]"), HasSubstr("[4]")));
  m = trace_error([](Graph& g) { g.input("a", {2, 3}) * g.input("b", {3, 2}); });
  EXPECT_THAT(m, AllOf(HasSubstr("mul"), HasSubstr("[2, 3]"), HasSubstr("[3, 2]")));
  m = trace_error([](Graph& g) { lt(g.input("a", {5}), g.input("b", {2, 4})); });
  EXPECT_THAT(m, AllOf(HasSubstr("lt"), HasSubstr("[5]"), HasSubstr("[2, 4]")));
  m = trace_error([](Graph& g) {
    where(g.input("c", {3}, DType::boolean), g.input("a", {2, 4}), g.input("b", {4}));
  });
  EXPECT_THAT(m, AllOf(HasSubstr("where"), HasSubstr("[3]"), HasSubstr("[2, 4]")));
  m = trace_error([](Graph& g) { broadcast_to(g.input("a", {3, 2}), {3, 4}); });
  EXPECT_THAT(m, AllOf(HasSubstr("broadcast_to"), HasSubstr("[3, 2]"), HasSubstr("[3, 4]")));
}

TEST(OpsErrors, DotMismatchNamesShapes) {
  std::string m = trace_error([](Graph& g) { dot(g.input("a", {2, 3}), g.input("b", {4, 5})); });
  EXPECT_THAT(m, AllOf(HasSubstr("dot"), HasSubstr("[2, 3]"), HasSubstr("[4, 5]")));
  m = trace_error([](Graph& g) {
    dot(g.input("a", {2, 3, 4}), g.input("b", {3, 4, 5}));
  });  // batch
  EXPECT_THAT(m, AllOf(HasSubstr("dot"), HasSubstr("[2, 3, 4]"), HasSubstr("[3, 4, 5]")));
  m = trace_error([](Graph& g) { dot(g.input("a", {3}), g.input("b", {3, 2})); });  // rank 1
  EXPECT_THAT(m, AllOf(HasSubstr("dot"), HasSubstr("[3]"), HasSubstr("[3, 2]")));
  m = trace_error([](Graph& g) { dot(g.input("a", {2, 3}), g.input("b", {2, 3}), false, false); });
  EXPECT_THAT(m, HasSubstr("do not contract"));
  m = trace_error([](Graph& g) {
    dot(g.input("a", {2, 3}, DType::i32), g.input("b", {3, 2}, DType::i32));
  });
  EXPECT_THAT(m, AllOf(HasSubstr("dot"), HasSubstr("i32")));
  // A 2-D A with a batched B is not supported (only B may be shared).
  m = trace_error([](Graph& g) { dot(g.input("a", {2, 3}), g.input("b", {4, 3, 2})); });
  EXPECT_THAT(m, AllOf(HasSubstr("dot"), HasSubstr("[2, 3]"), HasSubstr("[4, 3, 2]")));
}

TEST(OpsErrors, DtypeMismatchNamesOpDtypesAndShapes) {
  std::string m = trace_error([](Graph& g) {
    g.input("a", {2, 3}, DType::f32) + g.input("b", {2, 3}, DType::f64);
  });
  EXPECT_THAT(m, AllOf(HasSubstr("add"), HasSubstr("f32"), HasSubstr("f64"), HasSubstr("[2, 3]")));
  m = trace_error([](Graph& g) {
    dot(g.input("a", {2, 3}, DType::f32), g.input("b", {3, 4}, DType::bf16));
  });
  EXPECT_THAT(m, AllOf(HasSubstr("dot"), HasSubstr("f32"), HasSubstr("bf16"), HasSubstr("[2, 3]"),
                       HasSubstr("[3, 4]")));
  m = trace_error([](Graph& g) {
    eq(g.input("a", {2}, DType::i32), g.input("b", {3, 2}, DType::i64));
  });
  EXPECT_THAT(m, AllOf(HasSubstr("eq"), HasSubstr("i32"), HasSubstr("i64"), HasSubstr("[2]"),
                       HasSubstr("[3, 2]")));
  m = trace_error([](Graph& g) {
    where(g.input("c", {2}, DType::boolean), g.input("a", {2}, DType::f32),
          g.input("b", {1}, DType::f64));
  });
  EXPECT_THAT(m, AllOf(HasSubstr("where"), HasSubstr("f32[2]"), HasSubstr("f64[1]")));
  m = trace_error([](Graph& g) {
    concat({g.input("a", {2, 3}, DType::f32), g.input("b", {2, 1}, DType::f64)}, 1);
  });
  EXPECT_THAT(m, AllOf(HasSubstr("concat"), HasSubstr("f32[2, 3]"), HasSubstr("f64[2, 1]")));
  m = trace_error([](Graph& g) { exp(g.input("n", {3}, DType::i32)); });
  EXPECT_THAT(m, AllOf(HasSubstr("exp"), HasSubstr("i32"), HasSubstr("[3]")));
  m = trace_error(
      [](Graph& g) { pow(g.input("a", {2}, DType::i64), g.input("b", {2}, DType::i64)); });
  EXPECT_THAT(m, AllOf(HasSubstr("pow"), HasSubstr("i64")));
  m = trace_error([](Graph& g) {
    logical_and(g.input("a", {2}, DType::f32), g.input("b", {2}, DType::boolean));
  });
  EXPECT_THAT(m, AllOf(HasSubstr("logical_and"), HasSubstr("f32")));
  m = trace_error(
      [](Graph& g) { where(g.input("c", {2}, DType::f32), g.input("a", {2}), g.input("b", {2})); });
  EXPECT_THAT(m, AllOf(HasSubstr("where"), HasSubstr("bool")));
  m = trace_error([](Graph& g) { sum(g.input("m", {2}, DType::boolean)); });
  EXPECT_THAT(m, AllOf(HasSubstr("reduce_sum"), HasSubstr("bool")));
}

TEST(OpsErrors, LayoutAndReductionRules) {
  auto x = [](Graph& g) { return g.input("x", {2, 3}); };
  struct E {
    std::function<void(Graph&)> fn;
    std::vector<std::string> parts;
  };
  const std::vector<E> cases = {
      {[&](Graph& g) { reshape(x(g), {4}); }, {"reshape", "[2, 3]", "[4]"}},
      {[&](Graph& g) {
         reshape(x(g), {4, -1});
       },
       {"reshape", "[2, 3]", "[4, -1]"}},
      {[&](Graph& g) {
         reshape(x(g), {-1, -1});
       },
       {"reshape", "-1"}},
      {[&](Graph& g) {
         permute(x(g), {0, 0});
       },
       {"permute", "not a permutation"}},
      {[&](Graph& g) { permute(x(g), {0}); }, {"permute", "[2, 3]"}},
      {[&](Graph& g) {
         permute(x(g), {0, 2});
       },
       {"permute", "axis 2", "rank 2"}},
      {[&](Graph& g) { transpose(g.input("v", {3})); }, {"transpose", "[3]"}},
      {[&](Graph& g) {
         slice(x(g), {0, 0}, {3, 3});
       },
       {"slice", "axis 0", "[2, 3]"}},
      {[&](Graph& g) {
         slice(x(g), {0, 2}, {2, 1});
       },
       {"slice", "[2, 1)", "[2, 3]"}},
      {[&](Graph& g) {
         slice(x(g), {0, 0}, {2, 3}, {1, 0});
       },
       {"slice", "step 0"}},
      {[&](Graph& g) { slice(x(g), {0}, {2}); }, {"slice", "starts", "[2, 3]"}},
      {[&](Graph& g) {
         pad(x(g), {0, -1}, {0, 0});
       },
       {"pad", "negative", "axis 1"}},
      {[&](Graph& g) { pad(x(g), {0}, {0}); }, {"pad", "low", "[2, 3]"}},
      {[&](Graph& g) {
         concat({x(g), g.input("y", {3, 3})}, 1);
       },
       {"concat", "[2, 3]", "[3, 3]", "axis 1"}},
      {[&](Graph& g) {
         concat({x(g), g.input("y", {2})}, 0);
       },
       {"concat", "[2, 3]", "[2]"}},
      {[&](Graph& g) {
         concat({x(g), g.input("y", {2, 3})}, 2);
       },
       {"concat", "axis 2"}},
      {[&](Graph& g) { sum(x(g), {2}); }, {"reduce_sum", "axis 2", "rank 2"}},
      {[&](Graph& g) {
         sum(x(g), {1, -1});
       },
       {"reduce_sum", "repeated"}},
      {[&](Graph& g) {
         max(g.input("e", {0, 3}), {0});
       },
       {"reduce_max", "empty", "[0, 3]"}},
      {[&](Graph& g) { logsumexp(x(g), 5); }, {"axis 5"}},
      {[&](Graph& g) {
         sum_to(x(g), {1, 2, 3});
       },
       {"sum_to", "[2, 3]", "[1, 2, 3]"}},
  };
  for (const E& e : cases) {
    std::string m = trace_error(e.fn);
    EXPECT_FALSE(m.empty()) << "no error for expected " << e.parts[0] << " failure";
    for (const std::string& p : e.parts) EXPECT_THAT(m, HasSubstr(p));
  }
}

TEST(OpsErrors, IndexingAndCompositeRules) {
  struct E {
    std::function<void(Graph&)> fn;
    std::vector<std::string> parts;
  };
  const std::vector<E> cases = {
      {[](Graph& g) {
         gather(g.input("x", {4, 3}), g.input("i", {2}), 0);
       },
       {"gather", "indices", "f32"}},
      {[](Graph& g) {
         gather(g.input("x", {4, 3}), g.input("i", {2}, DType::i64), 2);
       },
       {"gather", "axis 2"}},
      {[](Graph& g) {
         scatter_add(g.input("x", {4, 3}), g.input("i", {2}, DType::i64), g.input("u", {3, 3}), 0);
       },
       {"scatter_add", "[3, 3]", "[2, 3]", "[4, 3]"}},
      {[](Graph& g) {
         scatter_add(g.input("x", {4, 3}), g.input("i", {2}, DType::i64),
                     g.input("u", {2, 3}, DType::f64), 0);
       },
       {"scatter_add", "f32", "f64"}},
      {[](Graph& g) { one_hot(g.input("l", {3}), 4); }, {"one_hot", "f32"}},
      {[](Graph& g) {
         cross_entropy(g.input("z", {4, 5}), g.input("l", {3}, DType::i64));
       },
       {"cross_entropy", "[4, 5]", "[3]"}},
      {[](Graph& g) {
         mse_loss(g.input("p", {4}), g.input("t", {4, 1}));
       },
       {"mse_loss", "[4]", "[4, 1]"}},
      {[](Graph& g) { random_uniform(g.input("k", {3}, DType::i64), {2}); },
       {"random_uniform", "i64[2]", "[3]"}},
      {[](Graph& g) { random_normal(g.input("k", {2}, DType::i64), {2}, DType::i32); },
       {"random_normal", "i32"}},
  };
  for (const E& e : cases) {
    std::string m = trace_error(e.fn);
    EXPECT_FALSE(m.empty()) << "no error for expected " << e.parts[0] << " failure";
    for (const std::string& p : e.parts) EXPECT_THAT(m, HasSubstr(p));
  }
}

TEST(OpsErrors, OperandsFromAnotherGraph) {
  Graph g1, g2;
  Var a = g1.input("a", {2}), b = g2.input("b", {2});
  EXPECT_THAT(error_of([&] { a + b; }), AllOf(HasSubstr("add"), HasSubstr("another graph")));
}

// Index checks happen when the graph runs: the message names the op, the bad index
// and the valid range.
TEST(OpsErrors, GatherIndexOutOfRangeAtRunTime) {
  Graph g;
  Var x = g.input("x", {3, 2}), i = g.input("i", {2}, DType::i64);
  Var y = gather(x, i, 0);  // traces fine: indices are data
  Feeds f = {{"x", Tensor::zeros({3, 2})}, {"i", make({1, 5}, {2}, DType::i64)}};
  EXPECT_THAT(error_of([&] { evaluate(y, f); }),
              AllOf(HasSubstr("gather"), HasSubstr("index 5"), HasSubstr("[0, 3)")));
  f["i"] = make({-1, 0}, {2}, DType::i64);
  EXPECT_THAT(error_of([&] { evaluate(y, f); }), AllOf(HasSubstr("gather"), HasSubstr("index -1")));
  Var z = scatter_add(x, i, g.input("u", {2, 2}), 0);
  f["i"] = make({0, 3}, {2}, DType::i64);
  f["u"] = Tensor::zeros({2, 2});
  EXPECT_THAT(error_of([&] { evaluate(z, f); }),
              AllOf(HasSubstr("scatter_add"), HasSubstr("index 3"), HasSubstr("[0, 3)")));
  Var w = one_hot(i, 3);  // out-of-range labels give an all-zero row, as no index is read
  EXPECT_EQ(evaluate(w, f).to_vector(), (std::vector<double>{1, 0, 0, 0, 0, 0}));
}

TEST(OpsErrors, FeedsAreChecked) {
  Graph g;
  Var x = g.input("x", {2, 3});
  EXPECT_THAT(error_of([&] { evaluate(x * 2.0, {}); }),
              AllOf(HasSubstr("missing input 'x'"), HasSubstr("[2, 3]")));
  EXPECT_THAT(error_of([&] {
                evaluate(x * 2.0, {{"x", Tensor::zeros({3, 2})}});
              }),
              AllOf(HasSubstr("'x'"), HasSubstr("[2, 3]"), HasSubstr("[3, 2]")));
  EXPECT_THAT(error_of([&] {
                evaluate(x * 2.0, {{"x", Tensor::zeros({2, 3}, DType::f64)}});
              }),
              AllOf(HasSubstr("'x'"), HasSubstr("f32"), HasSubstr("f64")));
}

// IEEE special values as PyTorch gives them, in f32 (vectorised fast paths) and f64.
TEST(OpsErrors, IeeeSpecialValuesAsPyTorch) {
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (DType d : {DType::f32, DType::f64, DType::bf16}) {
    SCOPED_TRACE(dtype_name(d));
    Graph g;
    Var a = g.input("a", {4}, d), b = g.input("b", {4}, d);
    Feeds f = {{"a", make({1, -1, 0, -1}, {4}, d)}, {"b", make({0, 0, 0, 0}, {4}, d)}};
    auto r = evaluate({a / b, log(a), log(b), sqrt(a), rsqrt(b), exp(a / b), pow(b, a),
                       sigmoid(a / b), tanh(a / b), maximum(a / b, b)},
                      f);
    EXPECT_TRUE(all_close(r[0].to_vector(), {inf, -inf, nan, -inf}, kExact)) << "a / 0";
    EXPECT_TRUE(all_close(r[1].to_vector(), {0, nan, -inf, nan}, kExact)) << "log";
    EXPECT_TRUE(all_close(r[2].to_vector(), {-inf, -inf, -inf, -inf}, kExact)) << "log(0)";
    EXPECT_TRUE(all_close(r[3].to_vector(), {1, nan, 0, nan}, kExact)) << "sqrt";
    EXPECT_TRUE(all_close(r[4].to_vector(), {inf, inf, inf, inf}, kExact)) << "rsqrt(0)";
    EXPECT_TRUE(all_close(r[5].to_vector(), {inf, 0, nan, 0}, kExact)) << "exp(+-inf)";
    EXPECT_TRUE(all_close(r[6].to_vector(), {0, inf, 1, inf}, kExact)) << "pow(0, a)";
    EXPECT_TRUE(all_close(r[7].to_vector(), {1, 0, nan, 0}, kExact)) << "sigmoid(+-inf)";
    EXPECT_TRUE(all_close(r[8].to_vector(), {1, -1, nan, -1}, kExact)) << "tanh(+-inf)";
    EXPECT_TRUE(all_close(r[9].to_vector(), {inf, 0, nan, 0}, kExact)) << "maximum";
  }
}

}  // namespace
}  // namespace fx::optest
