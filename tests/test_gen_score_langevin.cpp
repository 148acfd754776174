// gen/score_langevin.h: denoising score matching learns the score of the blurred data (for
// N(0, I) data it is −x/(1 + σ²)), annealed Langevin with the exact noisy score samples the
// data, and the score-langevin method's learned score puts 8 Gaussians' samples within 3× the
// sliced-W2 floor with every mode covered (the check, at a size a unit test affords).
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <regex>

#include "cli_test_util.h"
#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/data/point_source.h"
#include "fluxion/gen/score_langevin.h"
#include "fluxion/optim/trainer.h"

using namespace fx;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

Tensor gaussian(int64_t n, int64_t d, uint64_t seed, double std = 1.0) {
  Tensor x({n, d}, DType::f32);
  philox_normal(seed, 0, x.data<float>(), x.numel());
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] *= (float)std;
  return x;
}

TEST(ScoreLangevin, DenoisingScoreMatchingLearnsTheBlurredGaussianScore) {
  gen::NoiseLevels lv{.sigma_min = 0.1, .sigma_max = 2.0};
  nn::InitRng rng(1);
  gen::VelocityMLP net({.dim = 2, .hidden = 64, .layers = 2}, rng);
  optim::TrainerOptions to;
  to.schedule.base_lr = 2e-3;
  to.seed = 1;
  optim::Trainer tr(
      net, optim::adam(),
      [&](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
        return gen::dsm_loss(net, b.at("x"), key, lv);
      },
      {{"x", {256, 2}}}, to);
  for (int s = 1; s <= 1500; ++s) tr.step({{"x", gaussian(256, 2, 100 + s)}});
  gen::ScoreEvaluator score(net, 64);
  Tensor x = gaussian(200, 2, 7);
  for (double sigma : {0.3, 1.0, 2.0}) {
    Tensor s = score(x, sigma);
    double err = 0, ref = 0;
    for (int64_t i = 0; i < x.numel(); ++i) {
      double want = -x.data<float>()[i] / (1 + sigma * sigma);
      err += std::pow(s.data<float>()[i] - want, 2);
      ref += want * want;
    }
    // A sign or 1/σ mistake gives ≥ 1; 1,500 steps of a 2×64 MLP reach about 0.24.
    EXPECT_LT(std::sqrt(err / ref), 0.3) << "sigma " << sigma;
  }
}

TEST(ScoreLangevin, AnnealedLangevinWithTheExactScoreSamplesTheData) {
  // Data N(0, 0.5²): its blurred score is −x/(0.25 + σ²).
  gen::NoisyScoreFn exact = [](const Tensor& x, double sigma) {
    Tensor s = x.clone();
    for (int64_t i = 0; i < s.numel(); ++i)
      s.data<float>()[i] *= (float)(-1 / (0.25 + sigma * sigma));
    return s;
  };
  gen::AnnealedLangevinOptions o{.levels = {.sigma_min = 0.01, .sigma_max = 3.0},
                                 .num_levels = 8,
                                 .steps_per_level = 60,
                                 .eps = 2e-5,
                                 .denoise = false,
                                 .seed = 4};
  Tensor x = gen::annealed_langevin(exact, 20000, 1, o);
  double m = 0, v = 0;
  for (int64_t i = 0; i < x.numel(); ++i) m += x.data<float>()[i];
  m /= x.numel();
  for (int64_t i = 0; i < x.numel(); ++i) v += std::pow(x.data<float>()[i] - m, 2);
  v /= x.numel();
  EXPECT_NEAR(m, 0.0, 0.02);
  EXPECT_NEAR(std::sqrt(v), 0.5, 0.03);
}

TEST(ScoreLangevin, BadLevelsAreNamed) {
  gen::AnnealedLangevinOptions o;
  o.levels = {.sigma_min = 1.0, .sigma_max = 0.5};
  gen::NoisyScoreFn zero = [](const Tensor& x, double) { return Tensor::zeros(x.shape()); };
  EXPECT_THAT([&] { gen::annealed_langevin(zero, 10, 2, o); },
              ::testing::ThrowsMessage<Error>(
                  HasSubstr("--sigma-max must be finite and above --sigma-min (1), got 0.5")));
  o.levels = {};
  o.eps = 0;
  EXPECT_THAT([&] { gen::annealed_langevin(zero, 10, 2, o); },
              ::testing::ThrowsMessage<Error>(HasSubstr("--eps must be positive, got 0")));
}

class ScoreLangevinCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("fx_score_langevin_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

// "<name> <value> (floor <floor>)" from eval's line; NaN when missing.
std::pair<double, double> score_of(const std::string& out, const std::string& name) {
  std::smatch m;
  std::regex re(name + " ([-0-9.e]+)(?: \\(floor ([-0-9.e]+)\\))?");
  if (!std::regex_search(out, m, re)) return {NAN, NAN};
  return {std::stod(m[1]), m[2].matched ? std::stod(m[2]) : NAN};
}

TEST_F(ScoreLangevinCli, LearnedScoreSamples8GaussiansWithin3xTheFloor) {
  std::string run = (dir_ / "run").string();
  auto t = run_cli(
      "train --method score-langevin --data 8gaussians --steps 1500 --hidden 64 "
      "--layers 2 --lr 3e-3 --log-every 500 --checkpoint-every 1500 --out " +
      run);
  ASSERT_EQ(t.code, 0) << t.output;
  EXPECT_TRUE(fs::exists(dir_ / "run/samples.png"));
  auto e = run_cli("eval score-langevin --run " + run + " -n 1000 --levels 8 --steps-per-level 40");
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_THAT(e.output, HasSubstr("modes_covered 8"));
  auto [sw, floor] = score_of(e.output, "sliced-W2");
  EXPECT_LT(sw, 3 * floor) << e.output;
  auto bad = run_cli("eval score-langevin --run " + run + " --sampler hmc");
  EXPECT_NE(bad.code, 0);
  EXPECT_THAT(bad.output, HasSubstr("--sampler must be annealed or langevin, got 'hmc'"));
}

}  // namespace
