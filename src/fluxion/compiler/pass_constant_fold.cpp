// Constant folding: a node whose inputs are all constants is computed once, at compile
// time, with the same reference kernels the interpreter uses (so folding never changes a
// bit), and becomes a constant.
#include <algorithm>

#include "fluxion/backend/backend.h"
#include "fluxion/compiler/passes.h"

namespace fx::compiler {

Program constant_folding(const Program& p, int64_t max_elements) {
  std::vector<char> live = live_nodes(p);
  Rebuilder rb(p);
  Backend& be = cpu_backend();
  for (int i = 0; i < p.size(); ++i) {
    if (!live[i]) continue;
    const Node& n = p.node(i);
    bool foldable = n.op != Op::input && n.op != Op::constant && be.supports(n) &&
                    numel(n.shape) <= max_elements;
    std::vector<Tensor> args;
    int64_t largest_input = 0;
    for (int in : n.inputs) largest_input = std::max(largest_input, numel(p.node(in).shape));
    // Never grow a constant: broadcast_to(scalar) stays a broadcast, which fused kernels
    // read with stride 0 instead of as a big literal.
    if (numel(n.shape) > std::max<int64_t>(largest_input, 64)) foldable = false;
    for (int in : n.inputs) {
      const Node& m = rb.graph().node(rb.var(in).id);
      if (m.op != Op::constant) {
        foldable = false;
        break;
      }
      args.push_back(m.attrs.literal);
    }
    if (!foldable) {
      rb.copy(i);
      continue;
    }
    Tensor v = be.execute(n, args);
    // A relabelling kernel (reshape) may return its input's storage: keep our own copy.
    rb.set(i, rb.graph().constant(v.clone()));
  }
  return rb.finish();
}

}  // namespace fx::compiler
