// nn/dcgan.h and MonoFlow on images: ConvTranspose2d follows torch.nn.ConvTranspose2d
// (y[i, j] = Σ x[h, w]·W[i + p − s·h, j + p − s·w]) and is the adjoint of conv2d with the same
// weight; the DCGAN pair maps z to 28×28 images in (−1, 1) and images to one logit; a MonoFlow
// GAN steps with these nets under both generator losses; and `fluxion train --method monoflow
// --data fashion-mnist` trains, samples a grid and reports FD-FMNIST/precision/recall.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "cli_test_util.h"
#include "fashion_mnist_test_util.h"
#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/exec/interpreter.h"
#include "fluxion/gen/monoflow.h"
#include "fluxion/nn/dcgan.h"

using namespace fx;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

Tensor run1(Graph& g, Var out, Feeds f) { return Interpreter(g, {out}).run(f)[0]; }

TEST(DcganNets, ConvTransposeFollowsTorchAndIsTheAdjointOfConv) {
  nn::InitRng rng(5);
  nn::ConvTranspose2d up(1, 1, 4, rng, 2, 1);
  auto params = up.named_parameters();
  Tensor w = params[0].second->value, b = params[1].second->value;
  ASSERT_EQ(params[0].first, "weight");
  ASSERT_EQ(w.shape(), (Shape{1, 1, 4, 4}));
  // One input pixel at (0, 0): y[i, j] = W[i + 1, j + 1] + b (and b where that is outside W).
  Graph g;
  up.bind(g);
  Var x = g.input("x", {1, 1, 2, 2});
  Var y = up(x);
  ASSERT_EQ(y.shape(), (Shape{1, 1, 4, 4}));
  Feeds f{{"weight", w}, {"bias", b}, {"x", Tensor::from({1, 0, 0, 0}, {1, 1, 2, 2})}};
  auto got = run1(g, y, f).to_f32_vector();
  auto wv = w.to_f32_vector();
  float bias = b.to_f32_vector()[0];
  for (int i = 0; i < 4; ++i)
    for (int j = 0; j < 4; ++j) {
      float want = bias + (i < 3 && j < 3 ? wv[(i + 1) * 4 + (j + 1)] : 0.0f);
      EXPECT_NEAR(got[i * 4 + j], want, 1e-6) << i << "," << j;
    }
  // <convT(u), v> = <u, conv(v)> for the same [in, out, k, k] weight (bias aside).
  nn::InitRng r2(9);
  nn::ConvTranspose2d t(3, 2, 4, r2, 2, 1);
  Tensor tw = t.named_parameters()[0].second->value;
  Graph h;
  Var u = h.input("u", {2, 3, 5, 5}), v = h.input("v", {2, 2, 10, 10}),
      wt = h.input("w", tw.shape());
  ConvParams p;
  p.stride = {2, 2};
  p.padding = {1, 1};
  Var lhs = sum(conv2d_backward_data(u, wt, {2, 2, 10, 10}, p) * v);
  Var rhs = sum(u * conv2d(v, wt, p));
  Tensor ut({2, 3, 5, 5}, DType::f32), vt({2, 2, 10, 10}, DType::f32);
  philox_normal(1, 0, ut.data<float>(), ut.numel());
  philox_normal(2, 0, vt.data<float>(), vt.numel());
  auto outs = Interpreter(h, {lhs, rhs}).run({{"u", ut}, {"v", vt}, {"w", tw}});
  EXPECT_NEAR(outs[0].to_f32_vector()[0], outs[1].to_f32_vector()[0], 1e-3);
}

TEST(DcganNets, GeneratorMakesImagesAndDiscriminatorOneLogit) {
  nn::InitRng rng(3);
  nn::DcganGenerator G(16, 8, rng);
  nn::DcganDiscriminator D(8, rng);
  // Each net in its own graph: both have an "fc.weight" (a GAN prefixes D's as "disc.").
  Graph g, h;
  G.bind(g);
  D.bind(h);
  Var z = g.input("z", {3, 16});
  Var img = G(z);
  Var x = h.input("x", {3, 1, 28, 28});
  Var logit = D(x);
  ASSERT_EQ(img.shape(), (Shape{3, 1, 28, 28}));
  ASSERT_EQ(logit.shape(), (Shape{3, 1}));
  Feeds f, fd;
  for (auto& [k, p] : G.named_parameters()) f[k] = p->value;
  for (auto& [k, p] : D.named_parameters()) fd[k] = p->value;
  Tensor zt({3, 16}, DType::f32);
  philox_normal(4, 0, zt.data<float>(), zt.numel());
  f["z"] = zt;
  Tensor images = run1(g, img, f);
  for (float v : images.to_f32_vector()) ASSERT_TRUE(std::fabs(v) < 1.0f);
  fd["x"] = images;
  for (float v : run1(h, logit, fd).to_f32_vector()) EXPECT_TRUE(std::isfinite(v));
  EXPECT_THROW([&] { nn::DcganGenerator bad(16, 12, rng); }(), fx::Error);
}

TEST(MonoFlowImages, DcganGanStepsWithBothGeneratorLosses) {
  for (bool pm : {false, true}) {
    SCOPED_TRACE(pm ? "particle matching" : "-h(D)");
    gen::MonoFlowConfig c;
    c.dim = 784;
    c.zdim = 8;
    c.sample_shape = {1, 28, 28};
    c.make_generator = [](nn::InitRng& r) { return std::make_shared<nn::DcganGenerator>(8, 8, r); };
    c.make_discriminator = [](nn::InitRng& r) {
      return std::make_shared<nn::DcganDiscriminator>(8, r);
    };
    c.h = gen::MonoH::arcsinh;
    c.particle_matching = pm;
    c.n_g = pm ? 2 : 1;
    c.batch = 4;
    gen::MonoFlowGAN gan(c, [](int64_t n, uint64_t s) {
      Tensor x({n, 1, 28, 28}, DType::f32);
      philox_uniform(s, 0, x.data<float>(), x.numel());
      for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = 2 * x.data<float>()[i] - 1;
      return x;
    });
    for (int it = 1; it <= 2; ++it) {
      auto l = gan.step(it);
      EXPECT_TRUE(std::isfinite(l.d) && std::isfinite(l.g));
    }
    EXPECT_EQ(gan.sample(5, 1).shape(), (Shape{5, 1, 28, 28}));
  }
}

TEST(MonoFlowImages, FashionMnistRunTrainsSamplesAndScores) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  fs::path dir = fs::temp_directory_path() / ("fx_monoflow_fmnist_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::string run = (dir / "run").string();
  auto t = run_cli(
      "train --method monoflow --data fashion-mnist --h arcsinh --steps 3 --batch 8 "
      "--ngf 8 --ndf 8 --log-every 1 --out " +
      run);
  ASSERT_EQ(t.code, 0) << t.output;
  EXPECT_TRUE(fs::exists(dir / "run/samples.png"));
  auto e = run_cli("eval monoflow --run " + run + " -n 200");
  ASSERT_EQ(e.code, 0) << e.output;
  for (const char* k : {"FD-FMNIST", "precision", "recall", "(floor"})
    EXPECT_THAT(e.output, HasSubstr(k));
  auto bad = run_cli("train --method monoflow --data fashion-mnist --ngf 12 --out " + run + "2");
  EXPECT_NE(bad.code, 0);
  EXPECT_THAT(bad.output,
              HasSubstr("--ngf and --ndf must be positive multiples of 8, got 12 and 32"));
  fs::remove_all(dir);
}

}  // namespace
