// The `fluxion` command as a user meets it: bad input gives a clear error and a non-zero
// exit without touching existing files; --resume reproduces an uninterrupted run; and a
// small reflow experiment shows the effect the method promises.
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "cli_test_util.h"
#include "fluxion/io/atomic_file.h"

namespace fs = std::filesystem;

namespace {

class CliFlow : public ::testing::Test {
 protected:
  void SetUp() override {
    // The pid keeps concurrent test runs (CTest -j, several checkouts) out of each other's way.
    dir_ = fs::temp_directory_path() /
           ("fx_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string small_train(const std::string& out, int steps) const {
    return "train --data moons --steps " + std::to_string(steps) +
           " --batch 128 --hidden 32 --layers 2 --out " + path(out);
  }
  fs::path dir_;
};

}  // namespace

TEST_F(CliFlow, HelpListsCommands) {
  auto r = run_cli("--help");
  EXPECT_EQ(r.code, 0);
  for (const char* c : {"train", "reflow", "sample", "eval", "demo"})
    EXPECT_NE(r.output.find(c), std::string::npos) << c;
}

TEST_F(CliFlow, BadFlagsAreClearErrors) {
  struct Case {
    std::string args, expect;
  };
  std::vector<Case> cases = {
      {small_train("a", 5) + " --method gan", "unknown method 'gan'"},
      {"train --data bananas --out " + path("b"), "unknown data set 'bananas'"},
      {small_train("c", 0), "--steps must be positive, got 0"},
      {"train --data moons --steps 5 --batch=-3 --out " + path("d"),
       "--batch must be positive, got -3"},
      {small_train("e", 5) + " --frobnicate", "frobnicate"},
      {"train --data " + path("missing.csv") + " --out " + path("f"), "missing.csv"},
      {"eval --run " + path("nothing"), "config.json"},
      {small_train("g", 5) + " --precision fp8", "unknown precision 'fp8'"},
      {small_train("h", 5) + " --loss-scale=-2", "--loss-scale must be"},
      {small_train("i", 5) + " --lr-decay linear", "unknown --lr-decay 'linear'"},
  };
  for (const Case& c : cases) {
    auto r = run_cli(c.args);
    EXPECT_NE(r.code, 0) << c.args;
    EXPECT_NE(r.output.find(c.expect), std::string::npos) << c.args << "\n" << r.output;
  }
}

TEST_F(CliFlow, BadDataFilesNameTheProblem) {
  fx::io::write_file_atomic(path("ragged.csv"), "x,y\n1,2\n3\n");
  fx::io::write_file_atomic(path("text.csv"), "1,2\n3,abc\n");
  fx::io::write_file_atomic(path("nan.csv"), "1,2\nnan,4\n");
  fx::io::write_file_atomic(path("empty.csv"), "");
  std::vector<std::pair<std::string, std::string>> cases = {
      {"ragged.csv", "line 3"},
      {"text.csv", "line 2, column 2: 'abc' is not a number"},
      {"nan.csv", "not finite"},
      {"empty.csv", "no data rows"}};
  for (auto& [file, expect] : cases) {
    auto r = run_cli("train --steps 5 --data " + path(file) + " --out " + path("o_" + file));
    EXPECT_NE(r.code, 0) << file;
    EXPECT_NE(r.output.find(expect), std::string::npos) << file << "\n" << r.output;
  }
}

TEST_F(CliFlow, UsersOwnHigherDimensionalDataTrains) {
  std::string csv = "a,b,c\n";
  for (int i = 0; i < 200; ++i) csv += fmt::format("{},{},{}\n", i % 7 * 0.1, i % 5 * 0.2, 1.0);
  fx::io::write_file_atomic(path("pts.csv"), csv);
  auto r = run_cli("train --steps 20 --batch 64 --hidden 16 --layers 1 --data " + path("pts.csv") +
                   " --out " + path("run3d"));
  ASSERT_EQ(r.code, 0) << r.output;
  auto e = run_cli("eval --run " + path("run3d") + " --solver euler --ode-steps 4 -n 100");
  EXPECT_EQ(e.code, 0) << e.output;
  EXPECT_NE(e.output.find("sliced-W2"), std::string::npos);
}

TEST_F(CliFlow, ExistingRunIsNeverOverwritten) {
  ASSERT_EQ(run_cli(small_train("run", 10)).code, 0);
  std::string before = fx::io::read_file(path("run/model.safetensors"));
  auto r = run_cli(small_train("run", 10));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("already holds a run"), std::string::npos) << r.output;
  EXPECT_EQ(fx::io::read_file(path("run/model.safetensors")), before);
}

