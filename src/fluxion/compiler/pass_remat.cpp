// Rematerialisation for memory (XLA's HloRematerialization, PyTorch's min-cut partitioner
// in spirit): a big value computed by cheap elementwise ops in the forward pass and read
// again much later, in the backward pass, is recomputed next to that late reader from
// values that are live there anyway, instead of being kept in memory in between.
//
// The recomputation reads only "free" leaves: graph inputs, constants, values at most
// 1/16 of the recomputed one's size, and values the original program reads at or after
// the late reader anyway. So no big value lives longer than before, and the recomputed
// value dies at its last early read. The clones apply the same ops to the same operands,
// so results stay bit-identical.
//
// With recompute_scans (gradient checkpointing for long sequences), a linear scan's
// states are recomputed the same way, with the matmul that projects the scan's input:
// one more scan and matmul per layer in the backward pass, instead of keeping every
// layer's states, the largest activations of a recurrent model, from the forward pass.
//
// Tried and dropped: letting a chain also start from one value that would otherwise die
// early (a GELU's matmul, serving its erf, scaled input and output at once). Deciding
// which of those to keep needs the fusion pass's view of what reaches memory; chosen
// before fusion, it kept more than it freed on the LRU (plan 739 -> 803 MB at length 1024).
#include <algorithm>
#include <climits>
#include <functional>
#include <map>

#include "fluxion/compiler/passes.h"
#include "fluxion/ir/op_def.h"

namespace fx::compiler {

namespace {

bool cheap_elementwise(const Node& n) {
  const OpDef& d = op_def(n.op);
  return d.elementwise != ElementwiseKind::none && d.cheap_to_recompute;
}

}  // namespace

Program rematerialize_for_memory(const Program& p, const RematOptions& opt) {
  const int N = p.size();
  std::vector<char> live = live_nodes(p);
  std::vector<int> last_read(N, -1);
  for (int i = 0; i < N; ++i)
    if (live[i])
      for (int in : p.node(i).inputs) last_read[in] = std::max(last_read[in], i);
  for (int o : p.outputs) last_read[o] = INT_MAX;

  auto candidate = [&](int v, int reader) {
    const Node& n = p.node(v);
    return reader - v >= opt.min_distance && numel(n.shape) >= opt.min_elements &&
           (cheap_elementwise(n) || (opt.recompute_scans && n.op == Op::linear_scan));
  };
  // The nodes that recompute v for a reader at position `at`, in dependency order; empty
  // when it cannot be done from free leaves. The search goes as deep as it can (to the
  // matmul, reduction or input a chain starts from) and stops at an elementwise value that
  // is live anyway only where going deeper fails: the fusion pass recomputes such values
  // in its kernels, so they may never reach memory at all.
  auto plan_chain = [&](int v, int at) {
    const int64_t big = numel(p.node(v).shape);
    const bool scan_chain = p.node(v).op == Op::linear_scan;
    std::vector<int> chain;
    std::vector<char> in_chain(N, 0);
    std::function<bool(int, int)> visit = [&](int u, int depth) {
      if (in_chain[u]) return true;
      const Node& n = p.node(u);
      const bool tiny = n.op == Op::input || n.op == Op::constant || numel(n.shape) * 16 <= big;
      if (depth > 0 && tiny) return true;
      // A scan's input is recomputed too: the reshaped matmul that projects into it.
      const bool recomputable =
          cheap_elementwise(n) ||
          (scan_chain && (n.op == Op::reshape || (n.op == Op::dot && depth <= 2) ||
                          (n.op == Op::linear_scan && depth == 0)));
      if (recomputable && depth < opt.max_depth) {
        const size_t mark = chain.size();
        bool ok = true;
        for (int in : n.inputs) ok = ok && visit(in, depth + 1);
        if (ok) {
          in_chain[u] = 1;
          chain.push_back(u);
          return true;
        }
        for (size_t k = mark; k < chain.size(); ++k) in_chain[chain[k]] = 0;
        chain.resize(mark);
      }
      return depth > 0 && last_read[u] >= at;
    };
    if (!visit(v, 0)) chain.clear();
    return chain;
  };

  // The rewrite. Each chain node is cloned once per stretch of nearby readers.
  Rebuilder rb(p);
  std::map<int, std::pair<int, Var>> clone_of;  // node -> (reader it was made for, clone)
  auto recent_clone = [&](int u, int c) -> Var {
    auto it = clone_of.find(u);
    return it != clone_of.end() && c - it->second.first < opt.min_distance ? it->second.second
                                                                           : Var{};
  };
  for (int c = 0; c < N; ++c) {
    if (!live[c]) continue;
    const Node& reader = p.node(c);
    std::vector<std::pair<int, Var>> redirect;  // (value, its clone) for this reader only
    for (int v : reader.inputs) {
      if (!candidate(v, c)) continue;
      if (Var near = recent_clone(v, c); near.valid()) {
        redirect.push_back({v, near});
        continue;
      }
      std::vector<int> chain = plan_chain(v, c);
      if (chain.empty()) continue;
      for (int u : chain) {
        if (recent_clone(u, c).valid()) continue;
        const Node& un = p.node(u);
        std::vector<Var> ins;
        for (int in : un.inputs) {
          Var near = recent_clone(in, c);
          ins.push_back(near.valid() ? near : rb.var(in));
        }
        clone_of[u] = {c, rb.graph().add(un.op, std::move(ins), un.attrs)};
      }
      redirect.push_back({v, clone_of[v].second});
    }
    if (redirect.empty()) {
      rb.copy(c);
      continue;
    }
    std::vector<std::pair<int, Var>> saved;
    for (auto& [v, clone] : redirect) {
      saved.push_back({v, rb.var(v)});
      rb.set(v, clone);
    }
    rb.copy(c);
    for (auto it = saved.rbegin(); it != saved.rend(); ++it) rb.set(it->first, it->second);
  }
  return rb.finish();
}

}  // namespace fx::compiler
