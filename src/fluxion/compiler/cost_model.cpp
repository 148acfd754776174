#include "fluxion/compiler/cost_model.h"

#include <fmt/format.h>

#include "fluxion/ir/op_def.h"

namespace fx::compiler {

namespace {

double elements(const Shape& s) { return (double)numel(s); }
double bytes_of(const Node& n) { return elements(n.shape) * dtype_size(n.dtype); }

// Values that are no arithmetic: leaves, views and data movement.
bool moves_only(Op op) {
  const OpDef& d = op_def(op);
  return op == Op::input || op == Op::constant || d.aliases_input ||
         (d.elementwise == ElementwiseKind::none && op != Op::reduce_sum && op != Op::reduce_max &&
          op != Op::linear_scan && op != Op::scan_coefficient_grad);
}

// A step's traffic: what it reads plus what it writes. Leaves and views move nothing.
double step_bytes(const Program& p, int id) {
  const Node& n = p.node(id);
  if (n.op == Op::input || n.op == Op::constant || op_def(n.op).aliases_input) return 0;
  double b = bytes_of(n);
  for (int in : n.inputs) b += bytes_of(p.node(in));
  return b;
}

}  // namespace

Cost& Cost::operator+=(const Cost& o) {
  matmul_flops += o.matmul_flops;
  conv_flops += o.conv_flops;
  other_flops += o.other_flops;
  bytes += o.bytes;
  return *this;
}

Cost Cost::operator*(double k) const {
  return {matmul_flops * k, conv_flops * k, other_flops * k, bytes * k};
}

Cost node_flops(const Program& p, int id) {
  const Node& n = p.node(id);
  Cost c;
  switch (n.op) {
    case Op::dot: {  // [..., M, N] outputs, each a K-long dot product
      const Shape& a = p.node(n.inputs[0]).shape;
      double k = (double)(n.attrs.transpose_a ? a[a.size() - 2] : a.back());
      c.matmul_flops = 2.0 * elements(n.shape) * k;
      break;
    }
    case Op::conv2d:  // y = conv(x, w): each output sums C/g·KH·KW products
    case Op::conv2d_backward_data:
    case Op::conv2d_backward_weights: {
      const Shape& w = n.op == Op::conv2d_backward_weights ? n.shape : p.node(n.inputs[1]).shape;
      const Shape& y = n.op == Op::conv2d                 ? n.shape
                       : n.op == Op::conv2d_backward_data ? p.node(n.inputs[0]).shape
                                                          : p.node(n.inputs[1]).shape;
      c.conv_flops = 2.0 * elements(y) * (double)(w[1] * w[2] * w[3]);
      break;
    }
    case Op::reduce_sum:
    case Op::reduce_max:
      c.other_flops = elements(p.node(n.inputs[0]).shape);
      break;
    default:
      if (!moves_only(n.op)) c.other_flops = elements(n.shape);
  }
  return c;
}

Cost plan_cost(const Program& p, const FusionPlan& plan) {
  Cost c;
  for (const Step& st : plan.schedule) {
    if (st.absorbed) {  // computed by an earlier kernel from what it holds: no bytes of its own
      if (st.node >= 0) c += node_flops(p, st.node);
      if (st.kernel >= 0)
        for (int m : plan.kernels[st.kernel].members) c += node_flops(p, m);
      continue;
    }
    if (st.epilogue >= 0) {  // operands, addends and the epilogue's output
      const MatmulEpilogue& e = plan.epilogues[st.epilogue];
      const Node& d = p.node(st.node);
      c += node_flops(p, st.node);
      for (int m : e.members) c += node_flops(p, m);
      for (int in : d.inputs) c.bytes += bytes_of(p.node(in));
      for (int a : e.addends) c.bytes += bytes_of(p.node(a));
      c.bytes += bytes_of(p.node(e.output()));
    } else if (st.node >= 0) {
      c += node_flops(p, st.node);
      c.bytes += step_bytes(p, st.node);
    } else {
      const FusedKernel& k = plan.kernels[st.kernel];
      for (int m : k.members) c += node_flops(p, m);
      for (int in : k.inputs) c.bytes += bytes_of(p.node(in));
      for (int o : k.outputs) c.bytes += bytes_of(p.node(o));
    }
  }
  return c;
}

Cost unfused_cost(const Program& p) {
  FusionPlan plan;
  std::vector<char> live = live_nodes(p);
  for (int i = 0; i < p.size(); ++i)
    if (live[i]) plan.schedule.push_back({i, -1});
  return plan_cost(p, plan);
}

std::string cost_str(const Cost& c) {
  return fmt::format("{:.3f} GFLOP (GEMM {:.3f}), {:.3f} GB moved", c.flops() / 1e9,
                     c.gemm_flops() / 1e9, c.bytes / 1e9);
}

}  // namespace fx::compiler
