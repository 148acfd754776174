// The same MLP regression, same initial weights and data, trained 50 Adam steps in
// fluxion and in PyTorch (fixtures/make_mlp_adam_fixture.py): losses and final weights
// must agree. Tolerance: f32 round-off differs op by op (summation order, exp), and Adam
// amplifies early differences a little; 2e-4 relative on losses and 2e-3 absolute on
// weights (weights are O(0.1–1)) holds with margin.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/nn/layers.h"
#include "fluxion/optim/trainer.h"

using namespace fx;

namespace {

nlohmann::json load_fixture(const std::string& name) {
  std::ifstream f(std::string(FLUXION_FIXTURE_DIR) + "/" + name);
  EXPECT_TRUE(f.good()) << name;
  return nlohmann::json::parse(f);
}

Tensor tensor_of(const nlohmann::json& j, Shape shape) {
  return Tensor::from(j.get<std::vector<double>>(), shape);
}

}  // namespace

TEST(TrainParity, MlpAdamMatchesPyTorchFor50Steps) {
  auto fx_json = load_fixture("mlp_adam_50.json");
  auto dims = fx_json["shape"].get<std::vector<int64_t>>();
  int64_t n = dims[0], in = dims[1], h = dims[2], out = dims[3];
  nn::InitRng rng(1);
  nn::MLP model(in, {h, h}, out, rng, "silu");
  // torch.nn.Sequential names its Linear layers 0, 2, 4 (activations are 1, 3).
  std::map<std::string, std::string> torch_name = {{"0", "0"}, {"1", "2"}, {"2", "4"}};
  for (auto& [name, p] : model.named_parameters()) {
    std::string layer = name.substr(0, name.find('.'));
    std::string key = torch_name[layer] + name.substr(name.find('.'));
    auto& j = fx_json["init"][key];
    p->value = tensor_of(j["data"], j["shape"].get<Shape>());
  }
  Tensor x = tensor_of(fx_json["x"], {n, in}), y = tensor_of(fx_json["y"], {n, out});

  optim::TrainerOptions opts;
  opts.schedule.base_lr = fx_json["lr"].get<double>();
  optim::Trainer trainer(
      model, optim::adam(),
      [&](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
        return mse_loss(model(b.at("x")), b.at("y"));
      },
      {{"x", {n, in}}, {"y", {n, out}}}, opts);

  auto losses = fx_json["losses"].get<std::vector<double>>();
  for (size_t s = 0; s < losses.size(); ++s) {
    double loss = trainer.step({{"x", x}, {"y", y}});
    EXPECT_NEAR(loss, losses[s], 2e-4 * std::abs(losses[s])) << "step " << s + 1;
  }
  for (auto& [name, p] : model.named_parameters()) {
    std::string layer = name.substr(0, name.find('.'));
    std::string key = torch_name[layer] + name.substr(name.find('.'));
    auto want = fx_json["final"][key]["data"].get<std::vector<double>>();
    auto got = p->value.to_vector();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_NEAR(got[i], want[i], 2e-3) << name << "[" << i << "]";
  }
}

TEST(TrainParity, NonFiniteLossIsReportedWithStepAndLeavesWeights) {
  nn::InitRng rng(3);
  nn::MLP model(2, {4}, 1, rng);
  optim::Trainer trainer(model, optim::sgd(),
                         [&](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
                           return mean(log(model(b.at("x")) * 0.0 - 1.0));  // log of -1: NaN
                         },
                         {{"x", {3, 2}}}, {});
  auto before = model.named_parameters()[0].second->value.to_vector();
  try {
    trainer.step({{"x", Tensor::zeros({3, 2})}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("step 1"), std::string::npos) << e.what();
  }
  EXPECT_EQ(model.named_parameters()[0].second->value.to_vector(), before);
}

TEST(TrainParity, SameSeedIsBitIdentical) {
  auto run = [] {
    nn::InitRng rng(7);
    nn::MLP model(2, {32, 32}, 2, rng);
    optim::TrainerOptions o;
    o.seed = 11;
    o.max_grad_norm = 1.0;
    o.ema_decay = 0.9;
    optim::Trainer tr(
        model, optim::adamw(),
        [&](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
          Var noise = random_normal(key, {256, 2});
          return mse_loss(model(noise), noise * 2.0);
        },
        {}, o);
    std::vector<double> out;
    for (int i = 0; i < 10; ++i) out.push_back(tr.step({}));
    for (auto& [n, t] : tr.ema_weights()) {
      auto v = t.to_vector();
      out.insert(out.end(), v.begin(), v.end());
    }
    return out;
  };
  EXPECT_EQ(run(), run());
}
