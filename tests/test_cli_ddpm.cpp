// `fluxion train/sample --method ddpm` as a user meets them: tiny U-Nets on a folder of PNG
// images and on Fashion-MNIST, the files a run writes, and clear errors for bad input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "cli_test_util.h"
#include "fashion_mnist_test_util.h"
#include "fluxion/io/png.h"

namespace fs = std::filesystem;

namespace {

class CliDdpm : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fx_cli_ddpm_" + std::to_string(::getpid()) + "_" +
            std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "pngs");
    for (int k = 0; k < 5; ++k) {
      fx::io::Image img(12, 12, 3);
      for (int y = 0; y < 12; ++y)
        for (int x = 0; x < 12; ++x)
          for (int c = 0; c < 3; ++c) img.at(x, y)[c] = (uint8_t)((x * 20 + y * k * 7 + c) % 256);
      fx::io::write_png((dir_ / "pngs" / ("img" + std::to_string(k) + ".png")).string(), img);
    }
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // A 2-level U-Net on 8x8 grey images with T = 20.
  std::string tiny(const std::string& out, int steps = 2, int base = 8) const {
    return "train --method ddpm --data " + path("pngs") + " --image-size 8 --base " +
           std::to_string(base) + " --mult 1,2 --attn 4 --timesteps 20 --steps " +
           std::to_string(steps) + " --batch 4 --out " + path(out);
  }
  fs::path dir_;
};

}  // namespace

TEST_F(CliDdpm, TrainsOnAPngFolderAndSamples) {
  auto r = run_cli(tiny("run") + " --grid 4");
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f :
       {"config.json", "model.safetensors", "metrics.jsonl", "loss.png", "samples.png"})
    EXPECT_TRUE(fs::exists(path("run/" + std::string(f)))) << f << "\n" << r.output;
  // sample finds the DDPM run by its config, no --method needed.
  r = run_cli("sample --run " + path("run") + " --sampler ancestral -n 3 --out " + path("a.png"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("images/s"), std::string::npos) << r.output;
  fx::io::Image a = fx::io::read_png(path("a.png"));
  EXPECT_GT(a.width, 16);
  r = run_cli("sample --method ddpm --run " + path("run") +
              " --sampler ddim --steps 5 --eta 0.5 -n 2 --out " + path("b.png"));
  EXPECT_EQ(r.code, 0) << r.output;
  // Resume continues to more steps; changing the model is refused.
  r = run_cli(tiny("run", 4) + " --resume --grid 0");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("trained 4 steps"), std::string::npos) << r.output;
  r = run_cli(tiny("run", 6, 16) + " --resume --grid 0");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("only --steps may change"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("base (run 8, now 16)"), std::string::npos) << r.output;
  r = run_cli(tiny("run"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("already holds a run"), std::string::npos) << r.output;
}

