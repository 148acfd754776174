// `fluxion train|sample|eval` for the particle-flow and monoflow methods: tiny runs write
// their pictures and checkpoint, eval scores against the target, a stopped run resumes to the
// uninterrupted one (particles, classifier and both GAN nets), and bad input is named.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli_test_util.h"
#include "fluxion/train/checkpoint.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

class CliParticleFlows : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("fx_cli_pf_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Every tensor of a run's checkpoint (weights and state), for exact comparisons.
  std::map<std::string, std::vector<float>> tensors(const std::string& run) const {
    fx::train::Checkpoint c = fx::train::load_checkpoint(path(run));
    std::map<std::string, std::vector<float>> m;
    for (auto& [k, v] : c.weights) m["w/" + k] = v.to_f32_vector();
    for (auto& [k, v] : c.state) m["s/" + k] = v.to_f32_vector();
    return m;
  }
  void expect_resume_matches(const std::string& args, int steps) {
    auto full = run_cli(args + " --steps " + std::to_string(steps) + " --out " + path("full"));
    ASSERT_EQ(full.code, 0) << full.output;
    auto part = run_cli(args + " --steps " + std::to_string(steps) + " --stop-after " +
                        std::to_string(steps / 2) + " --out " + path("part"));
    ASSERT_EQ(part.code, 0) << part.output;
    auto rest =
        run_cli(args + " --steps " + std::to_string(steps) + " --resume --out " + path("part"));
    ASSERT_EQ(rest.code, 0) << rest.output;
    auto a = tensors("full"), b = tensors("part");
    EXPECT_FALSE(a.empty());
    for (auto& [k, v] : a) {
      ASSERT_TRUE(b.count(k)) << k;
      EXPECT_EQ(v, b.at(k)) << k;
    }
  }
  fs::path dir_;
};

const std::string kLangevin =
    "train --method particle-flow --flow langevin --particles 400 --log-every 10 "
    "--checkpoint-every 10";

TEST_F(CliParticleFlows, LangevinTrainsSamplesAndEvaluates) {
  auto r = run_cli(kLangevin + " --steps 300 --dt 0.02 --out " + path("run"));
  ASSERT_EQ(r.code, 0) << r.output;
  for (const char* f : {"config.json", "model.safetensors", "metrics.jsonl", "frames.png",
                        "particles.png", "sliced_w2.png"})
    EXPECT_TRUE(fs::exists(path("run/") + f)) << f;
  auto e = run_cli("eval particle-flow --run " + path("run") + " -n 400");
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_THAT(e.output, HasSubstr("modes_covered 8"));
  auto s = run_cli("sample particle-flow --run " + path("run") + " -n 100 --out " + path("p.csv"));
  ASSERT_EQ(s.code, 0) << s.output;
  std::ifstream in(path("p.csv"));
  int lines = 0;
  for (std::string l; std::getline(in, l);) lines += !l.empty();
  EXPECT_GE(lines, 100);
  auto big =
      run_cli("sample particle-flow --run " + path("run") + " -n 401 --out " + path("q.csv"));
  EXPECT_NE(big.code, 0);
  EXPECT_THAT(big.output, HasSubstr("-n must be in 1..400 (the run's particles), got 401"));
}

TEST_F(CliParticleFlows, LangevinResumesToTheUninterruptedParticles) {
  expect_resume_matches(kLangevin, 40);
}

TEST_F(CliParticleFlows, ClassifierFlowResumesToTheUninterruptedRun) {
  expect_resume_matches(
      "train --method particle-flow --flow kl --dt 0.3 --particles 300 --batch 64 --hidden 16 "
      "--classifier-steps 2 --log-every 10 --checkpoint-every 10",
      20);
}

TEST_F(CliParticleFlows, MonoFlowResumesToTheUninterruptedRun) {
  for (const char* loss : {"--h arcsinh", "--g-loss particle --n-g 3"}) {
    SCOPED_TRACE(loss);
    fs::remove_all(path("full"));
    fs::remove_all(path("part"));
    expect_resume_matches(std::string("train --method monoflow --batch 64 --hidden 16 --layers 2 "
                                      "--log-every 5 --checkpoint-every 5 ") +
                              loss,
                          20);
  }
  auto e = run_cli("eval monoflow --run " + path("full") + " -n 500");
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_THAT(e.output, HasSubstr("modes_covered"));
  auto m = fx::train::load_checkpoint(path("full"));
  EXPECT_TRUE(m.weights.count("disc.0.weight") && m.weights.count("gen.0.weight"));
}

TEST_F(CliParticleFlows, BadInputIsNamed) {
  std::ofstream(path("bad.json")) << R"({"components": [{"weight": 0.5, "mean": [0, 0], "std": 1},
                            {"weight": 0.6, "mean": [1, 0], "std": 1}]})";
  struct Case {
    std::string args, expect;
  };
  std::vector<Case> cases = {
      {kLangevin + " --dt 0", "--dt must be positive, got 0"},
      {"train --method particle-flow --particles 0", "--particles must be positive, got 0"},
      {"train --method particle-flow --flow hmc",
       "--flow must be one of langevin, svgd, kl, reverse-kl, js, got 'hmc'"},
      {kLangevin + " --target " + path("bad.json"), "the weights sum to 1.1, not 1"},
      {kLangevin + " --dt 1e6 --steps 50", "langevin diverged at step"},
      {"train --method monoflow --h exp", "unknown MonoFlow h 'exp'"},
      {"train --method monoflow --n-d 0", "n-d = 0 must be positive"},
  };
  for (auto& c : cases) {
    auto r = run_cli(c.args + " --out " + path("x"));
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_THAT(r.output, HasSubstr(c.expect)) << c.args;
  }
}

}  // namespace
