// Reductions and layout ops against PyTorch (tests/fixtures/ops_reduce_layout.json):
// reduce sum/max over one and several axes with and without keepdims, broadcast_to,
// reshape, permute, transpose, slice (with steps), pad (with interior padding), concat.
#include "op_test_util.h"

// A namespace per file: the unity build (FLUXION_UNITY) compiles several test files as one.
namespace fx::optest::ops_reduce_layout {
namespace {

const char* kFile = "ops_reduce_layout.json";

CaseDef on_x(std::function<Var(Var)> fn) {
  return {[fn](const Args& a) { return fn(a["x"]); }};
}

const CaseTable& table() {
  static const CaseTable t = [] {
    CaseTable t;
    t["sum_all"] = on_x([](Var x) { return sum(x); });
    t["sum_axis1"] = on_x([](Var x) { return sum(x, {1}); });
    t["sum_axes02"] = on_x([](Var x) { return sum(x, {2, 0}); });  // order does not matter
    t["sum_axes02_keepdims"] = on_x([](Var x) { return sum(x, {0, 2}, true); });
    t["sum_neg1_keepdims"] = on_x([](Var x) { return sum(x, {-1}, true); });
    t["sum_all_keepdims"] = on_x([](Var x) { return sum(x, {}, true); });
    t["max_all"] = on_x([](Var x) { return max(x); });
    t["max_axis1"] = on_x([](Var x) { return max(x, {1}); });
    t["max_axes02_keepdims"] = on_x([](Var x) { return max(x, {0, -1}, true); });
    t["max_neg1"] = on_x([](Var x) { return max(x, {-1}); });
    t["max_ties"] = on_x([](Var x) { return max(x, {1}); });

    for (const char* name : {"broadcast_to_col", "broadcast_to_row", "broadcast_to_mid"})
      t[name] = on_x([](Var x) { return broadcast_to(x, {2, 3, 4}); });
    t["broadcast_to_scalar"] = on_x([](Var x) { return broadcast_to(x, {2, 3}); });
    t["reshape"] = on_x([](Var x) { return reshape(x, {6, 4}); });
    t["reshape_infer"] = on_x([](Var x) { return reshape(x, {4, -1}); });
    t["reshape_rank1"] = on_x([](Var x) { return reshape(x, {-1}); });
    t["permute"] = on_x([](Var x) { return permute(x, {2, 0, 1}); });
    t["permute_2d"] = on_x([](Var x) { return permute(x, {-1, 0}); });
    t["transpose"] = on_x([](Var x) { return transpose(x); });
    t["slice"] = on_x([](Var x) { return slice(x, {0, 1, 1}, {2, 3, 4}); });
    t["slice_steps"] = on_x([](Var x) { return slice(x, {0, 0, 1}, {2, 3, 4}, {1, 2, 2}); });
    t["slice_step3"] = on_x([](Var x) { return slice(x, {0, 2}, {2, 7}, {1, 3}); });
    t["slice_axis"] = on_x([](Var x) { return slice_axis(x, -1, 1, 4, 2); });
    t["pad"] = on_x([](Var x) { return pad(x, {1, 0}, {0, 2}); });
    t["pad_interior"] = on_x([](Var x) { return pad(x, {1, 0}, {0, 2}, {1, 2}, -1.5); });
    t["pad_interior_3d"] = on_x([](Var x) {
      return pad(x, {0, 1, 0}, {1, 0, 2}, {0, 1, 1}, 0.25);
    });
    t["concat_axis1"] = {[](const Args& a) { return concat({a["a"], a["b"], a["c"]}, 1); }};
    t["concat_axis0"] = {[](const Args& a) { return concat({a["a"], a["b"]}, 0); }};
    t["concat_neg1"] = {[](const Args& a) { return concat({a["a"], a["b"]}, -1); }};
    return t;
  }();
  return t;
}

FX_OP_FIXTURE_TESTS(OpsReduceLayout, kFile, table)

// Integer reductions and layout ops on non-float dtypes (no fixture needed).
TEST(OpsReduceLayout, IntegerAndBoolDtypes) {
  Graph g;
  Var n = g.input("n", {2, 3}, DType::i32);
  Var m = g.input("m", {2, 3}, DType::boolean);
  Feeds f = {{"n", make({1, -2, 3, 4, 5, -6}, {2, 3}, DType::i32)},
             {"m", make({1, 0, 0, 1, 1, 0}, {2, 3}, DType::boolean)}};
  auto r = evaluate({sum(n, {1}), max(n, {0}), transpose(n), slice(m, {0, 1}, {2, 3}),
                     concat({m, m}, 0), pad(n, {0, 1}, {0, 0}, {}, 9.0)},
                    f);
  EXPECT_EQ(r[0].dtype(), DType::i32);
  EXPECT_EQ(r[0].to_vector(), (std::vector<double>{2, 3}));
  EXPECT_EQ(r[1].to_vector(), (std::vector<double>{4, 5, 3}));
  EXPECT_EQ(r[2].to_vector(), (std::vector<double>{1, 4, -2, 5, 3, -6}));
  EXPECT_EQ(r[3].dtype(), DType::boolean);
  EXPECT_EQ(r[3].to_vector(), (std::vector<double>{0, 0, 1, 0}));
  EXPECT_EQ(r[4].shape(), (Shape{4, 3}));
  EXPECT_EQ(r[5].to_vector(), (std::vector<double>{9, 1, -2, 3, 9, 4, 5, -6}));
}

// The f32 sum accumulates in f64: adding 1 to 2^24 a million times is not lost.
TEST(OpsReduceLayout, F32SumAccumulatesInDouble) {
  Graph g;
  int64_t n = 1 << 20;
  std::vector<float> v(n + 1, 1.0f);
  v[0] = 16777216.0f;  // 2^24: f32 accumulation would stay there
  Var x = g.input("x", {n + 1}, DType::f32);
  Tensor r = evaluate(sum(x), {{"x", Tensor::from_f32(v, {n + 1})}});
  EXPECT_EQ(r.item(), 16777216.0 + n);
}

// Reductions whose reduced axes are spread over a big tensor (parallel split, the
// [outer, r, inner] path with inner > 1) agree with a straightforward double loop.
TEST(OpsReduceLayout, LargeStridedReductionsMatchLoops) {
  const int64_t A = 37, B = 41, C = 53;
  Tensor xv = random_tensor({A, B, C}, 11, DType::f32, -2, 2);
  std::vector<double> x = xv.to_vector();
  Graph g;
  Var xi = g.input("x", {A, B, C}, DType::f32);
  auto r = evaluate({sum(xi, {1}), max(xi, {0, 2}), sum(xi, {0, 2}, true)}, {{"x", xv}});
  std::vector<double> s1(A * C, 0.0), m02(B, -1e300), s02(B, 0.0);
  for (int64_t a = 0; a < A; ++a)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t c = 0; c < C; ++c) {
        double v = x[(a * B + b) * C + c];
        s1[a * C + c] += v;
        m02[b] = std::max(m02[b], v);
        s02[b] += v;
      }
  EXPECT_TRUE(all_close(r[0].to_vector(), s1, {1e-6, 1e-6}));
  EXPECT_TRUE(all_close(r[1].to_vector(), m02, kExact));
  EXPECT_EQ(r[2].shape(), (Shape{1, B, 1}));
  EXPECT_TRUE(all_close(r[2].to_vector(), s02, {1e-6, 1e-6}));
}

// Layout ops on a big f32 tensor against index arithmetic (exercises the strided copy's
// parallel row split).
TEST(OpsReduceLayout, LargeLayoutOpsMatchIndexArithmetic) {
  const int64_t A = 19, B = 64, C = 33;
  Tensor xv = random_tensor({A, B, C}, 12, DType::f32);
  std::vector<double> x = xv.to_vector();
  auto at = [&](int64_t a, int64_t b, int64_t c) { return x[(a * B + b) * C + c]; };
  Graph g;
  Var xi = g.input("x", {A, B, C}, DType::f32);
  auto r = evaluate({permute(xi, {2, 0, 1}), slice(xi, {1, 3, 0}, {A, B, C}, {2, 5, 4}),
                     pad(xi, {0, 1, 2}, {1, 0, 0}, {0, 0, 1}, 7.0)},
                    {{"x", xv}});
  std::vector<double> p = r[0].to_vector(), s = r[1].to_vector(), q = r[2].to_vector();
  bool ok = true;
  for (int64_t c = 0; c < C && ok; ++c)
    for (int64_t a = 0; a < A && ok; ++a)
      for (int64_t b = 0; b < B && ok; ++b) ok = p[(c * A + a) * B + b] == at(a, b, c);
  EXPECT_TRUE(ok) << "permute";
  Shape ss = r[1].shape();
  ASSERT_EQ(ss, (Shape{9, 13, 9}));
  for (int64_t i = 0; i < ss[0] && ok; ++i)
    for (int64_t j = 0; j < ss[1] && ok; ++j)
      for (int64_t k = 0; k < ss[2] && ok; ++k)
        ok = s[(i * ss[1] + j) * ss[2] + k] == at(1 + 2 * i, 3 + 5 * j, 4 * k);
  EXPECT_TRUE(ok) << "slice";
  Shape ps = r[2].shape();
  ASSERT_EQ(ps, (Shape{A + 1, B + 1, 2 + 2 * C - 1}));
  for (int64_t i = 0; i < ps[0] && ok; ++i)
    for (int64_t j = 0; j < ps[1] && ok; ++j)
      for (int64_t k = 0; k < ps[2] && ok; ++k) {
        int64_t kk = k - 2;
        bool inside = i < A && j >= 1 && kk >= 0 && kk % 2 == 0;
        double want = inside ? at(i, j - 1, kk / 2) : 7.0;
        ok = q[(i * ps[1] + j) * ps[2] + k] == want;
      }
  EXPECT_TRUE(ok) << "pad";
}

// Every other value scaled by 2^40: the big ones cancel, and what is left of the small ones
// depends on which sums rounded in f64, so the order of the adds shows in the result.
Tensor wide_range(Tensor t) {
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); i += 2) p[i] = std::ldexp(std::round(p[i]), 40);
  return t;
}

