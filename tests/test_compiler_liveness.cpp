// Liveness over a schedule: last reads, views keeping their input alive, outputs never
// freed.
#include <gtest/gtest.h>

#include <algorithm>

#include "fluxion/api/fx.h"
#include "fluxion/compiler/liveness.h"

using namespace fx;
using namespace fx::compiler;

namespace {

// Every live node as its own step, in id order (compile() without fusion).
FusionPlan node_by_node(const Program& p) {
  FusionPlan plan;
  std::vector<char> live = live_nodes(p);
  for (int i = 0; i < p.size(); ++i)
    if (live[i]) plan.schedule.push_back({i, -1});
  return plan;
}

bool contains(const std::vector<int>& v, int x) { return std::count(v.begin(), v.end(), x) > 0; }

}  // namespace

TEST(CompilerLiveness, LastReadsViewsAndOutputs) {
  Graph g;
  Var x = g.input("x", {4});
  Var a = exp(x);
  Var r = reshape(a, {2, 2});  // a view of a: a lives as long as r
  Var c = -r;
  Var d = c * c;
  Program p(g, {d});
  FusionPlan plan = node_by_node(p);
  Liveness L = compute_liveness(p, plan, no_shared_layouts((int)plan.schedule.size(), p.size()));

  EXPECT_EQ(L.last[x.id], L.step_of[a.id]);
  EXPECT_TRUE(L.alias[r.id]);
  EXPECT_FALSE(L.alias[c.id]);
  EXPECT_EQ(L.last[r.id], L.step_of[c.id]);
  EXPECT_EQ(L.last[a.id], L.last[r.id]);  // extended by its view
  EXPECT_EQ(L.last[c.id], L.step_of[d.id]);
  EXPECT_EQ(L.last[d.id], kLiveToTheEnd);
  EXPECT_TRUE(contains(L.free_after[L.step_of[c.id]], a.id));
  EXPECT_TRUE(contains(L.free_after[L.step_of[c.id]], r.id));
  for (const auto& f : L.free_after) EXPECT_FALSE(contains(f, d.id));  // the caller keeps it
}

TEST(CompilerLiveness, FusedKernelReadsItsInputs) {
  Graph g;
  Var x = g.input("x", {8});
  Var y = exp(x) * 2.0 + x;
  Program p(g, {y});
  FusionPlan plan = plan_fusion(p);
  ASSERT_EQ(plan.kernels.size(), 1u);
  Liveness L = compute_liveness(p, plan, no_shared_layouts((int)plan.schedule.size(), p.size()));
  int ks = L.step_of[y.id];
  ASSERT_GE(ks, 0);
  EXPECT_EQ(plan.schedule[ks].kernel, 0);
  EXPECT_EQ(L.last[x.id], ks);
  EXPECT_EQ(L.last[y.id], kLiveToTheEnd);
}
