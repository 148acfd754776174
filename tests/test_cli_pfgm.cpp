// `fluxion train|sample|eval pfgm` end to end on a tiny run, and its option errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"
#include "fashion_mnist_test_util.h"
#include "temp_dir_test.h"

namespace fs = std::filesystem;

namespace {

class CliPfgm : public TempDirTest {};

}  // namespace

TEST_F(CliPfgm, TrainSampleEval) {
  auto t = run_cli(
      "train pfgm --data 8gaussians --steps 30 --batch 32 --large-batch 256 "
      "--hidden 32 --layers 2 --z-max 20 --out " +
      path("run"));
  ASSERT_EQ(t.code, 0) << t.output;
  EXPECT_TRUE(fs::exists(path("run/model.safetensors")));
  EXPECT_TRUE(fs::exists(path("run/samples.png")));
  auto s = run_cli("sample pfgm --run " + path("run") +
                   " -n 50 --solver euler --ode-steps 10 "
                   "--out " +
                   path("s.csv"));
  ASSERT_EQ(s.code, 0) << s.output;
  EXPECT_TRUE(fs::exists(path("s.csv")));
  auto e = run_cli("eval pfgm --run " + path("run") + " -n 200 --solver heun --ode-steps 10");
  ASSERT_EQ(e.code, 0) << e.output;
  for (const char* k : {"sliced-W2", "MMD", "(floor "})
    EXPECT_NE(e.output.find(k), std::string::npos) << k << "\n" << e.output;
  EXPECT_NE(e.output.find("NFE 20"), std::string::npos) << "Heun: 2 per step\n" << e.output;
  // Sampling options are checked when used.
  auto bad = run_cli("eval pfgm --run " + path("run") + " -n 20 --upper-norm 0.5");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.output.find("--upper-norm must be >= 1, got 0.5"), std::string::npos) << bad.output;
}

