// Image ops against PyTorch (tests/fixtures/ops_image.json, make_image_fixtures.py):
// conv2d and its transposes, nearest up-sampling, average pooling, group norm and
// self-attention; finite-difference gradchecks (first and second order for conv);
// dropout's statistics and determinism; clear errors for bad shapes.
#include "op_test_util.h"

// A namespace per file: the unity build (FLUXION_UNITY) compiles several test files as one.
namespace fx::optest::ops_image {
namespace {

const char* kFile = "ops_image.json";

ConvParams conv(std::array<int64_t, 2> stride, std::array<int64_t, 2> pad,
                std::array<int64_t, 2> dil = {1, 1}, int64_t groups = 1) {
  ConvParams p;
  p.stride = stride;
  p.padding = pad;
  p.dilation = dil;
  p.groups = groups;
  return p;
}

CaseDef on_xw(ConvParams p) {
  return {[p](const Args& a) { return conv2d(a["x"], a["w"], p); }};
}

const CaseTable& table() {
  static const CaseTable t = [] {
    CaseTable t;
    t["conv2d_pad1"] = on_xw(conv({1, 1}, {1, 1}));
    t["conv2d_stride2"] = on_xw(conv({2, 2}, {1, 1}));
    t["conv2d_dilation2"] = on_xw(conv({1, 1}, {2, 2}, {2, 2}));
    t["conv2d_groups2"] = on_xw(conv({1, 1}, {1, 1}, {1, 1}, 2));
    t["conv2d_rect"] = on_xw(conv({1, 2}, {0, 1}));
    t["conv2d_1x1"] = on_xw(conv({1, 1}, {0, 0}));
    t["conv2d_backward_data"] = {[](const Args& a) {
      return conv2d_backward_data(a["g"], a["w"], {1, 2, 6, 6}, conv({2, 2}, {1, 1}));
    }};
    t["conv2d_backward_weights"] = {[](const Args& a) {
      return conv2d_backward_weights(a["x"], a["g"], {4, 1, 3, 3}, conv({1, 1}, {1, 1}, {1, 1}, 2));
    }};
    t["upsample_nearest2"] = {[](const Args& a) { return upsample_nearest(a["x"], 2); }};
    t["avg_pool2d_k2"] = {[](const Args& a) { return avg_pool2d(a["x"], 2); }};
    t["avg_pool2d_k3s1p1"] = {[](const Args& a) { return avg_pool2d(a["x"], 3, 1, 1); }};
    t["group_norm"] = {[](const Args& a) { return group_norm(a["x"], 2, a["w"], a["b"]); }};
    t["group_norm_plain"] = {
        [](const Args& a) { return group_norm(a["x"], 3, std::nullopt, std::nullopt); }};
    t["spatial_attention"] = {
        [](const Args& a) { return spatial_attention(a["q"], a["k"], a["v"], 1); }};
    t["spatial_attention_heads2"] = {
        [](const Args& a) { return spatial_attention(a["q"], a["k"], a["v"], 2); }};
    return t;
  }();
  return t;
}

// oneDNN sums up to 72 f32 products in its own order: f32 is checked a little looser than
// the elementwise suite (still ~100x tighter than any indexing or layout mistake).
constexpr Tol kConvF32Tol{1e-4, 1e-5};

class OpsImageTorch : public ::testing::TestWithParam<FixtureParam> {};
TEST_P(OpsImageTorch, Matches) {
  const auto& p = GetParam();
  run_fixture_case(kFile, p.name, table().at(p.name), p.ft,
                   p.ft == DType::f64 ? kF64Tol : kConvF32Tol);
}
INSTANTIATE_TEST_SUITE_P(OpsImage, OpsImageTorch,
                         ::testing::ValuesIn(fixture_params(table(), {DType::f64, DType::f32})),
                         param_name);

class OpsImageFd : public ::testing::TestWithParam<std::string> {};
TEST_P(OpsImageFd, MatchesFiniteDifferences) {
  EXPECT_GT(check_grad_fd(table().at(GetParam()).build, fd_inputs(kFile, GetParam()), 7), 0);
}
INSTANTIATE_TEST_SUITE_P(OpsImage, OpsImageFd, ::testing::ValuesIn(case_names(table())), case_name);

TEST(OpsImageCoverage, TableMatchesFixture) { expect_table_matches_fixture(kFile, table()); }

// Second order: the gradient of conv2d (which is made of backward_data/backward_weights)
// differentiated again, against differences of the first gradient.
TEST(OpsImage, ConvGradOfGradMatchesFiniteDifferences) {
  Builder f = table().at("conv2d_stride2").build;
  auto in = fd_inputs(kFile, "conv2d_stride2");
  EXPECT_GT(check_grad_fd(first_grad(f, "x", 3), in, 11), 0);
  EXPECT_GT(check_grad_fd(first_grad(f, "w", 5), in, 13), 0);
  Builder grp = table().at("conv2d_groups2").build;
  EXPECT_GT(check_grad_fd(first_grad(grp, "w", 5), fd_inputs(kFile, "conv2d_groups2"), 17), 0);
}

// bf16 convolutions (oneDNN's bf16 primitives on CPUs with AVX512_BF16, else f32 compute
// rounded once): forward and both gradients within bf16 rounding of the f32 results.
TEST(OpsImage, ConvBf16RoundsTheF32Result) {
  auto in = fd_inputs(kFile, "conv2d_pad1");
  Feeds f32, b16;
  for (auto& [k, v] : in) {
    f32[k] = v.to(DType::f32);
    b16[k] = v.to(DType::bf16);
  }
  auto run = [](DType d, const Feeds& feeds) {
    Graph g;
    Var x = g.input("x", {2, 3, 5, 5}, d), w = g.input("w", {4, 3, 3, 3}, d);
    Var y = conv2d(x, w, conv({1, 1}, {1, 1}));
    Var cot = g.constant(Tensor::full({2, 4, 5, 5}, 0.75, d));
    std::vector<Var> gs = grad(sum(cast(y * cot, DType::f32)), {x, w});
    return Interpreter(g, {y, gs[0], gs[1]}).run(feeds);
  };
  std::vector<Tensor> ref = run(DType::f32, f32), got = run(DType::bf16, b16);
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].dtype(), DType::bf16) << i;
    EXPECT_TRUE(all_close(got[i].to(DType::f64), ref[i].to(DType::f64), {3e-2, 3e-2})) << i;
  }
}

