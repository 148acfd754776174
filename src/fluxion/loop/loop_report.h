// The study's report: report.md (a summary table, first vs last generation of every loop,
// then one table per loop), curves.png (precision, recall, sliced-W2 against its floor and the
// moments, one curve per family and λ) and samples-<loop>.png (generations 1, 3, 5, ... side by
// side over the held-out real points).
#pragma once
#include <string>
#include <vector>

#include "fluxion/loop/self_consuming_loop.h"

namespace fx::loop {

void write_study_report(const LoopConfig& cfg, const EvalReference& ref,
                        const std::vector<LoopResult>& loops);

// The generations drawn side by side: 1, 3, 5, ... up to `finished`, at most 6 (wider strides
// beyond 11 generations), the last one always included.
std::vector<int64_t> scatter_generations(int64_t finished);

}  // namespace fx::loop
