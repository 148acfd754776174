#include "fluxion/compiler/layout.h"

#include <fmt/format.h>

#include "fluxion/backend/cpu/conv_geometry.h"

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

}  // namespace

ConvLayoutPlan assign_conv_layouts(const Program& p, const std::vector<Step>& schedule) {
  int N = p.size(), S = (int)schedule.size();
  ConvLayoutPlan plan;
  plan.shared_arg.assign(S, {0, 0});
  plan.first_read.assign(N, -1);
  plan.last_read.assign(N, -1);
  std::vector<int> reads(N, 0);
  // oneDNN's path is f32; f64 runs the reference loops, bf16/f16 widen to f32 per call, and
  // f32 problems with few output channels run direct loops on the plain tensors.
  auto conv_step = [&](int s) {
    int id = schedule[s].node;
    if (id < 0 || p.node(id).dtype != DType::f32 || activation_args(p.node(id).op)[0] == 0)
      return -1;
    const Node& n = p.node(id);
    const Shape& w = n.op == Op::conv2d_backward_weights ? n.shape : p.node(n.inputs[1]).shape;
    return cpu::conv_runs_direct(w, n.attrs) ? -1 : id;
  };
  for (int s = 0; s < S; ++s) {
    int id = conv_step(s);
    if (id < 0) continue;
    auto act = activation_args(p.node(id).op);
    for (int k = 0; k < 2; ++k)
      if (act[k]) reads[p.node(id).inputs[k]]++;
  }
  for (int s = 0; s < S; ++s) {
    int id = conv_step(s);
    if (id < 0) continue;
    auto act = activation_args(p.node(id).op);
    for (int k = 0; k < 2; ++k) {
      if (!act[k]) continue;  // conv2d has one activation: inputs[1] is its weight
      int v = p.node(id).inputs[k];
      if (reads[v] < 2) continue;
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
      "convolutions\n",
      values, reads);
  for (int v = 0; v < (int)first_read.size(); ++v)
    if (first_read[v] >= 0)
      s += fmt::format("%{} {}: copied at step {}, last read at step {}\n", v,
                       shape_str(p.node(v).shape), first_read[v], last_read[v]);
  return s;
}

}  // namespace fx::compiler
