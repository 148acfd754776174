// The pass sequence: each pass runs in order, is counted, and the hook sees each result.
#include <gtest/gtest.h>

#include "fluxion/api/fx.h"
#include "fluxion/compiler/pipeline.h"

using namespace fx;
using namespace fx::compiler;

TEST(CompilerPipeline, RunsPassesInOrderWithStats) {
  Graph g;
  Var x = g.input("x", {4});
  Var unused = exp(x);
  (void)unused;
  Var y = (x * 1.0) + 0.0;
  Program p(g, {y});
  EXPECT_EQ(live_count(p), 5);  // x, 1, mul, 0, add
  std::vector<std::string> seen;
  std::vector<PassStat> st =
      run_pipeline(p, default_pipeline(), [&](int k, const std::string& name, const Program& q) {
        EXPECT_EQ(k, (int)seen.size() + 1);
        EXPECT_GT(q.size(), 0);
        seen.push_back(name);
      });
  ASSERT_EQ(st.size(), default_pipeline().size());
  ASSERT_EQ(seen.size(), st.size());
  for (size_t i = 0; i < st.size(); ++i) EXPECT_EQ(st[i].name, seen[i]);
  EXPECT_EQ(st.back().nodes_after, live_count(p));
  EXPECT_EQ(live_count(p), 1);  // x*1+0 simplifies to x
}

TEST(CompilerPipeline, EmptyPipelineLeavesTheProgram) {
  Graph g;
  Var x = g.input("x", {4});
  Program p(g, {exp(x)});
  EXPECT_TRUE(run_pipeline(p, {}).empty());
  EXPECT_EQ(live_count(p), 2);
}
