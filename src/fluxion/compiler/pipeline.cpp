#include "fluxion/compiler/pipeline.h"

#include <chrono>

namespace fx::compiler {

int live_count(const Program& p) {
  int c = 0;
  for (char l : live_nodes(p)) c += l;
  return c;
}

std::vector<PassStat> run_pipeline(Program& p, const std::vector<PassInfo>& passes,
                                   const AfterPass& after) {
  std::vector<PassStat> stats;
  int k = 1;
  for (const PassInfo& pass : passes) {
    auto t0 = std::chrono::steady_clock::now();
    p = pass.run(p);
    double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    stats.push_back({pass.name, live_count(p), ms});
    if (after) after(k++, pass.name, p);
  }
  return stats;
}

}  // namespace fx::compiler
