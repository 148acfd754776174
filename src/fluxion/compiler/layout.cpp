#include "fluxion/compiler/layout.h"

#include <fmt/format.h>

#include "fluxion/backend/cpu/kernels.h"

namespace fx::compiler {

namespace {

// The inputs of a convolution that are activations (NCHW, same layout as the other
// convolutions want them): the input of conv2d, the output gradient of backward-data,
// both of backward-weights. Weights are left alone: the forward and backward-data
// primitives want them in different blocked layouts.
std::array<char, 2> activation_args(Op op) {
  switch (op) {
    case Op::conv2d:
    case Op::conv2d_backward_data:
      return {1, 0};
    case Op::conv2d_backward_weights:
      return {1, 1};
    default:
      return {0, 0};
  }
}

// Who reads each value, counted once over the schedule for both blocked passes.
struct Readers {
  std::vector<int> conv;  // activation reads by convolutions oneDNN runs (copies may serve them)
  std::vector<std::pair<int, int>> first_conv;  // (step, input) of the first of those
  std::vector<int> library;  // inputs of library steps, those convolutions' reads included
  std::vector<int> other;    // epilogue addends and program outputs
  std::vector<std::vector<std::pair<int, int>>> kernels;  // (kernel, input index) reading it
  std::vector<int> reshape, reshape_step;                 // a reshape of the value, and its step

