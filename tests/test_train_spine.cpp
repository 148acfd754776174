// The shared training spine (fluxion/train) and the method registry: declared options and
// their JSON, one-file checkpoints, metrics that never repeat a step after a resume, run
// folders that a failed run leaves reusable, and the example "gaussian" method end to end.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "error_of.h"
#include "fluxion/core/error.h"
#include "fluxion/data/point_source.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/safetensors.h"
#include "fluxion/methods/registry.h"
#include "fluxion/metrics/frechet.h"
#include "fluxion/train/checkpoint.h"
#include "fluxion/train/metrics_log.h"
#include "fluxion/train/run_folder.h"
#include "fluxion/train/train_loop.h"
#include "temp_dir_test.h"

namespace fs = std::filesystem;
using namespace fx;
using nlohmann::json;

namespace {

class TrainSpine : public TempDirTest {};

// Trains the example method quietly; returns its weights.
std::map<std::string, Tensor> train_gaussian(const std::string& dir, int64_t steps, bool resume,
                                             int64_t stop_after = 0) {
  auto m = methods::make_method("gaussian");
  methods::RunContext ctx{dir, m->default_train_config()};
  ctx.train.steps = steps;
  ctx.train.checkpoint_every = 7;
  ctx.train.log_every = 5;
  ctx.quiet = true;
  train::train_run(*m, ctx, {resume, stop_after});
  return train::load_checkpoint(dir).weights;
}

}  // namespace

TEST(TrainOptions, ADuplicateDeclarationIsAnError) {
  int64_t a = 1, b = 2;
  double c = 3;
  train::OptionSet o;
  o.add("batch-size", a, "");
  EXPECT_NE(error_of([&] { o.add("batch-size", b, ""); }).find("--batch-size is declared twice"),
            std::string::npos);
  // The same option under its JSON key, and with another type, clash too.
  EXPECT_NE(error_of([&] { o.add("batch_size", c, ""); }).find("declared twice"),
            std::string::npos);
  EXPECT_EQ(o.options().size(), 1u);
}

TEST(TrainOptions, JsonRoundTripAndTypeErrorsNameFileFieldAndValue) {
  int64_t steps = 5;
  double lr = 0.1;
  std::string data = "moons";
  bool flag = false;
  std::vector<int64_t> mult = {1, 2};
  train::OptionSet o;
  o.add("steps", steps, "");
  o.add("lr", lr, "");
  o.add("data-set", data, "");
  o.add("flag", flag, "");
  o.add("mult", mult, "");
  json j = o.to_json();
  EXPECT_EQ(j["data_set"], "moons");
  j["steps"] = 9;
  j["mult"] = {4, 5, 6};
  o.from_json(j, "c.json");
  EXPECT_EQ(steps, 9);
  EXPECT_EQ(mult, (std::vector<int64_t>{4, 5, 6}));
  std::string e = error_of([&] { o.from_json({{"steps", "many"}}, "c.json"); });
  EXPECT_NE(e.find("c.json: field 'steps' must be integer, got \"many\""), std::string::npos) << e;
  e = error_of([&] { o.from_json({{"steps", 18446744073709551615ull}}, "c.json"); });
  EXPECT_NE(e.find("field 'steps'"), std::string::npos) << e;
  e = error_of([&] { o.from_json({{"hidden", 3}}, "c.json"); });
  EXPECT_NE(e.find("c.json: unknown field 'hidden'"), std::string::npos) << e;
  e = error_of([&] { o.from_json({{"flag", 1}}, "c.json"); });
  EXPECT_NE(e.find("field 'flag' must be true/false, got 1"), std::string::npos) << e;
}

TEST(MethodRegistry, UnknownNamesListTheRegisteredOnesAndOptionsAreDeclaredOnce) {
  std::string e = error_of([] { methods::make_method("gan"); });
  EXPECT_NE(e.find("unknown method 'gan' (registered: "), std::string::npos) << e;
  EXPECT_NE(e.find("rectified-flow"), std::string::npos) << e;
  for (const std::string& name : methods::method_names()) {
    auto m = methods::make_method(name);
    EXPECT_EQ(m->name(), name);
    EXPECT_FALSE(m->summary().empty()) << name;
    train::TrainConfig t = m->default_train_config();
    train::OptionSet o, s;
    t.declare(o);
    m->declare(o);
    std::set<std::string> seen;
    for (auto& opt : o.options())
      EXPECT_TRUE(seen.insert(opt.name).second) << name << " --" << opt.name;
    m->declare_sampling(s);
    EXPECT_NO_THROW(t.validate()) << name;
  }
}

TEST_F(TrainSpine, CheckpointIsOneFileWithWeightsStateAndStep) {
  train::Checkpoint c;
  c.step = 12;
  c.method = "gaussian";
  c.weights["w"] = Tensor::full({2, 3}, 1.5);
  c.state["adam.m/w"] = Tensor::full({2, 3}, 0.25);
  train::save_checkpoint(dir_.string(), c);
  auto f = io::load_safetensors(path("model.safetensors"));
  EXPECT_EQ(f.metadata.at("step"), "12");
  EXPECT_TRUE(f.tensors.count("w") && f.tensors.count("state/adam.m/w"));
  train::Checkpoint back = train::load_checkpoint(dir_.string());
  EXPECT_EQ(back.step, 12);
  EXPECT_EQ(back.method, "gaussian");
  EXPECT_EQ(back.weights.size(), 1u);
  EXPECT_EQ(back.state.at("adam.m/w").to_f32_vector()[0], 0.25f);
  Tensor wrong = Tensor::zeros({3, 2});
  std::string e = error_of([&] { train::restore_tensors({{"w", &wrong}}, back.weights, "ck"); });
  EXPECT_NE(e.find("another model shape"), std::string::npos) << e;
}

