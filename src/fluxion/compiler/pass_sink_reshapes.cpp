// Sinking reshapes below elementwise regions that end in library ops (passes.h).
#include "fluxion/api/fx.h"
#include "fluxion/compiler/passes.h"
#include "fluxion/ir/op_def.h"

namespace fx::compiler {

namespace {

// An operand any shape broadcasts against: one element, rank 0 or 1.
bool scalar_operand(const Node& n) { return numel(n.shape) == 1 && n.shape.size() <= 1; }

bool elementwise(Op op) { return op_def(op).elementwise != ElementwiseKind::none; }

}  // namespace

Program sink_reshapes(const Program& p) {
  const int N = p.size();
  std::vector<char> live = live_nodes(p);
  std::vector<std::vector<int>> users(N);
  for (int i = 0; i < N; ++i)
    if (live[i])
      for (int in : p.node(i).inputs) users[in].push_back(i);

  // Candidates, in id (topological) order: an elementwise op whose every operand of more
  // than one element is a reshape from one shape S, or a candidate from S; from[i] = S.
  std::vector<char> sink(N, 0);
  std::vector<Shape> from(N);
  for (int i = 0; i < N; ++i) {
    const Node& n = p.node(i);
    if (!live[i] || !elementwise(n.op) || n.op == Op::cast) continue;
    bool ok = true, any = false;
    Shape s;
    for (int in : n.inputs) {
      const Node& a = p.node(in);
      if (scalar_operand(a)) continue;
      Shape src;
      if (sink[in])
        src = from[in];
      else if (a.op == Op::reshape && a.shape == n.shape)
        src = p.node(a.inputs[0]).shape;
      else
        ok = false;
      if (!ok || (any && src != s)) {
        ok = false;
        break;
      }
      s = src;
      any = true;
    }
    if (ok && any && s != n.shape && numel(s) == numel(n.shape)) {
      sink[i] = 1;
      from[i] = s;
    }
  }
  // Keep only regions whose values leave through library ops (or as outputs): an
  // elementwise user, or a sum fusion could fold in, left in the reshaped shape would meet
  // a kernel boundary that was not there. Drop until nothing changes.
  for (bool changed = true; changed;) {
    changed = false;
    for (int i = N - 1; i >= 0; --i) {
      if (!sink[i]) continue;
      bool ok = true;
      for (int u : users[i]) {
        const Node& un = p.node(u);
        if (sink[u] && from[u] == from[i]) continue;
        if (elementwise(un.op) || un.op == Op::reduce_sum) ok = false;
      }
      for (int in : p.node(i).inputs)  // a candidate operand must sink too
        if (p.node(in).op != Op::reshape && !scalar_operand(p.node(in)) && !sink[in]) ok = false;
      if (!ok) {
        sink[i] = 0;
        changed = true;
      }
    }
  }

  Rebuilder rb(p);
  std::vector<Var> sunk(N);  // a sunk node's value in the shape its region came from
  for (int i = 0; i < N; ++i) {
    if (!live[i]) continue;
    const Node& n = p.node(i);
    if (!sink[i]) {
      rb.copy(i);
      continue;
    }
    std::vector<Var> args;
    for (int in : n.inputs) {
      const Node& a = p.node(in);
      if (sink[in])
        args.push_back(sunk[in]);
      else if (scalar_operand(a))
        args.push_back(rb.var(in));
      else
        args.push_back(rb.var(a.inputs[0]));  // the reshape's operand
    }
    sunk[i] = rb.graph().add(n.op, args, n.attrs);
    rb.set(i, reshape(sunk[i], n.shape));
  }
  return rb.finish();
}

}  // namespace fx::compiler
