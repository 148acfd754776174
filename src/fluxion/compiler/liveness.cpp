#include "fluxion/compiler/liveness.h"

#include <algorithm>

#include "fluxion/ir/op_def.h"

namespace fx::compiler {

Liveness compute_liveness(const Program& p, const FusionPlan& plan, const ConvLayoutPlan& layouts) {
  int N = p.size(), S = (int)plan.schedule.size();
  Liveness L;
  L.step_of.assign(N, -1);
  L.last.assign(N, -1);
  L.alias.assign(N, 0);
  for (int s = 0; s < S; ++s) {
    const Step& stp = plan.schedule[s];
    if (stp.absorbed) continue;  // written at its producing kernel's step (kernel branch below)
    if (stp.node >= 0) {
      L.step_of[stp.node] = s;
      L.alias[stp.node] = op_def(p.node(stp.node).op).aliases_input;
      const std::vector<int>& ins = p.node(stp.node).inputs;
      if (layouts.skipped[s]) continue;  // reads nothing: its value is a blocked copy
      for (size_t k = 0; k < ins.size(); ++k) {
        bool later_shared_read =
            k < 2 && layouts.shared_arg[s][k] && layouts.first_read[ins[k]] != s;
        if (!later_shared_read) L.last[ins[k]] = std::max(L.last[ins[k]], s);
      }
      if (stp.epilogue >= 0) {  // the dot's call writes the epilogue's output instead
        const MatmulEpilogue& e = plan.epilogues[stp.epilogue];
        L.step_of[stp.node] = -1;
        L.step_of[e.output()] = s;
        for (int a : e.addends) L.last[a] = std::max(L.last[a], s);
      }
    } else {
      const FusedKernel& k = plan.kernels[stp.kernel];
      for (int m : k.outputs) L.step_of[m] = s;  // members may be recomputed elsewhere too
      for (int in : k.inputs) L.last[in] = std::max(L.last[in], s);
    }
  }
  for (int o : p.outputs) L.last[o] = kLiveToTheEnd;
  // Views are later in id order than what they view: one backward sweep covers chains.
  for (int i = N - 1; i >= 0; --i)
    if (L.step_of[i] >= 0 && L.alias[i]) {
      int in = p.node(i).inputs[0];
      L.last[in] = std::max(L.last[in], L.last[i]);
    }
  L.free_after.assign(S, {});
  for (int i = 0; i < N; ++i)
    if (L.step_of[i] >= 0 && L.last[i] >= 0 && L.last[i] != kLiveToTheEnd)
      L.free_after[L.last[i]].push_back(i);
  return L;
}

ConvLayoutPlan no_shared_layouts(int steps, int values) {
  ConvLayoutPlan l;
  l.shared_arg.assign(steps, {0, 0});
  l.first_read.assign(values, -1);
  l.last_read.assign(values, -1);
  l.result_block.assign(steps, 0);
  l.skipped.assign(steps, 0);
  return l;
}

}  // namespace fx::compiler