// conv2d and its gradients in f32 against the f64 reference loops: the largest error of each
// output (y, dx, dw) below rel times its largest value. Seeds: x, w, the cotangent.
void expect_f32_conv_near_f64(const Shape& xs, const Shape& ws, const ConvParams& p, double rel,
                              std::array<uint64_t, 3> seeds) {
  Feeds f64s, f32s;
  f64s["x"] = random_tensor(xs, seeds[0]);
  f64s["w"] = random_tensor(ws, seeds[1]);
  for (auto& [k, v] : f64s) f32s[k] = v.to(DType::f32);
  auto run = [&](DType d, const Feeds& feeds) {
    Graph g;
    Var x = g.input("x", xs, d), w = g.input("w", ws, d);
    Var y = conv2d(x, w, p);
    Var cot = g.constant(random_tensor(y.shape(), seeds[2], d));
    std::vector<Var> gs = grad(sum(y * cot), {x, w});
    return Interpreter(g, {y, gs[0], gs[1]}).run(feeds);
  };
  std::vector<Tensor> want = run(DType::f64, f64s), got = run(DType::f32, f32s);
  for (size_t i = 0; i < got.size(); ++i) {
    std::vector<double> a = got[i].to_vector(), b = want[i].to_vector();
    double worst = 0, scale = 0;
    for (size_t j = 0; j < a.size(); ++j) {
      worst = std::max(worst, std::fabs(a[j] - b[j]));
      scale = std::max(scale, std::fabs(b[j]));
    }
    EXPECT_LT(worst, rel * scale) << shape_str(xs) << " * " << shape_str(ws) << " output " << i;
  }
}

// oneDNN picks Winograd F(4x4, 3x3) for problems like this one on AVX-512
// (convolution_auto; ONEDNN_VERBOSE shows jit_wino_4x3 for the forward and backward-data
// passes on the Zen 5 of 2026-12-06), which rounds differently from a direct sum: measured
// max errors 1.2e-6 (forward) and 1.3e-6 (backward-data) of the largest value, against
// 5.3e-7 and 3.7e-7 direct. All three stay within 1e-5 of the f64 reference loops.
TEST(OpsImage, ConvWinogradStaysAccurate) {
  expect_f32_conv_near_f64({16, 32, 28, 28}, {32, 32, 3, 3}, conv({1, 1}, {1, 1}), 1e-5, {1, 2, 3});
}

