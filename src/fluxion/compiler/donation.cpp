#include "fluxion/compiler/donation.h"

#include <algorithm>

#include "fluxion/core/error.h"

namespace fx::compiler {

std::vector<int> plan_donation(const Program& p, const FusionPlan& plan, const Liveness& live,
                               const std::vector<char>& generated,
                               const std::vector<std::pair<int, std::string>>& requests) {
  int N = p.size();
  std::vector<int> into(N, -1);
  for (const auto& [out_index, name] : requests) {
    FX_CHECK(out_index >= 0 && out_index < (int)p.outputs.size(),
             "compile: donate: output {} out of range ({} outputs)", out_index, p.outputs.size());
    int o = p.outputs[out_index], in = -1;
    for (int i = 0; i < N; ++i)
      if (p.node(i).op == Op::input && p.node(i).attrs.name == name && live.step_of[i] >= 0) in = i;
    if (in < 0 || p.node(in).shape != p.node(o).shape || p.node(in).dtype != p.node(o).dtype)
      continue;  // not read, or another shape: a fresh output
    int s = live.step_of[o];
    const Step& stp = plan.schedule[s];
    if (stp.kernel < 0 || !generated[stp.kernel]) continue;
    const FusedKernel& k = plan.kernels[stp.kernel];
    bool aligned = k.reduces.empty() && k.domain == p.node(o).shape &&
                   std::count(k.inputs.begin(), k.inputs.end(), in) == 1 && live.last[in] <= s &&
                   std::count(p.outputs.begin(), p.outputs.end(), o) == 1 && into[o] < 0 &&
                   std::count(into.begin(), into.end(), in) == 0;
    if (aligned) into[o] = in;
  }
  return into;
}

}  // namespace fx::compiler
