// Donation at compile time: an elementwise update may take its input's buffer only when
// nothing reads the input afterwards and generated code writes it.
#include <gtest/gtest.h>

#include <map>

#include "fluxion/api/fx.h"
#include "fluxion/compiler/compiler.h"
#include "fluxion/compiler/donation.h"
#include "fluxion/core/error.h"
#include "fluxion/nn/layers.h"
#include "fluxion/optim/trainer.h"

using namespace fx;
using namespace fx::compiler;

namespace {

struct Planned {
  Program p;
  FusionPlan plan;
  Liveness live;
};

Planned plan_of(const Graph& g, const std::vector<Var>& outs) {
  Planned r{Program(g, outs), {}, {}};
  r.plan = plan_fusion(r.p);
  r.live =
      compute_liveness(r.p, r.plan, no_shared_layouts((int)r.plan.schedule.size(), r.p.size()));
  return r;
}

}  // namespace

TEST(CompilerDonation, UpdateTakesItsParametersBuffer) {
  Graph g;
  Var w = g.input("w", {16});
  Var grad = g.input("g", {16});
  Var w2 = w - grad * 0.1;
  Planned r = plan_of(g, {w2});
  std::vector<char> generated(r.plan.kernels.size(), 1);
  std::vector<int> into = plan_donation(r.p, r.plan, r.live, generated, {{0, "w"}});
  EXPECT_EQ(into[w2.id], w.id);
  // The reference fallback writes fresh tensors: no donation.
  std::vector<char> none(r.plan.kernels.size(), 0);
  EXPECT_EQ(plan_donation(r.p, r.plan, r.live, none, {{0, "w"}})[w2.id], -1);
}

TEST(CompilerDonation, RefusedForAnotherShapeOrAnUnreadInput) {
  Graph g;
  Var w = g.input("w", {16});
  Var b = g.input("b", {1});
  Var y = w * 2.0;
  Planned r = plan_of(g, {y});
  std::vector<char> generated(r.plan.kernels.size(), 1);
  std::vector<int> into = plan_donation(r.p, r.plan, r.live, generated, {{0, "b"}, {0, "nope"}});
  EXPECT_EQ(into[y.id], -1);
  (void)b;
}

TEST(CompilerDonation, OutputIndexOutOfRangeIsAnError) {
  Graph g;
  Var w = g.input("w", {4});
  Var y = w + 1.0;
  Planned r = plan_of(g, {y});
  std::vector<char> generated(r.plan.kernels.size(), 1);
  EXPECT_THROW(plan_donation(r.p, r.plan, r.live, generated, {{3, "w"}}), Error);
}

// The in-place optimizer update, end to end: a compiled Adam step (fp32 and the bf16
// product policy) updates every parameter and both of its moments where they live. The
// step's outputs are donated, so none of them takes planned or fresh memory, and no buffer
// moves from one step to the next.
TEST(CompilerDonation, AdamUpdatesEveryParameterAndMomentWhereItLives) {
  for (amp::Precision prec : {amp::Precision::fp32, amp::Precision::bf16}) {
    nn::InitRng rng{3};
    nn::MLP model{6, {32, 32}, 4, rng, "silu"};
    optim::TrainerOptions o;
    o.compile = true;
    o.precision.precision = prec;
    o.precision.measure = false;  // the policy as written, whatever this CPU measures
    optim::Trainer tr(
        model, optim::adam(),
        [&model](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
          return mse_loss(model(b.at("x")), b.at("y"));
        },
        std::vector<optim::BatchInput>{{"x", {16, 6}}, {"y", {16, 4}}}, o);
    const size_t params = model.named_parameters().size();
    ASSERT_EQ(params, 6u);
    EXPECT_EQ(tr.executable()->stats().donated, (int)(3 * params)) << amp::precision_name(prec);
    auto buffers = [&] {  // raw addresses only: a held Tensor would block the donation
      std::map<std::string, const void*> at;
      for (auto& [name, p] : model.named_parameters()) at[name] = p->value.raw();
      for (auto& [name, t] : tr.state()) at[name] = t.raw();
      return at;
    };
    auto batch = [](uint64_t s) {
      nn::InitRng r{s};
      return Feeds{{"x", r.normal({16, 6}, 0.0, 1.0)}, {"y", r.normal({16, 4}, 0.0, 1.0)}};
    };
    tr.step(batch(1));
    const std::map<std::string, const void*> before = buffers();
    ASSERT_EQ(before.size(), 3 * params);
    const std::vector<double> w0 = model.named_parameters().begin()->second->value.to_vector();
    tr.step(batch(2));
    tr.step(batch(3));
    EXPECT_EQ(buffers(), before) << amp::precision_name(prec);
    EXPECT_NE(model.named_parameters().begin()->second->value.to_vector(), w0);
  }
}
