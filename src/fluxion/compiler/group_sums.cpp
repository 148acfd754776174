#include "fluxion/compiler/group_sums.h"

#include "fluxion/backend/cpu/kernels.h"
#include "fluxion/util/env.h"

namespace fx::compiler {

namespace {

// The row-sum kernel that takes the variance's sum over the rows `view` of the mean `mean`:
// exactly sub(rows, mean), mul(d, d), reduce_sum(last axis), writing only the sum, where
// rows is `view` or another reshape of its input to the same shape; -1 if none.
int variance_kernel(const Program& p, const FusionPlan& plan, int view, int mean) {
  const Node& v = p.node(view);
  for (size_t k = 0; k < plan.kernels.size(); ++k) {
    const FusedKernel& fk = plan.kernels[k];
    if (!fk.row_sums || fk.members.size() != 3 || fk.outputs.size() != 1 || fk.domain != v.shape)
      continue;
    const Node& d = p.node(fk.members[0]);
    const Node& sq = p.node(fk.members[1]);
    const Node& sum = p.node(fk.members[2]);
    if (d.op != Op::sub || d.inputs[1] != mean || sq.op != Op::mul ||
        sq.inputs != std::vector<int>{fk.members[0], fk.members[0]} || sum.op != Op::reduce_sum ||
        sum.inputs[0] != fk.members[1] || fk.outputs[0] != fk.members[2] || sum.dtype != DType::f32)
      continue;
    const Node& rows = p.node(d.inputs[0]);
    if (d.inputs[0] == view ||
        (rows.op == Op::reshape && rows.inputs[0] == v.inputs[0] && rows.shape == v.shape))
      return (int)k;
  }
  return -1;
}

// Whether `mean` is the only output of a one-node kernel computing div(sum, c), c a scalar
// f32 constant, one value per row.
bool is_mean_of(const Program& p, const FusionPlan& plan, int mean, int sum,
                const std::vector<std::pair<int, int>>& producer) {
  const int k = producer[mean].first;
  if (k < 0) return false;
  const FusedKernel& fk = plan.kernels[k];
  const Node& n = p.node(mean);
  const Shape& s = p.node(sum).shape;  // one value per row, kept in place of the row's axis
  return fk.members == std::vector<int>{mean} && n.op == Op::div && n.inputs[0] == sum &&
         n.dtype == DType::f32 && inlined_constant(p, n.inputs[1]) &&
         p.node(n.inputs[1]).dtype == DType::f32 && !s.empty() && s.back() == 1 &&
         s.size() == p.node(p.node(sum).inputs[0]).shape.size();
}

void add_output(FusedKernel& fk, int id) {
  fk.outputs.push_back(id);
  if (!fk.blocked.empty()) fk.blocked.push_back(0);  // per-output lists stay aligned
  if (!fk.blocked_view.empty()) fk.blocked_view.push_back(-1);
  if (!fk.also_plain.empty()) fk.also_plain.push_back(0);
}

}  // namespace

int fuse_group_sums(const Program& p, FusionPlan& plan) {
  if (env_flag("FLUXION_NO_GROUP_SUMS")) return 0;
  const int N = p.size();
  std::vector<std::pair<int, int>> producer(N, {-1, -1});  // value -> (kernel, output index)
  for (size_t k = 0; k < plan.kernels.size(); ++k)
    for (size_t i = 0; i < plan.kernels[k].outputs.size(); ++i)
      producer[plan.kernels[k].outputs[i]] = {(int)k, (int)i};
  std::vector<std::vector<int>> readers_of(N);  // kernel members reading each value
  for (const FusedKernel& fk : plan.kernels)
    for (int m : fk.members)
      for (int in : p.node(m).inputs) readers_of[in].push_back(m);
  std::vector<int> step_of_kernel(plan.kernels.size(), -1);
  for (size_t s = 0; s < plan.schedule.size(); ++s)
    if (plan.schedule[s].kernel >= 0) step_of_kernel[plan.schedule[s].kernel] = (int)s;
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
    add_output(fk, st.node);
    FusedKernel::GroupSum g{st.node, of};
    // The variance's sum too, when the mean is sum / count and one kernel sums the squared
    // deviations: the kernel has the rows in cache and can compute the mean itself.
    for (int mean : readers_of[st.node]) {
      const int kv = is_mean_of(p, plan, mean, st.node, producer)
                         ? variance_kernel(p, plan, sum.inputs[0], mean)
                         : -1;
      if (kv < 0 || step_of_kernel[kv] < 0) continue;
      g.squares = plan.kernels[kv].outputs[0];
      add_output(fk, g.squares);
      plan.schedule[step_of_kernel[kv]].absorbed = true;
      ++moved;
      break;
    }
    fk.group_sums.push_back(g);
    st.absorbed = true;
    ++moved;
  }
  return moved;
}

}  // namespace fx::compiler
