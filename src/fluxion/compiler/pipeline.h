// The pass sequence of compile(): each pass in order, timed and counted, with a hook after
// each (FLUXION_DUMP writes the program there). Backend-neutral: passes are Program ->
// Program and know no kernels.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "fluxion/compiler/passes.h"

namespace fx::compiler {

struct PassStat {
  std::string name;
  int nodes_after = 0;
  double ms = 0.0;
};

// Nodes some output depends on.
int live_count(const Program& p);

// Called after pass number k (from 1) with the rewritten program.
using AfterPass = std::function<void(int k, const std::string& name, const Program& p)>;

// Runs `passes` on p in order, replacing p by each result.
std::vector<PassStat> run_pipeline(Program& p, const std::vector<PassInfo>& passes,
                                   const AfterPass& after = {});

}  // namespace fx::compiler