// Sums along short rows (8 rows side by side in the kernel) and over an axis with a short
// inner run keep the order of the one-row loops: 4 partial sums j mod 4 for rows (16,
// j mod 16, from 64 values on; cpu::kWideRowSum), one
// running sum for the middle axis, so the results are exact against those loops.
TEST(OpsReduceLayout, ShortRowAndShortInnerSumsKeepTheirOrder) {
  for (int64_t r : {1, 2, 3, 5, 7, 14, 16, 17, 28, 32, 33, 63, 64, 65, 3136}) {
    const int64_t rows = 1037;  // not a multiple of 8: the tail runs one row at a time
    Tensor xv = wide_range(random_tensor({rows, r}, 20 + r, DType::f32, -3, 3));
    std::vector<float> x(xv.data<float>(), xv.data<float>() + rows * r);
    Graph g;
    Var xi = g.input("x", {rows, r}, DType::f32);
    Tensor got = evaluate(sum(xi, {1}), {{"x", xv}});
    bool ok = true;
    for (int64_t o = 0; o < rows && ok; ++o) {
      double a[16] = {};
      const int lanes = r >= 64 ? 16 : 4;  // kWideRowSum
      const int64_t full = r >= 64 ? r : r - r % 4;
      for (int64_t j = 0; j < r; ++j) a[j < full ? j % lanes : 0] += x[o * r + j];
      if (lanes == 4) {
        a[0] = (a[0] + a[1]) + (a[2] + a[3]);
      } else {
        for (int w = 8; w >= 1; w /= 2)
          for (int k = 0; k < w; ++k) a[k] = a[k] + a[k + w];
      }
      const float want = (float)a[0];  // bits, so +0 and -0 differ
      ok = std::memcmp(got.data<float>() + o, &want, sizeof want) == 0;
    }
    EXPECT_TRUE(ok) << "rows of " << r;
  }
  // Rows of 2 (the f32 path): signed zeros, a tie to even, overflow, subnormals.
  const std::vector<float> pairs = {-0.0f, -0.0f, -0.0f,  0.0f,    0.0f, -0.0f,    1.0f,   -1.0f,
                                    3e38f, 3e38f, 1e-45f, -1e-45f, 1.0f, 0x1p-24f, 1e-45f, 1e-45f};
  Graph gp;
  Var xp = gp.input("x", {(int64_t)pairs.size() / 2, 2}, DType::f32);
  Tensor pv = Tensor::from(std::vector<double>(pairs.begin(), pairs.end()),
                           {(int64_t)pairs.size() / 2, 2}, DType::f32);
  Tensor pg = evaluate(sum(xp, {1}), {{"x", pv}});
  for (size_t o = 0; o < pairs.size() / 2; ++o) {
    const double a0 = (0.0 + pairs[2 * o]) + pairs[2 * o + 1];  // sum_row4: both in lane 0
    const float want = (float)((a0 + 0.0) + (0.0 + 0.0));
    EXPECT_EQ(std::memcmp(pg.data<float>() + o, &want, sizeof want), 0) << "pair " << o;
  }
  for (int64_t R : {2, 3})
    for (int64_t inner : {2, 14, 64, 100}) {
      const int64_t A = 301;
      Tensor xv = wide_range(random_tensor({A, R, inner}, 40 + inner, DType::f32, -3, 3));
      std::vector<float> x(xv.data<float>(), xv.data<float>() + A * R * inner);
      Graph g;
      Var xi = g.input("x", {A, R, inner}, DType::f32);
      auto got = evaluate({sum(xi, {1}), max(xi, {1})}, {{"x", xv}});
      bool ok = true;
      for (int64_t a = 0; a < A && ok; ++a)
        for (int64_t k = 0; k < inner && ok; ++k) {
          double s = x[a * R * inner + k];
          float m = x[a * R * inner + k];
          for (int64_t j = 1; j < R; ++j) {
            s += x[(a * R + j) * inner + k];
            m = std::max(m, x[(a * R + j) * inner + k]);
          }
          const float want = (float)s;
          ok = std::memcmp(got[0].data<float>() + a * inner + k, &want, sizeof want) == 0 &&
               got[1].data<float>()[a * inner + k] == m;
        }
      EXPECT_TRUE(ok) << "inner run of " << inner << " over " << R;
    }
}

