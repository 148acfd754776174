// Warm starts: the spine's init_from (a run begins from another run's weights) and the loop's
// --warm-start (generation t from generation t−1), which must resume after an interruption to
// the same results as an uninterrupted loop.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "error_of.h"
#include "fluxion/core/error.h"
#include "fluxion/loop/loop_command.h"
#include "fluxion/methods/registry.h"
#include "fluxion/train/checkpoint.h"
#include "fluxion/train/metrics_log.h"
#include "fluxion/train/run_folder.h"
#include "fluxion/train/train_loop.h"
#include "loop_test_util.h"
#include "temp_dir_test.h"

using namespace fx;
using namespace fx::loop;
namespace fs = std::filesystem;

namespace {

class LoopWarmStart : public TempDirTest {};

// The registry's Gaussian (fitted by Adam) on 25 Gaussians: a few steps are far from the fit,
// so where the weights start shows in the first losses.
LoopConfig warm_config(const std::string& out, bool warm) {
  LoopConfig c;
  c.out = out;
  c.model = "gaussian";
  c.method_config = R"({"steps": 40, "batch": 128, "log_every": 1})";
  c.families = "fully-synthetic";
  c.lambdas = "1";
  c.generations = 3;
  c.n = 256;
  c.eval_n = 300;
  c.warm_start = warm;
  return c;
}

double first_loss(const std::string& run_dir) {
  std::vector<nlohmann::json> lines = train::read_metrics(run_dir);
  EXPECT_FALSE(lines.empty()) << run_dir;
  return lines.empty() ? 0 : lines.front()["loss"].get<double>();
}

}  // namespace

TEST_F(LoopWarmStart, StartsFromThePreviousGenerationsWeights) {
  LoopConfig warm = warm_config(path("warm"), true), cold = warm_config(path("cold"), false);
  run_study(warm, make_model_factory(warm), {.quiet = true});
  run_study(cold, make_model_factory(cold), {.quiet = true});
  const std::string w2 = path("warm/fully-synthetic-lambda1/gen-002/run");
  const std::string c2 = path("cold/fully-synthetic-lambda1/gen-002/run");
  // Generation 1 is the same in both; generation 2 starts where generation 1 ended when warm.
  EXPECT_EQ(first_loss(path("warm/fully-synthetic-lambda1/gen-001/run")),
            first_loss(path("cold/fully-synthetic-lambda1/gen-001/run")));
  EXPECT_LT(first_loss(w2), 0.8 * first_loss(c2))
      << "warm " << first_loss(w2) << " cold " << first_loss(c2);
  EXPECT_EQ(train::read_run_config(w2)[train::kInitFromKey].get<std::string>(),
            fs::absolute(path("warm/fully-synthetic-lambda1/gen-001/run")).string());
  EXPECT_FALSE(train::read_run_config(c2).contains(train::kInitFromKey));
}

TEST_F(LoopWarmStart, ResumesAfterAnInterruptionWithTheSameResults) {
  LoopConfig whole = warm_config(path("whole"), true), cut = warm_config(path("cut"), true);
  run_study(whole, make_model_factory(whole), {.quiet = true});
  std::vector<LoopResult> r =
      run_study(cut, make_model_factory(cut), {.quiet = true, .stop_after = 2});
  EXPECT_EQ(r[0].lines.size(), 2u);
  // A generation killed mid-way: its folder without metrics.json is redone.
  fs::create_directories(path("cut/fully-synthetic-lambda1/gen-003/run"));
  r = run_study(cut, make_model_factory(cut), {.quiet = true});
  ASSERT_EQ(r[0].lines.size(), 3u);
  EXPECT_EQ(jsonl_without_seconds(path("cut/fully-synthetic-lambda1/loop.jsonl")),
            jsonl_without_seconds(path("whole/fully-synthetic-lambda1/loop.jsonl")));
  train::Checkpoint a = train::load_checkpoint(path("cut/fully-synthetic-lambda1/gen-003/run"));
  train::Checkpoint b = train::load_checkpoint(path("whole/fully-synthetic-lambda1/gen-003/run"));
  ASSERT_EQ(a.weights.size(), b.weights.size());
  for (auto& [name, t] : a.weights)
    EXPECT_EQ(t.to_vector(), b.weights.at(name).to_vector()) << name;
  // A warm-started study is another study than a cold one.
  LoopConfig cold = warm_config(path("cut"), false);
  EXPECT_NE(error_of([&] {
              run_study(cold, make_model_factory(cold), {.quiet = true});
            }).find("warm_start (true there, false here)"),
            std::string::npos);
}

TEST_F(LoopWarmStart, BadWarmStartsAreNamed) {
  LoopConfig c = warm_config(path("g"), true);
  c.model = "closed-form";
  c.method_config = "";
  EXPECT_NE(error_of([&] { c.validate(); }).find("--warm-start: the closed-form model"),
            std::string::npos);
  // The spine's init_from: a folder without a checkpoint, or a checkpoint of another method.
  auto method = methods::make_method("gaussian");
  methods::RunContext ctx{path("run"), method->default_train_config(), true};
  ctx.train.steps = 5;
  std::string e = error_of([&] { train::train_run(*method, ctx, {.init_from = path("none")}); });
  EXPECT_NE(e.find("--init-from: " + path("none") + " holds no checkpoint"), std::string::npos)
      << e;
  EXPECT_FALSE(fs::exists(path("run")));  // a failed fresh run leaves no folder
}
