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

// Marks the outputs of elementwise fused kernels that only convolutions read, as their
// first reader wants them blocked (layout.h). reads: per value, its conv activation reads;
// onednn: per step, a convolution oneDNN runs (whose activations may be copies).
void mark_blocked_writes(const Program& p, FusionPlan& plan, ConvLayoutPlan& layouts,
                         const std::vector<int>& reads,
                         const std::vector<std::pair<int, int>>& first_conv_read,
                         const std::vector<char>& onednn) {
  int N = p.size(), S = (int)plan.schedule.size();
  std::vector<int> other_reads(N, 0);  // reads of the plain tensor
  for (int s = 0; s < S; ++s) {
    const Step& st = plan.schedule[s];
    if (st.kernel >= 0) {
      for (int in : plan.kernels[st.kernel].inputs) other_reads[in]++;
      continue;
    }
    const Node& n = p.node(st.node);
    auto act = onednn[s] ? activation_args(n.op) : std::array<char, 2>{0, 0};
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (k >= 2 || !act[k]) other_reads[n.inputs[k]]++;
    if (st.epilogue >= 0)
      for (int a : plan.epilogues[st.epilogue].addends) other_reads[a]++;
  }
  for (int o : p.outputs) other_reads[o]++;
  // An output read only by one reshape to NCHW that only convolutions read (GroupNorm's
  // kernel over [N, G, C/G, H*W]): the kernel writes the reshape's copy, the reshape step
  // is skipped.
  std::vector<int> only_reshape(N, -1), reshape_step(N, -1), library_readers(N, 0);
  for (int s = 0; s < S; ++s) {
    int id = plan.schedule[s].node;
    if (id < 0) continue;
    for (int in : p.node(id).inputs) library_readers[in]++;
    if (p.node(id).op == Op::reshape) {
      only_reshape[p.node(id).inputs[0]] = id;
      reshape_step[id] = s;
    }
  }
  for (int s = 0; s < S; ++s) {
    int ki = plan.schedule[s].kernel;
    if (ki < 0) continue;
    FusedKernel& fk = plan.kernels[ki];
    if (!fk.reduces.empty() || fk.domain.size() != 4) continue;
    for (size_t i = 0; i < fk.outputs.size(); ++i) {
      int o = fk.outputs[i], v = o;  // v: the value the convolutions read, o or its reshape
      if (int r = only_reshape[o]; r >= 0 && library_readers[o] == 1 && other_reads[o] == 1 &&
                                   reads[o] == 0 && p.node(r).shape.size() == 4)
        v = r;
      const Node& n = p.node(v);
      if ((n.dtype != DType::f32 && n.dtype != DType::bf16) || reads[v] == 0 || other_reads[v] > 0)
        continue;
      auto [s1, k1] = first_conv_read[v];
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
      fk.blocked[i] = block;
      fk.blocked_view[i] = v;
      fk.block_positions = hw;
      layouts.written_blocked[v] = 1;
      layouts.first_read[v] = s;
      layouts.blocked_writes++;
      if (v != o) layouts.skipped[reshape_step[v]] = 1;
    }
  }
}

// Marks the results of convolutions that only elementwise fused kernels read, over the
// result's own shape, to stay in the layout the primitive writes (layout.h). Runs after
// mark_blocked_writes: a kernel's blocked operands share one block size.
void mark_blocked_reads(const Program& p, FusionPlan& plan, ConvLayoutPlan& layouts,
                        const std::vector<int>& reads, const std::vector<char>& onednn) {
  int N = p.size(), S = (int)plan.schedule.size();
  std::vector<int> library_reads(N, 0);  // reads by anything but a fused kernel
  for (int s = 0; s < S; ++s) {
    const Step& st = plan.schedule[s];
    if (st.kernel >= 0) continue;
    for (int in : p.node(st.node).inputs) library_reads[in]++;
    if (st.epilogue >= 0)
      for (int a : plan.epilogues[st.epilogue].addends) library_reads[a]++;
  }
  for (int o : p.outputs) library_reads[o]++;
  // The block a kernel can read value v in, or 0: an elementwise kernel over v's shape.
  auto readable = [&](const FusedKernel& fk, int v, int block) {
    const Node& n = p.node(v);
    if (!fk.reduces.empty() || fk.domain.size() != 4 || n.shape != fk.domain ||
        fk.domain[1] % block != 0 ||
        (fk.block_positions != 0 && fk.block_positions != fk.domain[2] * fk.domain[3]))
      return false;
    int b = fk.block();
    return b == 0 || b == block;
  };
  for (int s = 0; s < S; ++s) {
    if (!onednn[s]) continue;
    int v = plan.schedule[s].node;
    const Node& conv = p.node(v);
    if (conv.op == Op::conv2d_backward_weights || library_reads[v] > 0 || reads[v] > 0 ||
        (conv.dtype != DType::f32 && conv.dtype != DType::bf16))
      continue;
    int block =
        cpu::conv_result_block(conv, p.node(conv.inputs[0]).shape, p.node(conv.inputs[1]).shape);
    if (block == 0) continue;
    bool all = true, any = false;
    for (const FusedKernel& fk : plan.kernels)
      for (int in : fk.inputs)
        if (in == v) {
          any = true;
          all = all && readable(fk, v, block);
        }
    if (!all || !any) continue;
    for (FusedKernel& fk : plan.kernels)
      for (size_t i = 0; i < fk.inputs.size(); ++i)
        if (fk.inputs[i] == v) {
          fk.blocked_inputs.resize(fk.inputs.size(), 0);
          fk.blocked_inputs[i] = block;
        }
    layouts.result_block[s] = block;
    layouts.blocked_reads++;
  }
}

}  // namespace

ConvLayoutPlan assign_conv_layouts(const Program& p, FusionPlan& fusion, bool blocked_writes,
                                   bool blocked_reads) {
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
    k.blocked_inputs.clear();
    k.block_positions = 0;
  }
  std::vector<int> reads(N, 0);
  std::vector<std::pair<int, int>> first_conv_read(N, {-1, -1});
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
  for (int s = 0; s < S; ++s) {
    if (!onednn[s]) continue;
    int id = schedule[s].node;
    auto act = activation_args(p.node(id).op);
    for (int k = 0; k < 2; ++k)
      if (act[k]) {
        int v = p.node(id).inputs[k];
        if (reads[v]++ == 0) first_conv_read[v] = {s, k};
      }
  }
  if (blocked_writes) mark_blocked_writes(p, fusion, plan, reads, first_conv_read, onednn);
  if (blocked_reads) mark_blocked_reads(p, fusion, plan, reads, onednn);
  for (int s = 0; s < S; ++s) {
    if (!onednn[s]) continue;
    int id = schedule[s].node;
    auto act = activation_args(p.node(id).op);
    for (int k = 0; k < 2; ++k) {
      if (!act[k]) continue;  // conv2d has one activation: inputs[1] is its weight
      int v = p.node(id).inputs[k];
      if (reads[v] < 2 && !plan.written_blocked[v]) continue;
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
      "convolutions; {} written blocked by their kernels; {} convolution results read "
      "blocked\n",
      values, reads, blocked_writes, blocked_reads);
  for (int v = 0; v < (int)first_read.size(); ++v)
    if (first_read[v] >= 0)
      s += fmt::format(
          "%{} {}: {} at step {}, last read at step {}\n", v, shape_str(p.node(v).shape),
          written_blocked[v] ? "written blocked" : "copied", first_read[v], last_read[v]);
  return s;
}

}  // namespace fx::compiler