// f32 convolutions with at most 4 output channels and stride 1 run fluxion's direct loops
// instead of oneDNN (conv_geometry.h): forward, backward-data and backward-weights stay
// within 1e-5 of the f64 reference loops over padding (up to the kernel's reach), dilation,
// rectangular kernels and widths that are not a multiple of the vector length.
TEST(OpsImage, ConvWithFewOutputsMatchesTheReferenceLoops) {
  struct Case {
    Shape x, w;
    ConvParams p;
  };
  const Case cases[] = {
      {{8, 32, 28, 28}, {1, 32, 3, 3}, conv({1, 1}, {1, 1})},
      {{3, 5, 13, 17}, {3, 5, 3, 2}, conv({1, 1}, {2, 0})},
      {{2, 4, 19, 23}, {2, 4, 3, 3}, conv({1, 1}, {2, 1}, {2, 2})},
      {{2, 3, 9, 40}, {4, 3, 1, 1}, conv({1, 1}, {0, 0})},
      {{2, 3, 11, 12}, {1, 3, 3, 3}, conv({2, 2}, {1, 1})},  // strided: oneDNN's
  };
  for (const Case& c : cases) expect_f32_conv_near_f64(c.x, c.w, c.p, 1e-5, {4, 5, 6});
}

TEST(OpsImage, DropoutIsSeededAndUnbiased) {
  Graph g;
  Var x = g.input("x", {100, 100}, DType::f64);
  Var key = g.input("key", {2}, DType::i64);
  Var y = dropout(x, 0.25, key);
  Feeds f{{"x", Tensor::full({100, 100}, 2.0, DType::f64)},
          {"key", Tensor::from({5, 9}, {2}, DType::i64)}};
  auto a = evaluate(y, f).to_vector(), b = evaluate(y, f).to_vector();
  EXPECT_EQ(a, b);
  int zeros = 0;
  for (double v : a) {
    if (v == 0)
      ++zeros;
    else
      EXPECT_DOUBLE_EQ(v, 2.0 / 0.75);
  }
  EXPECT_NEAR(zeros / 10000.0, 0.25, 0.02);
  f["key"] = Tensor::from({6, 9}, {2}, DType::i64);
  EXPECT_NE(evaluate(y, f).to_vector(), a);
  // The gradient is the same mask, scaled.
  auto gr = evaluate(grad(sum(y), {x}), f)[0].to_vector();
  auto val = evaluate(y, f).to_vector();
  for (size_t i = 0; i < gr.size(); ++i) EXPECT_DOUBLE_EQ(gr[i], val[i] / 2.0);
  EXPECT_THAT(error_of([&] { dropout(x, 1.0, key); }), HasSubstr("[0, 1)"));
}

TEST(OpsImage, BadShapesGiveClearErrors) {
  Graph g;
  Var x = g.input("x", {2, 3, 8, 8});
  EXPECT_THAT(error_of([&] {
                conv2d(x, g.input("w1", {4, 2, 3, 3}));
              }),
              HasSubstr("expects 2 input channels"));
  EXPECT_THAT(error_of([&] {
                conv2d(x, g.input("w2", {4, 3, 9, 9}));
              }),
              HasSubstr("larger than the padded input"));
  EXPECT_THAT(error_of([&] {
                conv2d(x, g.input("w3", {4, 1, 3, 3}), conv({1, 1}, {1, 1}, {1, 1}, 2));
              }),
              HasSubstr("divide into 2 groups"));
  EXPECT_THAT(error_of([&] {
                conv2d(g.input("v", {3, 8, 8}), g.input("w4", {4, 3, 3, 3}));
              }),
              HasSubstr("[N, C, H, W]"));
  EXPECT_THAT(error_of([&] {
                conv2d(x, g.input("w5", {4, 3, 3, 3}), conv({0, 1}, {1, 1}));
              }),
              HasSubstr("stride"));
  EXPECT_THAT(error_of([&] { group_norm(x, 2, std::nullopt, std::nullopt); }),
              HasSubstr("3 channels do not divide into 2 groups"));
  Var q = g.input("q", {2, 6, 5});
  EXPECT_THAT(error_of([&] { spatial_attention(q, q, q, 4); }), HasSubstr("4 heads"));
}

}  // namespace
}  // namespace fx::optest::ops_image
