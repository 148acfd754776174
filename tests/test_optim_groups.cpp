// Parameter groups (optim::ParamGroup): which names a pattern matches, and that a group's
// lr and weight-decay factors change exactly its parameters' update, as in torch.optim.
#include <gtest/gtest.h>

#include "fluxion/api/fx.h"
#include "fluxion/nn/layers.h"
#include "fluxion/optim/trainer.h"
#include "fluxion/run/lru_run.h"

using namespace fx;

TEST(ParamGroups, PatternsMatchWholeNameComponents) {
  optim::ParamGroup g{{"nu_log", "blocks.0", "head.bias"}};
  EXPECT_TRUE(optim::matches(g, "nu_log"));
  EXPECT_TRUE(optim::matches(g, "blocks.3.lru.nu_log"));
  EXPECT_TRUE(optim::matches(g, "blocks.0.glu.weight"));
  EXPECT_TRUE(optim::matches(g, "head.bias"));
  EXPECT_FALSE(optim::matches(g, "blocks.3.lru.xnu_log"));  // not a component
  EXPECT_FALSE(optim::matches(g, "blocks.01.glu.weight"));
  EXPECT_FALSE(optim::matches(g, "head.weight"));
  const std::vector<optim::ParamGroup> groups = {{{"head.bias"}, 2.0}, {{"bias"}, 0.5}};
  EXPECT_EQ(optim::group_of(groups, "head.bias"), &groups[0]);  // the first match wins
  EXPECT_EQ(optim::group_of(groups, "enc.bias"), &groups[1]);
  EXPECT_EQ(optim::group_of(groups, "enc.weight"), nullptr);
}

namespace {

// One SGD step (lr 0.1, weight decay 0.5) of a small MLP; returns the updated parameters.
std::map<std::string, std::vector<double>> one_sgd_step(double weight_decay,
                                                        std::vector<optim::ParamGroup> groups,
                                                        double lr = 0.1) {
  nn::InitRng rng(5);
  nn::MLP model(3, {4}, 2, rng);
  optim::TrainerOptions o;
  o.schedule = {lr, 0, 0, 0.0};
  o.param_groups = std::move(groups);
  optim::Trainer tr(
      model, optim::sgd({.weight_decay = weight_decay}),
      [&](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
        return mse_loss(model(b.at("x")), b.at("y"));
      },
      {{"x", {5, 3}}, {"y", {5, 2}}}, o);
  Tensor x = Tensor::from(
      std::vector<double>{.1, -.2, .3, .4, -.5, .6, .7, .8, -.9, 1., -1.1, 1.2, .13, .14, .15},
      {5, 3});
  Tensor y = Tensor::from(std::vector<double>{1, 0, 0, 1, 1, 1, 0, 0, .5, .5}, {5, 2});
  tr.step({{"x", x}, {"y", y}});
  std::map<std::string, std::vector<double>> out;
  for (auto& [name, p] : model.named_parameters()) out[name] = p->value.to_vector();
  return out;
}

}  // namespace

TEST(ParamGroups, GroupScalesLrAndDecayOfItsParametersOnly) {
  // p1 = p0 - lr * (g + wd p0): recover g and p0 from two plain runs (wd 0 and lr -> 0).
  auto initial = one_sgd_step(0.0, {}, 1e-30);
  auto no_decay = one_sgd_step(0.0, {});
  auto grouped = one_sgd_step(0.5, {{{"bias"}, 0.5, 0.0}});
  ASSERT_EQ(grouped.size(), initial.size());
  for (auto& [name, p0] : initial) {
    const bool is_bias = name.size() >= 4 && name.compare(name.size() - 4, 4, "bias") == 0;
    for (size_t i = 0; i < p0.size(); ++i) {
      const double g = (p0[i] - no_decay[name][i]) / 0.1;
      const double expected = is_bias ? p0[i] - 0.05 * g : p0[i] - 0.1 * (g + 0.5 * p0[i]);
      EXPECT_NEAR(grouped[name][i], expected, 1e-6) << name << "[" << i << "]";
    }
  }
}

TEST(ParamGroups, LruRunExcludesRecurrenceNormsAndBiasesFromDecay) {
  run::LruRunConfig c;
  c.recurrent_lr_scale = 0.5;
  auto groups = run::lru_param_groups(c);
  auto decay_of = [&](const std::string& n) {
    const optim::ParamGroup* g = optim::group_of(groups, n);
    return g ? g->weight_decay_scale : 1.0;
  };
  auto lr_of = [&](const std::string& n) {
    const optim::ParamGroup* g = optim::group_of(groups, n);
    return g ? g->lr_scale : 1.0;
  };
  for (const char* n :
       {"blocks.0.lru.nu_log", "blocks.2.lru.theta_log", "blocks.1.lru.gamma_log"}) {
    EXPECT_EQ(decay_of(n), 0.0) << n;
    EXPECT_EQ(lr_of(n), 0.5) << n;
  }
  for (const char* n : {"blocks.0.norm.weight", "norm.bias", "head.bias", "blocks.0.glu.bias"})
    EXPECT_EQ(decay_of(n), 0.0) << n;
  for (const char* n : {"blocks.0.lru.B", "blocks.0.lru.C", "blocks.0.glu.weight", "head.weight"}) {
    EXPECT_EQ(decay_of(n), 1.0) << n;
    EXPECT_EQ(lr_of(n), 1.0) << n;
  }
}