TEST_F(CliFlow, CorruptOrMismatchedCheckpointsAreClearErrors) {
  ASSERT_EQ(run_cli(small_train("run", 10)).code, 0);
  std::string ck = path("run/model.safetensors");
  std::string good = fx::io::read_file(ck);
  fx::io::write_file_atomic(ck, good.substr(0, good.size() / 2));
  auto r = run_cli("eval --run " + path("run"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("model.safetensors"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("truncated"), std::string::npos) << r.output;

  // A checkpoint of another shape: train a wider model and swap its weights in.
  ASSERT_EQ(run_cli("train --data moons --steps 5 --batch 64 --hidden 48 --layers 2 --out " +
                    path("wide"))
                .code,
            0);
  fs::copy_file(path("wide/model.safetensors"), ck, fs::copy_options::overwrite_existing);
  r = run_cli("eval --run " + path("run"));
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.output.find("another model shape"), std::string::npos) << r.output;
}

TEST_F(CliFlow, MixedPrecisionRunsLogTheLossScale) {
  auto r = run_cli(small_train("fp16", 30) + " --precision fp16 --loss-scale 1000");
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream metrics(path("fp16/metrics.jsonl"));
  std::string line;
  std::getline(metrics, line);
  EXPECT_NE(line.find("\"loss_scale\":1000"), std::string::npos) << line;
  EXPECT_NE(line.find("\"skipped_steps\":0"), std::string::npos) << line;
  auto e = run_cli("eval --run " + path("fp16") + " --solver euler --ode-steps 4 --precision bf16");
  EXPECT_EQ(e.code, 0) << e.output;
  EXPECT_NE(e.output.find("sliced-W2"), std::string::npos) << e.output;
}

TEST_F(CliFlow, ResumeGivesTheUninterruptedResult) {
  ASSERT_EQ(run_cli(small_train("full", 40)).code, 0);
  ASSERT_EQ(run_cli(small_train("part", 40) + " --stop-after 20").code, 0);
  EXPECT_NE(fx::io::read_file(path("full/model.safetensors")),
            fx::io::read_file(path("part/model.safetensors")));
  auto r = run_cli(small_train("part", 40) + " --resume");
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_EQ(fx::io::read_file(path("full/model.safetensors")),
            fx::io::read_file(path("part/model.safetensors")));
}

TEST_F(CliFlow, ReflowStraightensPathsAndImprovesOneStepSamples) {
  // A constant learning rate (inherited by reflow and distillation): at this tiny budget
  // cosine decay halves the effective training of the 400-step reflow, and the test is about
  // what reflow does, not about the schedule.
  ASSERT_EQ(run_cli("train --data moons --steps 400 --batch 256 --hidden 64 --layers 2 "
                    "--lr-decay constant --out " +
                    path("rf1"))
                .code,
            0);
  auto r = run_cli("reflow --from " + path("rf1") + " --out " + path("rf2") +
                   " --pairs 4000 --steps 400");
  ASSERT_EQ(r.code, 0) << r.output;
  auto sw2 = [&](const std::string& run) {
    auto e = run_cli("eval --run " + path(run) + " --solver euler --ode-steps 1 -n 1000");
    EXPECT_EQ(e.code, 0) << e.output;
    return std::stod(e.output.substr(e.output.find("sliced-W2") + 10));
  };
  // Distillation of the same 1-RF: a one-step generator trained at t = 0 on the pairs.
  auto d = run_cli("reflow --distill --from " + path("rf1") + " --out " + path("dist") +
                   " --pairs 4000 --steps 400");
  ASSERT_EQ(d.code, 0) << d.output;
  double one = sw2("rf1"), two = sw2("rf2"), distilled = sw2("dist");
  EXPECT_LT(two * 2, one) << "1-RF one-step " << one << " vs 2-RF one-step " << two;
  EXPECT_LT(distilled * 2, one) << "1-RF one-step " << one << " vs distilled " << distilled;
  for (const char* f : {"samples.png", "trajectories.png", "loss.png", "metrics.jsonl"})
    EXPECT_TRUE(fs::exists(dir_ / "rf2" / f)) << f;
}