// Nearest-neighbour upsampling as a broadcast (the copy's tiles with a repeated source
// element) and concat/slice of short rows against index arithmetic.
TEST(OpsReduceLayout, UpsampleBroadcastAndShortRowCopiesMatchIndexArithmetic) {
  const int64_t N = 5, C = 7, H = 9, W = 11;
  Tensor xv = random_tensor({N, C, H, 1, W, 1}, 13, DType::f32);
  std::vector<double> x = xv.to_vector();
  Graph g;
  Var xi = g.input("x", {N, C, H, 1, W, 1}, DType::f32);
  auto r = evaluate({broadcast_to(xi, {N, C, H, 2, W, 2}), broadcast_to(xi, {N, C, H, 3, W, 3}),
                     slice(reshape(xi, {N, C, H, W}), {0, 0, 1, 2}, {N, C, H, W - 1})},
                    {{"x", xv}});
  bool ok = true;
  for (int64_t f : {2, 3}) {
    std::vector<double> u = r[f - 2].to_vector();
    for (int64_t i = 0; i < N * C * H && ok; ++i)
      for (int64_t a = 0; a < f && ok; ++a)
        for (int64_t w = 0; w < W && ok; ++w)
          for (int64_t b = 0; b < f && ok; ++b)
            ok = u[((i * f + a) * W + w) * f + b] == x[i * W + w];
    EXPECT_TRUE(ok) << "upsample by " << f;
  }
  std::vector<double> s = r[2].to_vector();
  for (int64_t i = 0; i < N * C && ok; ++i)
    for (int64_t h = 1; h < H && ok; ++h)
      for (int64_t w = 2; w < W - 1 && ok; ++w)
        ok = s[(i * (H - 1) + h - 1) * (W - 3) + w - 2] == x[(i * H + h) * W + w];
  EXPECT_TRUE(ok) << "slice";
}

}  // namespace
}  // namespace fx::optest::ops_reduce_layout