// sample/eval --compile: the network compiled gives the interpreter's samples bit for bit
// (the same arithmetic); --precision bf16 runs the network in mixed precision.
TEST_F(CliPfgm, CompiledSamplingGivesTheInterpretersSamples) {
  auto slurp = [](const std::string& f) {
    std::ifstream in(f, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  // `sample` interpreted and compiled into a.EXT and b.EXT: the same bytes, and the profile
  // says the compiled executor ran.
  auto expect_compiled_equal = [&](const std::string& sample, const std::string& ext) {
    auto a = run_cli(sample + " --out " + path("a" + ext));
    ::setenv("FLUXION_PROFILE", "1", 1);
    auto b = run_cli(sample + " --compile --out " + path("b" + ext));
    ::unsetenv("FLUXION_PROFILE");
    ASSERT_EQ(a.code, 0) << a.output;
    ASSERT_EQ(b.code, 0) << b.output;
    EXPECT_NE(b.output.find("FLUXION_PROFILE (compiled)"), std::string::npos) << b.output;
    EXPECT_FALSE(slurp(path("a" + ext)).empty());
    EXPECT_EQ(slurp(path("a" + ext)), slurp(path("b" + ext))) << sample;
  };
  auto t = run_cli(
      "train pfgm --data moons --steps 10 --batch 32 --large-batch 128 --hidden 32 --layers 2 "
      "--out " +
      path("run"));
  ASSERT_EQ(t.code, 0) << t.output;
  const std::string sample =
      "sample pfgm --run " + path("run") + " -n 40 --solver heun --ode-steps 4";
  expect_compiled_equal(sample, ".csv");
  auto h = run_cli(sample + " --precision bf16 --out " + path("h.csv"));
  ASSERT_EQ(h.code, 0) << h.output;
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto r = run_cli(
      "train pfgm --data fashion-mnist --limit 32 --base 8 --mult 1,2 --attn 14 --steps 2 "
      "--batch 4 --large-batch 16 --grid 0 --out " +
      path("fm"));
  ASSERT_EQ(r.code, 0) << r.output;
  expect_compiled_equal("sample pfgm --run " + path("fm") + " -n 2 --solver euler --ode-steps 2",
                        ".png");
}

TEST_F(CliPfgm, BadOptionsNameOptionAndValue) {
  std::string base = "train pfgm --steps 5 --batch 32 --out ";
  struct Case {
    std::string extra, expect;
  };
  std::vector<Case> cases = {
      {" --sigma 0", "--sigma must be positive, got 0"},
      {" --tau=-0.1", "--tau must be positive, got -0.1"},
      {" --gamma 0", "--gamma must be positive, got 0"},
      {" --z-max=-1", "--z-max must be positive, got -1"},
      {" --large-batch 16", "--large-batch (16) must be at least the batch size"},
  };
  {
    std::FILE* f = std::fopen(path("nan.csv").c_str(), "w");
    std::fputs("1,2\nnan,4\n", f);
    std::fclose(f);
  }
  cases.push_back({" --data " + path("nan.csv"), "not finite"});
  int k = 0;
  for (const Case& c : cases) {
    std::string data = c.extra.find("--data") == std::string::npos ? " --data moons" : "";
    auto r = run_cli(base + path("r" + std::to_string(k++)) + data + c.extra);
    EXPECT_NE(r.code, 0) << c.extra;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.extra << "\n" << r.output;
  }
}

TEST_F(CliPfgm, TrainsTheUNetOnFashionMnistAndScoresLikeDdpm) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  auto r = run_cli(
      "train pfgm --data fashion-mnist --limit 64 --base 8 --mult 1,2 --attn 14 --steps 2 "
      "--batch 4 --large-batch 32 --grid 0 --out " +
      path("fm"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("64 training images [64, 1, 28, 28]"), std::string::npos) << r.output;
  std::ifstream cfg(path("fm/config.json"));
  nlohmann::json j = nlohmann::json::parse(cfg);
  EXPECT_EQ(j.at("z_max").get<double>(), 0.0) << "0: by the data, resolved when built";
  auto s = run_cli("sample pfgm --run " + path("fm") + " -n 3 --solver euler --ode-steps 3 --out " +
                   path("s.png"));
  ASSERT_EQ(s.code, 0) << s.output;
  EXPECT_TRUE(fs::exists(path("s.png")));
  EXPECT_NE(s.output.find("NFE 3"), std::string::npos) << s.output;
  auto e = run_cli("eval pfgm --run " + path("fm") + " -n 8 --solver euler --ode-steps 2");
  ASSERT_EQ(e.code, 0) << e.output;
  for (const char* k : {"FD-FMNIST", "precision", "recall", "(floor ", "NFE 2"})
    EXPECT_NE(e.output.find(k), std::string::npos) << k << "\n" << e.output;
  // The prior is clipped at the largest radius training perturbs to, σ·sqrt(N)·(1+τ)^M, with
  // the automatic M (σ(1+τ)^M = z_max) z_max·sqrt(N) = 40·28 (3000, the CIFAR-10 value, left
  // 45% of the samples starting where the network never trained).
  EXPECT_NE(e.output.find("upper_norm 1120 "), std::string::npos) << e.output;
  EXPECT_TRUE(fs::exists(path("fm/eval_euler2.png")));
  auto bad = run_cli("eval pfgm --run " + path("fm") + " -n 20000 --solver euler");
  EXPECT_NE(bad.code, 0);
  EXPECT_NE(bad.output.find("-n 20000 must be in [4, 10000]"), std::string::npos) << bad.output;
}

TEST_F(CliPfgm, DdpmOnPointsSamplesWithDdimAndTheOde) {
  auto t = run_cli(
      "train ddpm --data moons --steps 20 --batch 64 --hidden 32 --layers 2 --timesteps 100 "
      "--out " +
      path("d"));
  ASSERT_EQ(t.code, 0) << t.output;
  EXPECT_TRUE(fs::exists(path("d/samples.png")));
  auto e = run_cli("eval ddpm --run " + path("d") + " -n 100 --sampler ddim --steps 10");
  ASSERT_EQ(e.code, 0) << e.output;
  for (const char* k : {"sliced-W2", "MMD", "(floor ", "NFE 10"})
    EXPECT_NE(e.output.find(k), std::string::npos) << k << "\n" << e.output;
  e = run_cli("eval ddpm --run " + path("d") + " -n 100 --sampler ode --solver heun --steps 5");
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_NE(e.output.find("NFE 11"), std::string::npos) << "5 Heun steps + the last\n" << e.output;
  auto s = run_cli("sample ddpm --run " + path("d") + " -n 7 --out " + path("p.csv"));
  ASSERT_EQ(s.code, 0) << s.output;
  EXPECT_TRUE(fs::exists(path("p.csv")));
}

TEST_F(CliPfgm, CompareMethodsWritesTheTableAndPicture) {
  const std::string base = "compare-methods --data 8gaussians --steps 5 --hidden 16 --layers 1 ";
  auto r = run_cli(base + "-n 32 --nfe 4 --out " + path("cmp"));
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream md(path("cmp/report.md"));
  std::string table((std::istreambuf_iterator<char>(md)), std::istreambuf_iterator<char>());
  for (const char* k :
       {"| pfgm | euler 4 | 4 | 4 |", "| pfgm | euler-z 4 | 4 | 4 |",
        "| rectified-flow | heun 2 | 4 | 4 |", "| ddpm | ddim 4 | 4 | 4 |",
        "| ddpm | heun 1 | 4 | 3 |", "| pfgm | rk45 | adaptive |", "| ddpm | rk45 | adaptive |"})
    EXPECT_NE(table.find(k), std::string::npos) << k << "\n" << table;
  EXPECT_TRUE(fs::exists(path("cmp/compare.png")));
  // A second call loads the three runs instead of training them again.
  r = run_cli(base + "-n 16 --nfe 2 --out " + path("cmp"));
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("ddpm: loading"), std::string::npos) << r.output;
  r = run_cli("compare-methods --nfe 4,x --out " + path("bad"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("--nfe must be a list of positive integers, got '4,x'"),
            std::string::npos)
      << r.output;
}
