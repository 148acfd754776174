#include "fluxion/autodiff/grad.h"

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx {

std::vector<Var> vjp(const std::vector<Var>& outputs, const std::vector<Var>& cotangents,
                     const std::vector<Var>& wrt) {
  FX_CHECK(!outputs.empty() && outputs.size() == cotangents.size(),
           "vjp: {} outputs but {} cotangents", outputs.size(), cotangents.size());
  Graph& g = *outputs[0].graph;
  int top = 0;
  for (const Var& o : outputs) top = std::max(top, o.id);

  // Only nodes that depend on some wrt value and feed some output need a cotangent.
  std::vector<char> depends(top + 1, 0), feeds(top + 1, 0);
  for (const Var& w : wrt) {
    FX_CHECK(w.graph == &g, "grad: a wrt value belongs to another graph");
    if (w.id <= top) depends[w.id] = 1;
  }
  for (int i = 0; i <= top; ++i)
    for (int in : g.node(i).inputs) depends[i] |= depends[in];
  for (const Var& o : outputs) feeds[o.id] = 1;
  for (int i = top; i >= 0; --i)
    if (feeds[i])
      for (int in : g.node(i).inputs) feeds[in] = 1;

  std::vector<Var> cot(top + 1);
  auto accumulate = [&](int id, Var c) {
    if (!c.valid()) return;
    FX_CHECK(c.shape() == g.node(id).shape, "internal: cotangent {} for value {} of shape {}",
             shape_str(c.shape()), id, shape_str(g.node(id).shape));
    cot[id] = cot[id].valid() ? cot[id] + c : c;
  };
  for (size_t i = 0; i < outputs.size(); ++i) accumulate(outputs[i].id, cotangents[i]);

  for (int i = top; i >= 0; --i) {
    if (!cot[i].valid() || !depends[i] || !feeds[i]) continue;
    const Node& n = g.node(i);
    if (n.inputs.empty()) continue;
    const OpDef& def = op_def(n.op);
    if (def.zero_gradient) continue;
    FX_CHECK(def.vjp, "grad: op {} (value %{} {}) has no gradient", def.name, i,
             shape_str(n.shape));
    VjpArgs args{n, {}, Var{&g, i}, cot[i]};
    for (int in : n.inputs) args.in.push_back(Var{&g, in});
    // The VJP appends nodes, which may reallocate g's node storage: copy the node first.
    Node copy = n;
    VjpArgs safe{copy, args.in, args.out, args.g};
    std::vector<Var> gin = def.vjp(safe);
    FX_CHECK(gin.size() == copy.inputs.size(), "internal: VJP of {} returned {} cotangents",
             def.name, gin.size());
    for (size_t k = 0; k < gin.size(); ++k) {
      int in = copy.inputs[k];
      if (depends[in] && is_float(g.node(in).dtype)) accumulate(in, gin[k]);
    }
  }
  std::vector<Var> out;
  for (const Var& w : wrt)
    out.push_back(w.id <= top && cot[w.id].valid() ? cot[w.id] : zeros_like(w));
  return out;
}

std::vector<Var> grad(Var loss, const std::vector<Var>& wrt) {
  FX_CHECK(loss.valid() && loss.numel() == 1, "grad: loss must be a single value, got shape {}",
           shape_str(loss.shape()));
  FX_CHECK(is_float(loss.dtype()), "grad: loss must be floating, got {}", dtype_name(loss.dtype()));
  return vjp({loss}, {ones_like(loss)}, wrt);
}

}  // namespace fx
