// dot (transpose flags, batches, a 2-D B shared by every batch), gather, scatter_add and
// one_hot against PyTorch (tests/fixtures/ops_dot_index.json), plus larger products
// against a double loop.
#include "op_test_util.h"

// A namespace per file: the unity build (FLUXION_UNITY) compiles several test files as one.
namespace fx::optest::ops_dot_index {
namespace {

const char* kFile = "ops_dot_index.json";

CaseDef dot_case(bool ta, bool tb) {
  return {[ta, tb](const Args& a) { return dot(a["a"], a["b"], ta, tb); }};
}

const CaseTable& table() {
  static const CaseTable t = [] {
    CaseTable t;
    for (const char* prefix : {"dot", "dot_batched", "dot_shared_b"}) {
      std::string p = prefix;
      t[p] = dot_case(false, false);
      t[p + "_ta"] = dot_case(true, false);
      t[p + "_tb"] = dot_case(false, true);
    }
    t["dot_ta_tb"] = dot_case(true, true);
    t["dot_shared_b_ta_tb"] = dot_case(true, true);
    t["dot_batched_rank4"] = dot_case(false, false);
    t["dot_shared_b_rank4"] = dot_case(false, false);
    t["matmul"] = {[](const Args& a) { return matmul(a["a"], a["b"]); }};

    t["gather_axis0"] = {[](const Args& a) { return gather(a["x"], a["i"], 0); }};
    t["gather_axis1_2d_idx"] = {[](const Args& a) { return gather(a["x"], a["i"], 1); }};
    t["gather_neg1_i32"] = {[](const Args& a) { return gather(a["x"], a["i"], -1); }};
    t["scatter_add_axis0"] = {[](const Args& a) { return scatter_add(a["x"], a["i"], a["u"], 0); }};
    t["scatter_add_axis1"] = {
        [](const Args& a) { return scatter_add(a["x"], a["i"], a["u"], -1); }};
    t["scatter_add_2d_idx_i32"] = {
        [](const Args& a) { return scatter_add(a["x"], a["i"], a["u"], 0); }};
    t["one_hot"] = {[](const Args& a) { return one_hot(a["l"], 5, a.ft); }};
    t["one_hot_2d"] = {[](const Args& a) { return one_hot(a["l"], 4, a.ft); }};
    t["one_hot_i32"] = {[](const Args& a) { return one_hot(a["l"], 3, a.ft); }};
    return t;
  }();
  return t;
}

FX_OP_FIXTURE_TESTS(OpsDotIndex, kFile, table)

// C[b] = op(A[b]) op(B[b]) by a double loop over f64 copies.
std::vector<double> reference_dot(const Tensor& A, const Tensor& B, bool ta, bool tb) {
  std::vector<double> a = A.to_vector(), b = B.to_vector();
  const Shape &as = A.shape(), &bs = B.shape();
  int ra = A.rank(), rb = B.rank();
  int64_t M = ta ? as[ra - 1] : as[ra - 2], K = ta ? as[ra - 2] : as[ra - 1];
  int64_t N = tb ? bs[rb - 2] : bs[rb - 1];
  int64_t batch = A.numel() / (M * K);
  bool shared = rb == 2;
  std::vector<double> c(batch * M * N, 0.0);
  for (int64_t q = 0; q < batch; ++q) {
    const double* pa = a.data() + q * M * K;
    const double* pb = b.data() + (shared ? 0 : q * K * N);
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j) {
        double s = 0;
        for (int64_t k = 0; k < K; ++k)
          s += (ta ? pa[k * M + i] : pa[i * K + k]) * (tb ? pb[j * K + k] : pb[k * N + j]);
        c[(q * M + i) * N + j] = s;
      }
  }
  return c;
}

// Shapes big and odd enough for oneDNN's blocked kernels and their edges, all flag
// combinations, batched and shared-B; f32 through oneDNN, f64 through the reference loop.
TEST(OpsDotIndex, LargerProductsMatchDoubleLoop) {
  struct P {
    Shape a, b;
    bool ta, tb;
  };
  const P cases[] = {{{37, 65}, {65, 19}, false, false},
                     {{65, 37}, {65, 19}, true, false},
                     {{37, 65}, {19, 65}, false, true},
                     {{65, 37}, {19, 65}, true, true},
                     {{3, 17, 33}, {3, 33, 9}, false, false},
                     {{3, 33, 17}, {3, 9, 33}, true, true},
                     {{4, 17, 33}, {33, 9}, false, false},
                     {{4, 33, 17}, {33, 9}, true, false},
                     {{2, 3, 17, 33}, {9, 33}, false, true},
                     {{1, 1}, {1, 1}, false, false},
                     {{1, 129}, {129, 1}, false, false},
                     {{129, 1}, {1, 129}, false, false},
                     // K <= 4: the small-K loop (every flag, and a shared B over a batch)
                     {{37, 2}, {2, 19}, false, false},
                     {{3, 37}, {3, 19}, true, false},
                     {{37, 4}, {19, 4}, false, true},
                     {{1, 37}, {19, 1}, true, true},
                     {{4, 17, 2}, {9, 2}, false, true},
                     {{4, 17, 3}, {3, 9}, false, false},
                     // weight gradients computed flipped, (B^T A)^T (kernels_matmul.cpp)
                     {{70, 40}, {70, 512}, true, false},
                     {{70, 256}, {70, 3}, true, false}};
  uint64_t seed = 100;
  for (const P& p : cases) {
    for (DType d : {DType::f32, DType::f64}) {
      Tensor A = random_tensor(p.a, seed++, d), B = random_tensor(p.b, seed++, d);
      Graph g;
      Var a = g.input("a", p.a, d), b = g.input("b", p.b, d);
      Tensor C = evaluate(dot(a, b, p.ta, p.tb), {{"a", A}, {"b", B}});
      Tol tol = d == DType::f64 ? Tol{1e-12, 1e-12} : Tol{1e-5, 1e-5};
      EXPECT_TRUE(all_close(C.to_vector(), reference_dot(A, B, p.ta, p.tb), tol))
          << dtype_name(d) << " " << shape_str(p.a) << (p.ta ? "T" : "") << " x " << shape_str(p.b)
          << (p.tb ? "T" : "");
    }
  }
}

// A weight gradient A^T B that runs flipped, as (B^T A)^T, agrees with the unflipped product
// (the same shapes as a batch of one, which never flips) to rounding, and on the LRU's
// B-projection shape bit for bit.
TEST(OpsDotIndex, FlippedWeightGradientAgreesWithTheUnflippedProduct) {
  const int64_t shapes[][3] = {
      {1024, 128, 512}, {300, 40, 1024}, {1024, 256, 3}, {513, 64, 8}, {32768, 128, 2}};
  uint64_t seed = 7;
  for (const auto& s : shapes) {
    const int64_t K = s[0], M = s[1], N = s[2];
    Tensor A = random_tensor({K, M}, seed++, DType::f32),
           B = random_tensor({K, N}, seed++, DType::f32);
    Graph g;
    Var a = g.input("a", {K, M}), b = g.input("b", {K, N});
    Var a3 = g.input("a3", {1, K, M}), b3 = g.input("b3", {1, K, N});
    Feeds f{{"a", A}, {"b", B}, {"a3", A.reshaped({1, K, M})}, {"b3", B.reshaped({1, K, N})}};
    std::vector<Tensor> out = evaluate({dot(a, b, true, false), dot(a3, b3, true, false)}, f);
    EXPECT_TRUE(all_close(out[0].to_vector(), out[1].to_vector(), Tol{1e-5, 1e-5}))
        << K << " x " << M << " x " << N;
    if (N == 512) EXPECT_EQ(out[0].to_vector(), out[1].to_vector());
  }
}

// Gradients of batched and shared-B products with every flag combination.
TEST(OpsDotIndex, DotGradientsAllFlagsFiniteDifferences) {
  uint64_t seed = 300;
  for (bool shared : {false, true})
    for (bool ta : {false, true})
      for (bool tb : {false, true}) {
        SCOPED_TRACE(::testing::Message() << "shared " << shared << " ta " << ta << " tb " << tb);
        Shape as = ta ? Shape{2, 4, 3} : Shape{2, 3, 4};
        Shape bs =
            shared ? (tb ? Shape{5, 4} : Shape{4, 5}) : (tb ? Shape{2, 5, 4} : Shape{2, 4, 5});
        check_grad_fd([ta, tb](const Args& a) { return dot(a["a"], a["b"], ta, tb); },
                      {{"a", random_tensor(as, seed++)}, {"b", random_tensor(bs, seed++)}}, seed++);
      }
}

// gather along the last axis with many indices, and scatter_add's fixed (reproducible)
// order of accumulation with duplicated indices.
TEST(OpsDotIndex, GatherScatterLarger) {
  const int64_t R = 300, C = 70;
  Tensor xv = random_tensor({R, C}, 21, DType::f32);
  std::vector<double> idx;
  for (int64_t i = 0; i < 500; ++i) idx.push_back((i * 37) % C);
  Graph g;
  Var x = g.input("x", {R, C}, DType::f32);
  Var i = g.input("i", {500}, DType::i64);
  Var u = g.input("u", {R, 500}, DType::f32);
  Tensor uv = random_tensor({R, 500}, 22, DType::f32);
  Feeds f = {{"x", xv}, {"i", make(idx, {500}, DType::i64)}, {"u", uv}};
  auto r = evaluate({gather(x, i, 1), scatter_add(x, i, u, 1)}, f);
  std::vector<double> xs = xv.to_vector(), us = uv.to_vector();
  std::vector<double> want_g(R * 500), want_s = xs;
  for (int64_t a = 0; a < R; ++a)
    for (int64_t j = 0; j < 500; ++j) {
      want_g[a * 500 + j] = xs[a * C + (int64_t)idx[j]];
      want_s[a * C + (int64_t)idx[j]] += us[a * 500 + j];
    }
  EXPECT_TRUE(all_close(r[0].to_vector(), want_g, kExact));
  EXPECT_TRUE(all_close(r[1].to_vector(), want_s, {1e-5, 1e-5}));
  Tensor again = evaluate(scatter_add(x, i, u, 1), f);
  EXPECT_EQ(std::memcmp(again.raw(), r[1].raw(), r[1].nbytes()), 0) << "not reproducible";
}

}  // namespace
}  // namespace fx::optest::ops_dot_index