  Readers(const Program& p, const FusionPlan& plan, const std::vector<char>& onednn) {
    int N = p.size(), S = (int)plan.schedule.size();
    conv.assign(N, 0);
    first_conv.assign(N, {-1, -1});
    library.assign(N, 0);
    other.assign(N, 0);
    kernels.assign(N, {});
    reshape.assign(N, -1);
    reshape_step.assign(N, -1);
    for (int s = 0; s < S; ++s) {
      const Step& st = plan.schedule[s];
      if (st.kernel >= 0) {
        const std::vector<int>& ins = plan.kernels[st.kernel].inputs;
        for (size_t i = 0; i < ins.size(); ++i) kernels[ins[i]].push_back({st.kernel, (int)i});
        continue;
      }
      const Node& n = p.node(st.node);
      for (int in : n.inputs) library[in]++;
      if (st.epilogue >= 0)
        for (int a : plan.epilogues[st.epilogue].addends) other[a]++;
      if (n.op == Op::reshape) {
        reshape[n.inputs[0]] = st.node;
        reshape_step[st.node] = s;
      }
      if (!onednn[s]) continue;
      auto act = activation_args(n.op);
      for (int k = 0; k < 2; ++k)
        if (act[k] && conv[n.inputs[k]]++ == 0) first_conv[n.inputs[k]] = {s, k};
    }
    for (int o : p.outputs) other[o]++;
  }
  // Reads of the plain tensor: all but the oneDNN convolutions' activation reads.
  int plain(int v) const { return (int)kernels[v].size() + library[v] - conv[v] + other[v]; }
};

// Marks the outputs of elementwise fused kernels that only convolutions read, as their
// first reader wants them blocked (layout.h); with dual_writes, also those that other ops
// read as well, which the kernel then stores plain and blocked.
void mark_blocked_writes(const Program& p, FusionPlan& plan, ConvLayoutPlan& layouts,
                         const Readers& r, bool dual_writes) {
  for (int s = 0; s < (int)plan.schedule.size(); ++s) {
    int ki = plan.schedule[s].kernel;
    if (ki < 0) continue;
    FusedKernel& fk = plan.kernels[ki];
    if (!fk.reduces.empty() || fk.domain.size() != 4) continue;
    for (size_t i = 0; i < fk.outputs.size(); ++i) {
      // v: the value the convolutions read, o or its only reader, a reshape to NCHW
      // (GroupNorm's kernel over [N, G, C/G, H*W]), whose step is then skipped.
      int o = fk.outputs[i], v = o;
      if (int view = r.reshape[o]; view >= 0 && r.library[o] == 1 && r.plain(o) == 1 &&
                                   r.conv[o] == 0 && p.node(view).shape.size() == 4)
        v = view;
      const Node& n = p.node(v);
      if ((n.dtype != DType::f32 && n.dtype != DType::bf16) || r.conv[v] == 0) continue;
      // Other readers too: the plain tensor stays, and the copy is one more store per value
      // where the first convolution's reorder would read and write it again.
      const bool dual = r.plain(v) > 0;
      if (dual && (!dual_writes || v != o)) continue;
      auto [s1, k1] = r.first_conv[v];
      const Node& conv = p.node(plan.schedule[s1].node);
      int block = cpu::conv_activation_block(conv, p.node(conv.inputs[0]).shape,
                                             p.node(conv.inputs[1]).shape, k1);
      // One block size and one NCHW view per kernel: its units are blocks of its channels.
      const int64_t hw = n.shape[2] * n.shape[3];
      if (fk.block() != 0 && fk.block() != block) block = 0;
      if (fk.block_positions != 0 && fk.block_positions != hw) block = 0;
      if (block == 0) continue;
      fk.blocked.resize(fk.outputs.size(), 0);
      fk.blocked_view.resize(fk.outputs.size(), -1);
      fk.also_plain.resize(fk.outputs.size(), 0);
      fk.blocked[i] = block;
      fk.blocked_view[i] = v;
      fk.also_plain[i] = dual;
      fk.block_positions = hw;
      layouts.written_blocked[v] = 1;
      layouts.first_read[v] = s;
      layouts.blocked_writes++;
      layouts.dual_writes += dual;
      if (v != o) layouts.skipped[r.reshape_step[v]] = 1;
    }
  }
}

// Marks the results of convolutions that only elementwise fused kernels read, over the
// result's own shape, to stay in the layout the primitive writes (layout.h). Runs after
// mark_blocked_writes: a kernel's blocked operands share one block size and one H*W.
void mark_blocked_reads(const Program& p, FusionPlan& plan, ConvLayoutPlan& layouts,
                        const Readers& r, const std::vector<char>& onednn) {
  // Whether a kernel can read value v in blocks of `block`: elementwise over v's shape.
  auto readable = [&](const FusedKernel& fk, int v, int block) {
    const Shape& d = fk.domain;
    if (!fk.reduces.empty() || d.size() != 4 || p.node(v).shape != d || d[1] % block != 0 ||
        (fk.block_positions != 0 && fk.block_positions != d[2] * d[3]))
      return false;
    return fk.block() == 0 || fk.block() == block;
  };
  for (int s = 0; s < (int)plan.schedule.size(); ++s) {
    if (!onednn[s]) continue;
    int v = plan.schedule[s].node;
    const Node& conv = p.node(v);
    if (conv.op == Op::conv2d_backward_weights || r.library[v] + r.other[v] > 0 ||
        r.kernels[v].empty() || (conv.dtype != DType::f32 && conv.dtype != DType::bf16))
      continue;
    int block =
        cpu::conv_result_block(conv, p.node(conv.inputs[0]).shape, p.node(conv.inputs[1]).shape);
    if (block == 0) continue;
    bool all = true;
    for (auto [k, i] : r.kernels[v]) all = all && readable(plan.kernels[k], v, block);
    if (!all) continue;
    for (auto [k, i] : r.kernels[v]) {
      FusedKernel& fk = plan.kernels[k];
      fk.blocked_inputs.resize(fk.inputs.size(), 0);
      fk.blocked_inputs[i] = block;
      fk.block_positions = conv.shape[2] * conv.shape[3];
    }
    layouts.result_block[s] = block;
    layouts.blocked_reads++;
  }
}

}  // namespace

ConvLayoutPlan assign_conv_layouts(const Program& p, FusionPlan& fusion,
                                   const LayoutOptions& options) {
  const std::vector<Step>& schedule = fusion.schedule;
  int N = p.size(), S = (int)schedule.size();
  ConvLayoutPlan plan;
  plan.shared_arg.assign(S, {0, 0});
  plan.first_read.assign(N, -1);
  plan.last_read.assign(N, -1);
  plan.written_blocked.assign(N, 0);
  plan.result_block.assign(S, 0);
  plan.skipped.assign(S, 0);
  for (FusedKernel& k : fusion.kernels) {
    k.blocked.clear();
    k.blocked_view.clear();
    k.also_plain.clear();
    k.blocked_inputs.clear();
    k.block_positions = 0;
  }
  // oneDNN's path is f32, and bf16 where the CPU has bf16 kernels; f64 runs the reference
  // loops, f16 widens to f32 per call, and f32 problems with few output channels run direct
  // loops on the plain tensors.
  std::vector<char> onednn(S, 0);
  for (int s = 0; s < S; ++s) {
    int id = schedule[s].node;
    if (id < 0 || activation_args(p.node(id).op)[0] == 0) continue;
    const Node& n = p.node(id);
    onednn[s] = cpu::conv_runs_onednn(n, p.node(n.inputs[0]).shape, p.node(n.inputs[1]).shape);
  }
  const Readers readers(p, fusion, onednn);
  if (options.blocked_writes) mark_blocked_writes(p, fusion, plan, readers, options.dual_writes);
  if (options.blocked_reads) mark_blocked_reads(p, fusion, plan, readers, onednn);
  for (int s = 0; s < S; ++s) {
    if (!onednn[s]) continue;
    int id = schedule[s].node;
    auto act = activation_args(p.node(id).op);
    for (int k = 0; k < 2; ++k) {
      if (!act[k]) continue;  // conv2d has one activation: inputs[1] is its weight
      int v = p.node(id).inputs[k];
      if (readers.conv[v] < 2 && !plan.written_blocked[v]) continue;
      plan.shared_arg[s][k] = 1;
      if (plan.first_read[v] < 0) {
        plan.first_read[v] = s;
        plan.values++;
      }
      plan.last_read[v] = s;
      plan.reads++;
    }
  }
  return plan;
}

std::string ConvLayoutPlan::dump(const Program& p) const {
  std::string s = fmt::format(
      "conv layout assignment: {} activations in one shared blocked copy each, read by {} "
      "convolutions; {} written blocked by their kernels ({} of them also plain); {} "
      "convolution results read blocked\n",
      values, reads, blocked_writes, dual_writes, blocked_reads);
  for (int v = 0; v < (int)first_read.size(); ++v)
    if (first_read[v] >= 0)
      s += fmt::format(
          "%{} {}: {} at step {}, last read at step {}\n", v, shape_str(p.node(v).shape),
          written_blocked[v] ? "written blocked" : "copied", first_read[v], last_read[v]);
  return s;
}

}  // namespace fx::compiler