TEST_F(CliDdpm, BadInputGivesClearErrors) {
  fx::io::write_png(path("pngs/wide.png"), fx::io::Image(10, 6, 1));
  auto r = run_cli(tiny("r1") + " --grid 0");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("wide.png' is 10x6, not square"), std::string::npos) << r.output;
  r = run_cli(tiny("r2", 1) + " --crop --grid 0");
  EXPECT_EQ(r.code, 0) << r.output;
  r = run_cli("train --method ddpm --data fashion-mnist --mult 1,2,2,2 --out " + path("r3"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("image size 28 is not divisible by 2^3 = 8"), std::string::npos)
      << r.output;
  r = run_cli("train --method ddpm --data fashion-mnist --data-dir " + path("nowhere") + " --out " +
              path("r4"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find(path("nowhere")), std::string::npos) << r.output;
  r = run_cli("train --method ddpm --data " + path("missing") + " --out " + path("r5"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("neither 'fashion-mnist', a folder of PNG images, an .npy file"),
            std::string::npos)
      << r.output;
  r = run_cli("sample --method ddpm --run " + path("nothing"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("no config.json"), std::string::npos) << r.output;
}

TEST_F(CliDdpm, TrainsOnFashionMnist) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto r = run_cli(
      "train --method ddpm --data fashion-mnist --limit 16 --base 8 --mult 1,2,2 --steps 1 "
      "--batch 2 --timesteps 4 --grid 1 --out " +
      path("fm"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("16 training images [16, 1, 28, 28]"), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(path("fm/samples.png")));
  // eval samples the run and scores it against as many test images, beside the floor.
  for (std::string sampler :
       {"--sampler ddim --steps 2", "--sampler ode --solver heun --steps 2"}) {
    r = run_cli("eval --run " + path("fm") + " -n 8 --batch 4 " + sampler);
    ASSERT_EQ(r.code, 0) << r.output;
    EXPECT_NE(r.output.find("FD-FMNIST"), std::string::npos) << r.output;
    EXPECT_NE(r.output.find("(floor "), std::string::npos) << r.output;
  }
  std::ifstream md(path("fm/eval.md"));
  std::string table((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  EXPECT_NE(table.find("| DDIM 2 steps, eta 0 |"), std::string::npos) << table;
  EXPECT_NE(table.find("| PF-ODE heun 2 steps |"), std::string::npos) << table;
  EXPECT_TRUE(fs::exists(path("fm/eval_ode_heun2.png")));
  r = run_cli("eval --run " + path("fm") + " -n 20000");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("-n 20000 must be in [4, 10000]"), std::string::npos) << r.output;
  r = run_cli("eval --run " + path("fm") + " -n 8 --classifier " + path("none.safetensors"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find(path("none.safetensors")), std::string::npos) << r.output;
}

TEST_F(CliDdpm, CosineDecayAndPrecisionFlagsAreKeptInTheRun) {
  auto r = run_cli(tiny("run") + " --lr-decay cosine --precision bf16 --grid 0");
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream in(path("run/config.json"));
  std::string cfg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(cfg.find("\"lr_decay\": \"cosine\""), std::string::npos) << cfg;
  EXPECT_NE(cfg.find("\"precision\": \"bf16\""), std::string::npos) << cfg;
  // Extending a cosine run re-plans the decay over the new length, and says so.
  r = run_cli(tiny("run", 3) + " --lr-decay cosine --precision bf16 --resume --grid 0");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("now decays over the new length"), std::string::npos) << r.output;
  r = run_cli(tiny("bad") + " --lr-decay linear");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("unknown --lr-decay 'linear'"), std::string::npos) << r.output;
  r = run_cli("sample --run " + path("run") + " --sampler ode --solver rk45 -n 2 --out " +
              path("o.png"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("PF-ODE RK45"), std::string::npos) << r.output;
  // Sampling in low precision (weights stay f32): the label says so.
  r = run_cli("sample --run " + path("run") +
              " --steps 4 --precision fp16 --precision-measure false -n 2 --out " + path("h.png"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("DDIM 4 steps, eta 0, fp16 products"), std::string::npos) << r.output;
  r = run_cli("sample --run " + path("run") + " --precision fp8 -n 2 --out " + path("h.png"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("unknown precision 'fp8'"), std::string::npos) << r.output;
}

TEST_F(CliDdpm, Fp16RunLogsLossScaleAndPrecisionDecisions) {
  auto r = run_cli(tiny("run", 2) + " --precision fp16 --precision-measure false --grid 0");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("0 steps skipped"), std::string::npos) << r.output;
  std::ifstream metrics(path("run/metrics.jsonl"));
  std::string row;
  std::getline(metrics, row);
  EXPECT_NE(row.find("\"loss_scale\":65536.0"), std::string::npos)
      << row;  // PyTorch's initial scale
  EXPECT_NE(row.find("\"skipped_steps\":0"), std::string::npos) << row;
  std::ifstream dec(path("run/precision.txt"));
  std::string decisions((std::istreambuf_iterator<char>(dec)), std::istreambuf_iterator<char>());
  EXPECT_NE(decisions.find("conv2d"), std::string::npos) << decisions;
  EXPECT_NE(decisions.find("-> f16"), std::string::npos) << decisions;
  // A damaged metrics.jsonl is named with its line when the run is resumed.
  {
    std::ofstream bad(path("run/metrics.jsonl"));
    bad << "{\"step\": 1}\nnot json\n{\"step\": 2}\n";
  }
  r = run_cli(tiny("run", 3) + " --precision fp16 --precision-measure false --resume --grid 0");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("metrics.jsonl: line 2 is not a JSON object"), std::string::npos)
      << r.output;
}

// compare-precision --method ddpm: one run per precision, scored, curves overlaid.
TEST_F(CliDdpm, ComparePrecisionTrainsAndScoresEachPrecision) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto r = run_cli(
      "compare-precision --method ddpm --base 8 --mult 1,2,2 --timesteps 4 --steps 2 --batch 4 "
      "--eval-n 8 --eval-steps 2 --precisions fp32,fp16 --out " +
      path("cmp"));
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"cmp/report.md", "cmp/loss_curves.png", "cmp/fp32/metrics.jsonl",
                        "cmp/fp16/precision.txt", "cmp/fp16/eval_ddim2_fp16.png"})
    EXPECT_TRUE(fs::exists(path(f))) << f;
  std::ifstream in(path("cmp/report.md"));
  std::string report((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_NE(report.find("| fp32 | "), std::string::npos) << report;
  EXPECT_NE(report.find("| fp16 | "), std::string::npos) << report;
  EXPECT_NE(report.find("-> f16"), std::string::npos) << report;  // forced low precision
  r = run_cli("compare-precision --method ddpm --eval-n 1 --out " + path("cmp2"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--eval-n must be at least 2, got 1"), std::string::npos) << r.output;
}

TEST_F(CliDdpm, EvalRejectsImagesThatAreNotFashionMnistShaped) {
  auto r = run_cli(tiny("run") + " --grid 0");
  ASSERT_EQ(r.code, 0) << r.output;
  r = run_cli("eval --run " + path("run") + " -n 8");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("FD-FMNIST scores 1x28x28"), std::string::npos) << r.output;
}

TEST_F(CliDdpm, TrainClassifierWritesWeightsAndReportsTestAccuracy) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto r =
      run_cli("train-classifier --limit 256 --epochs 1 --batch 64 --out " + path("c.safetensors"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("trained 4 steps"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("test accuracy 0."), std::string::npos) << r.output;
  EXPECT_TRUE(fs::exists(path("c.safetensors")));
  r = run_cli("train-classifier --epochs 0 --out " + path("d.safetensors"));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.output.find("epochs 0"), std::string::npos) << r.output;
}
