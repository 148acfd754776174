#include "fluxion/compiler/group_sums.h"

#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/util/env.h"

namespace fx::compiler {

int fuse_group_sums(const Program& p, FusionPlan& plan) {
  if (env_flag("FLUXION_NO_GROUP_SUMS")) return 0;
  const int N = p.size();
  std::vector<std::pair<int, int>> producer(N, {-1, -1});  // value -> (kernel, output index)
  for (size_t k = 0; k < plan.kernels.size(); ++k)
    for (size_t i = 0; i < plan.kernels[k].outputs.size(); ++i)
      producer[plan.kernels[k].outputs[i]] = {(int)k, (int)i};
  int moved = 0;
  for (Step& st : plan.schedule) {
    if (st.node < 0 || st.absorbed || st.epilogue >= 0) continue;
    const Node& sum = p.node(st.node);
    if (sum.op != Op::reduce_sum || sum.dtype != DType::f32) continue;
    const Node& view = p.node(sum.inputs[0]);
    if (view.op != Op::reshape) continue;
    const int of = view.inputs[0];
    auto [k, i] = producer[of];
    if (k < 0 || p.node(of).dtype != DType::f32) continue;
    FusedKernel& fk = plan.kernels[k];
    const int64_t block = fk.block(), hw = fk.block_positions;
    const int64_t rank = (int64_t)view.shape.size(), row = rank > 0 ? view.shape.back() : 0;
    // Rows summed as the library does them for this shape: over the last axis, 16 lanes
    // (kWideRowSum or more values), more than one row; each row inside one unit of the
    // kernel, read back from its plain output (which the library would have read).
    const bool stored_plain = fk.block_of(i) == 0 || fk.keeps_plain(i);
    if (block == 0 || hw <= 0 || !stored_plain ||
        sum.attrs.axes != std::vector<int64_t>{rank - 1} || row < cpu::kWideRowSum ||
        numel(view.shape) / row < 2 || (block * hw) % row != 0)
      continue;
    fk.outputs.push_back(st.node);
    if (!fk.blocked.empty()) fk.blocked.push_back(0);  // per-output lists stay aligned
    if (!fk.blocked_view.empty()) fk.blocked_view.push_back(-1);
    if (!fk.also_plain.empty()) fk.also_plain.push_back(0);
    fk.group_sums.push_back({st.node, of});
    st.absorbed = true;
    ++moved;
  }
  return moved;
}

}  // namespace fx::compiler
