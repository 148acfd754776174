// Donation at compile time: an elementwise update may take its input's buffer only when
// nothing reads the input afterwards and generated code writes it.
#include <gtest/gtest.h>

#include "fluxion/api/fx.h"
#include "fluxion/compiler/donation.h"
#include "fluxion/core/error.h"

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