TEST_F(TrainSpine, MetricsOfAResumedRunNeverRepeatAStep) {
  {
    train::MetricsLog log(dir_.string(), 0);
    for (int s : {5, 10, 15, 20}) log.write({{"step", s}, {"loss", 1.0 / s}});
  }
  // A kill after step 20 was logged but before its checkpoint; the run resumes from 10.
  {
    train::MetricsLog log(dir_.string(), 10);
    for (int s : {15, 20}) log.write({{"step", s}, {"loss", 2.0}});
  }
  std::vector<double> steps, losses;
  train::metric_column(train::read_metrics(dir_.string()), "loss", steps, losses);
  EXPECT_EQ(steps, (std::vector<double>{5, 10, 15, 20}));
  EXPECT_EQ(losses[2], 2.0);
}

TEST_F(TrainSpine, AFreshRunThatFailsBeforeItsFirstCheckpointLeavesNothing) {
  const std::string run = path("run");
  {
    train::RunFolder f(run, false);
    train::write_run_config(run, {{"method", "x"}});
    io::write_file_atomic(run + "/model.safetensors.tmp-1", "half");
  }  // not committed: as if training threw
  EXPECT_FALSE(fs::exists(run));
  // A folder the user made is kept, but emptied of the run's files.
  fs::create_directories(path("mine"));
  {
    train::RunFolder f(path("mine"), false);
    train::write_run_config(path("mine"), {{"method", "x"}});
  }
  EXPECT_TRUE(fs::exists(path("mine")));
  EXPECT_FALSE(fs::exists(path("mine/config.json")));
  // A committed run is never removed, and a second fresh run in it is refused.
  {
    train::RunFolder f(run, false);
    train::write_run_config(run, {{"method", "x"}});
    f.commit();
  }
  EXPECT_TRUE(fs::exists(run + "/config.json"));
  std::string e = error_of([&] { train::RunFolder again(run, false); });
  EXPECT_NE(e.find("already holds a run"), std::string::npos) << e;
}

TEST_F(TrainSpine, GaussianFitsItsDataAndSamplesTheFit) {
  auto m = methods::make_method("gaussian");
  methods::RunContext ctx{path("g"), m->default_train_config()};
  ctx.train.steps = 400;
  ctx.quiet = true;
  train::train_run(*m, ctx, {});
  for (const char* f :
       {"config.json", "model.safetensors", "metrics.jsonl", "samples.png", "loss.png"})
    EXPECT_TRUE(fs::exists(path(std::string("g/") + f))) << f;
  // Sampling loads the run as `fluxion sample` does.
  auto s = methods::make_method("gaussian");
  methods::RunContext sctx{path("g")};
  EXPECT_EQ(train::load_run(*s, sctx), 400);
  Tensor x = s->sample(sctx, 20000, 5);
  data::PointSource moons("moons", 2);
  auto fit = metrics::fit_gaussian(x);
  auto ref = metrics::fit_gaussian(moons.sample(20000, 9));
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(fit.mean[i], ref.mean[i], 0.08) << i;
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(fit.cov[i], ref.cov[i], 0.15 * std::abs(ref.cov[0])) << i;
  json scores = s->evaluate(sctx, 2000, 3);
  EXPECT_GT(scores["sliced_w2"].get<double>(), scores["sliced_w2_floor"].get<double>());
}

TEST_F(TrainSpine, StopAndResumeGiveTheUninterruptedWeights) {
  auto full = train_gaussian(path("full"), 30, false);
  train_gaussian(path("part"), 30, false, 12);
  EXPECT_EQ(train::load_checkpoint(path("part")).step, 12);
  auto resumed = train_gaussian(path("part"), 30, true);
  for (auto& [name, t] : full)
    EXPECT_EQ(t.to_f32_vector(), resumed.at(name).to_f32_vector()) << name;
  std::vector<double> steps, losses;
  train::metric_column(train::read_metrics(path("part")), "loss", steps, losses);
  EXPECT_EQ(steps, (std::vector<double>{5, 10, 12, 15, 20, 25, 30}));
  // Only --steps may change on resume; anything else names the option.
  auto m = methods::make_method("gaussian");
  methods::RunContext ctx{path("part"), m->default_train_config()};
  ctx.train.lr = 0.5;
  ctx.quiet = true;
  std::string e = error_of([&] { train::train_run(*m, ctx, {.resume = true}); });
  EXPECT_NE(e.find("lr (run 0.05, now 0.5)"), std::string::npos) << e;
}

TEST_F(TrainSpine, ConfigOfAnotherTypeOrMethodIsAClearError) {
  train_gaussian(path("g"), 5, false);
  json cfg = train::read_run_config(path("g"));
  cfg["batch"] = "large";
  train::write_run_config(path("g"), cfg);
  auto m = methods::make_method("gaussian");
  methods::RunContext ctx{path("g")};
  std::string e = error_of([&] { train::load_run(*m, ctx); });
  EXPECT_NE(e.find("config.json: field 'batch' must be integer, got \"large\""), std::string::npos)
      << e;
  auto rf = methods::make_method("rectified-flow");
  e = error_of([&] { train::load_run(*rf, ctx); });
  EXPECT_NE(e.find("a run of method 'gaussian', not 'rectified-flow'"), std::string::npos) << e;
  io::write_file_atomic(path("g/config.json"), std::string(100000, '[') + "1");
  e = error_of([&] { train::read_run_config(path("g")); });
  EXPECT_NE(e.find("config.json"), std::string::npos) << e;
}
