// `fluxion train|sample|eval pfgm` end to end on a tiny run, and its option errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "cli_test_util.h"
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
