#include "fluxion/compiler/fusion.h"

#include <algorithm>
#include <cstdlib>
#include <functional>
#include <queue>

#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"
#include "fluxion/util/env.h"

namespace fx::compiler {

namespace {

// bf16 computes in f32 and rounds after every op (codegen.cpp), as the reference kernels do;
// f16 is left to the reference kernels.
bool fusible_dtype(DType d) {
  return d == DType::f32 || d == DType::f64 || d == DType::bf16 || d == DType::boolean;
}

// An op the generated loops can compute: elementwise with a codegen expression.
bool elementwise_op(Op op) {
  const OpDef& d = op_def(op);
  return d.elementwise != ElementwiseKind::none && d.has_codegen();
}

constexpr int64_t kMaxSegmentColumns = 4096;

// A column sum the kernel can accumulate while it streams the rows: reduce_sum over axis 0
// of a rank-2 f32/f64 value, accumulated in f64 in row order as the reference kernel does;
// or over axis 1 of a rank-3 value [A, B, C] (a sum over batch and time, split by
// split_reductions: the bias and norm gradients of a sequence model), one sum per run of B
// rows, the runs split over the threads.
bool column_sum(const Program& p, int id) {
  const Node& n = p.node(id);
  if (n.op != Op::reduce_sum || !(n.dtype == DType::f32 || n.dtype == DType::f64)) return false;
  const Node& x = p.node(n.inputs[0]);
  if (x.shape.size() == 2) return n.attrs.axes == std::vector<int64_t>{0} && x.shape[0] > 0;
  // (C > 1: with one column the reference sums a run as a row, in 16 partial sums; C is
  // bounded by the kernel's per-row f64 accumulators.)
  return x.shape.size() == 3 && n.attrs.axes == std::vector<int64_t>{1} && x.shape[1] > 0 &&
         x.shape[2] > 1 && x.shape[2] <= kMaxSegmentColumns;
}

// An operand a column-sum kernel over `domain` can read row by row: the domain's shape, a
// scalar, one value per row ([R, 1], [A, B, 1]) or one per column ([C], [1, C], [1, 1, C]).
bool column_readable(const Shape& s, const Shape& domain) {
  if (s == domain || numel(s) == 1) return true;
  if (s.empty()) return false;
  bool per_row = s.size() == domain.size() && s.back() == 1;
  for (size_t i = 0; per_row && i + 1 < s.size(); ++i) per_row = s[i] == domain[i];
  bool per_column = s.back() == domain.back();
  for (size_t i = 0; per_column && i + 1 < s.size(); ++i) per_column = s[i] == 1;
  return per_row || per_column;
}

// A row sum the kernel can accumulate as each row of its domain goes by: reduce_sum over
// the last axis of an f32/f64 value with more than one row, in f64 as 16 partial sums
// (i mod 16) as the reference kernel does (kernels_reduce.cpp, sum_row16), so the bits agree.
bool row_sum(const Program& p, int id) {
  const Node& n = p.node(id);
  if (n.op != Op::reduce_sum) return false;
  const Node& x = p.node(n.inputs[0]);
  int64_t r = (int64_t)x.shape.size();
  if (r < 2 || n.attrs.axes != std::vector<int64_t>{r - 1}) return false;
  int64_t cols = x.shape[r - 1];
  return (n.dtype == DType::f32 || n.dtype == DType::f64) && cols > 0 && numel(x.shape) / cols > 1;
}

// Union of groups as plain vectors: group id per node, -1 for none.
struct Groups {
  std::vector<int> of;                  // node -> group
  std::vector<std::vector<int>> nodes;  // group -> member ids (ascending)
  std::vector<Shape> domain;
  std::vector<char> has_reduce;  // 0: none, kColumnSums or kRowSums (never both)
};
constexpr char kColumnSums = 1, kRowSums = 2;

void rematerialize(const Program& p, FusionPlan& plan);

using util::env_flag;

// A bias: as many elements as the product has columns, all in the last axis.
bool row_addend(const Shape& s, const Shape& product) {
  if (s.empty() || s.back() != product.back() || s.size() > product.size()) return false;
  return numel(s) == s.back();
}

// The dot's epilogue, grown along its chain of single users: f32 adds of a bias or of a
// residual already in memory (a library op's result or an input: one a fused kernel would
// compute is better left inside that kernel), then a cast to bf16. Empty: none.
MatmulEpilogue grow_epilogue(const Program& p, int dot, const std::vector<int>& users,
                             const std::vector<int>& only_user, const std::vector<char>& is_output,
                             const std::vector<int>& absorbed_by) {
  MatmulEpilogue e;
  const Node& d = p.node(dot);
  if (d.dtype != DType::f32 || d.shape.size() < 2) return e;
  int cur = dot;
  while (!is_output[cur] && users[cur] == 1 && e.addends.size() < 2 && !e.cast_bf16) {
    int u = only_user[cur];
    if (absorbed_by[u] >= 0) break;  // dot + dot: the first product takes the add
    const Node& n = p.node(u);
    if (n.op == Op::cast && n.dtype == DType::bf16) {
      e.cast_bf16 = true;
    } else if (n.op == Op::add && n.dtype == DType::f32 && n.shape == d.shape &&
               n.inputs[0] != n.inputs[1]) {
      int other = n.inputs[0] == cur ? n.inputs[1] : n.inputs[0];
      const Node& o = p.node(other);
      if (o.dtype != DType::f32) break;
      bool row = row_addend(o.shape, d.shape);
      bool residual = o.shape == d.shape && !fusible_elementwise(p, other);
      if (!row && !residual) break;
      e.addends.push_back(other);
    } else {
      break;
    }
    e.members.push_back(u);
    cur = u;
  }
  return e;
}

}  // namespace

int written_by(const FusionPlan& plan, const Step& st) {
  return st.epilogue >= 0 ? plan.epilogues[st.epilogue].output() : st.node;
}

bool fusible_elementwise(const Program& p, int id) {
  const Node& n = p.node(id);
  if (!elementwise_op(n.op) || !fusible_dtype(n.dtype)) return false;
  for (int in : n.inputs)
    if (!fusible_dtype(p.node(in).dtype)) return false;
  return true;
}

bool inlined_constant(const Program& p, int id) {
  const Node& n = p.node(id);
  return n.op == Op::constant && n.attrs.literal.numel() == 1 && fusible_dtype(n.dtype);
}

FusionPlan plan_fusion(const Program& p, bool fuse_reductions, bool fuse_epilogues) {
  int N = p.size();
  std::vector<char> live = live_nodes(p);
  Groups G;
  G.of.assign(N, -1);
  std::vector<char> is_output(N, 0);
  for (int o : p.outputs) is_output[o] = 1;

  // Matmul epilogues first: their members leave the elementwise grouping to the dot.
  std::vector<MatmulEpilogue> epilogues;
  std::vector<int> epilogue_of(N, -1), absorbed_by(N, -1);  // dot -> epilogue; member -> dot
  // Opt-in (FLUXION_EPILOGUE_FUSION=1): bit-identical, but measured no faster here
  // (docs/engine.md).
  if (fuse_epilogues && env_flag("FLUXION_EPILOGUE_FUSION")) {
    std::vector<int> users(N, 0), only_user(N, -1);
    for (int id = 0; id < N; ++id)
      if (live[id])
        for (int in : p.node(id).inputs) {
          users[in]++;
          only_user[in] = id;
        }
    for (int id = 0; id < N; ++id) {
      if (!live[id] || p.node(id).op != Op::dot) continue;
      MatmulEpilogue e = grow_epilogue(p, id, users, only_user, is_output, absorbed_by);
      if (e.members.empty()) continue;
      for (int m : e.members) absorbed_by[m] = id;
      epilogue_of[id] = (int)epilogues.size();
      epilogues.push_back(std::move(e));
    }
  }

  // Does value `from` depend (transitively) on any member of group g? Groups count as
  // single vertices, as they will run: a group depends on every input of every member. (A
  // per-node search misses cycles such as g -> h -> g where h's two members are unrelated.)
  std::vector<int> mark(N, -1), gmark;
  int stamp = 0;
  auto depends_on_group = [&](int from, int g) {
    ++stamp;
    gmark.resize(G.nodes.size(), -1);
    std::vector<int> stack{from};
    while (!stack.empty()) {
      int v = stack.back();
      stack.pop_back();
      if (mark[v] == stamp) continue;
      mark[v] = stamp;
      int h = G.of[v];
      if (h == g) return true;
      if (h >= 0) {
        if (gmark[h] == stamp) continue;
        gmark[h] = stamp;
        for (int m : G.nodes[h])
          for (int in : p.node(m).inputs) stack.push_back(in);
      } else {
        for (int in : p.node(v).inputs) stack.push_back(in);
      }
    }
    return false;
  };
  // Node id may join group g: every input outside g must not depend on g (no cycle
  // through an outside node), and no input may be a column sum of g (not ready in-loop).
  auto can_join = [&](int id, int g) {
    for (int in : p.node(id).inputs) {
      if (G.of[in] == g) {
        if (p.node(in).op == Op::reduce_sum) return false;
        continue;
      }
      if (depends_on_group(in, g)) return false;
    }
    return true;
  };

  // Group g is closed: no member reads a value outside g that depends on g (which would
  // make the fused loop wait for itself), and no member reads one of g's column sums.
  auto closed = [&](int g) {
    for (int m : G.nodes[g])
      for (int in : p.node(m).inputs) {
        if (G.of[in] == g) {
          if (p.node(in).op == Op::reduce_sum) return false;
          continue;
        }
        if (depends_on_group(in, g)) return false;
      }
    return true;
  };
  // Moves h's members into g if the result stays closed; otherwise leaves both as they were.
  auto try_merge = [&](int g, int h) {
    if (G.has_reduce[g] && G.has_reduce[h] && G.has_reduce[g] != G.has_reduce[h]) return false;
    for (int m : G.nodes[h]) G.of[m] = g;
    std::vector<int> before = G.nodes[g];
    G.nodes[g].insert(G.nodes[g].end(), G.nodes[h].begin(), G.nodes[h].end());
    std::sort(G.nodes[g].begin(), G.nodes[g].end());
    if (closed(g)) {
      G.nodes[h].clear();
      G.has_reduce[g] |= G.has_reduce[h];
      return true;
    }
    G.nodes[g] = before;
    for (int m : G.nodes[h]) G.of[m] = h;
    return false;
  };

  for (int id = 0; id < N; ++id) {
    if (!live[id] || absorbed_by[id] >= 0) continue;
    const Node& n = p.node(id);
    if (fusible_elementwise(p, id)) {
      // Join the latest producer group with the same domain, then pull the other producer
      // groups in (Adam: the m and v chains meet in the update), else start a group; a
      // producer-less node may join a recent sibling that reads the same input.
      std::vector<int> producers;
      for (int in : n.inputs) {
        int g = G.of[in];
        if (g < 0 || G.domain[g] != n.shape || p.node(in).op == Op::reduce_sum) continue;
        // A reader far after the group (a backward op reading only forward values, such as
        // a value rematerialised next to its late reader) starts its own kernel there:
        // joining would compute it early and keep its result alive in between.
        if (id - G.nodes[g].back() >= kLateReaderDistance) continue;
        if (std::find(producers.begin(), producers.end(), g) == producers.end())
          producers.push_back(g);
      }
      std::sort(producers.begin(), producers.end(),
                [&](int a, int b) { return G.nodes[a].back() > G.nodes[b].back(); });
      int best = -1;
      for (int g : producers)
        if (can_join(id, g)) {
          best = g;
          break;
        }
      if (best < 0) {
        // Sibling fusion: another elementwise consumer of one of our inputs.
        for (int in : n.inputs) {
          if (inlined_constant(p, in)) continue;
          for (int g = (int)G.nodes.size() - 1; g >= 0 && g >= (int)G.nodes.size() - 8; --g) {
            if (G.nodes[g].empty() || G.domain[g] != n.shape || G.has_reduce[g] ||
                id - G.nodes[g].back() >= kLateReaderDistance)
              continue;
            bool reads = false;
            for (int m : G.nodes[g])
              for (int mi : p.node(m).inputs) reads |= mi == in;
            if (reads && can_join(id, g)) {
              best = g;
              break;
            }
          }
          if (best >= 0) break;
        }
      }
      if (best < 0) {
        best = (int)G.nodes.size();
        G.nodes.emplace_back();
        G.domain.push_back(n.shape);
        G.has_reduce.push_back(0);
      }
      G.of[id] = best;
      G.nodes[best].push_back(id);
      for (int h : producers)
        if (h != best && !G.nodes[h].empty()) try_merge(best, h);
    } else if (fuse_reductions && column_sum(p, id)) {
      int g = G.of[n.inputs[0]];
      // Any operand of a rank-2 domain is readable row by row ([R, C], [C], [1, C], [R, 1]
      // or a scalar), so the column sum can always join its producer's group; a rank-3
      // group is checked once it is complete (below).
      if (g >= 0 && G.domain[g] == p.node(n.inputs[0]).shape && G.has_reduce[g] != kRowSums) {
        G.of[id] = g;
        G.nodes[g].push_back(id);
        G.has_reduce[g] = kColumnSums;
      }
    } else if (fuse_reductions && row_sum(p, id)) {
      int g = G.of[n.inputs[0]];
      if (g >= 0 && G.domain[g] == p.node(n.inputs[0]).shape && G.has_reduce[g] != kColumnSums) {
        G.of[id] = g;
        G.nodes[g].push_back(id);
        G.has_reduce[g] = kRowSums;
      }
    }
  }

  // A rank-3 group with column sums whose members read an operand the row-by-row loop
  // cannot ([A, 1, C], [B, C], ...) leaves its sums to the reference kernel.
  for (size_t g = 0; g < G.nodes.size(); ++g) {
    if (G.has_reduce[g] != kColumnSums || G.domain[g].size() != 3) continue;
    bool readable = true;
    for (int m : G.nodes[g])
      for (int in : p.node(m).inputs)
        if (G.of[in] != (int)g && !column_readable(p.node(in).shape, G.domain[g])) readable = false;
    if (readable) continue;
    std::vector<int> kept;
    for (int m : G.nodes[g])
      if (p.node(m).op == Op::reduce_sum)
        G.of[m] = -1;
      else
        kept.push_back(m);
    G.nodes[g] = kept;
    G.has_reduce[g] = 0;
  }

  FusionPlan plan;
  plan.epilogues = std::move(epilogues);
  std::vector<int> kernel_of_group(G.nodes.size(), -1);
  std::vector<int> users_outside(N, 0);
  for (int id = 0; id < N; ++id) {
    if (!live[id]) continue;
    for (int in : p.node(id).inputs)
      if (G.of[in] < 0 || G.of[in] != G.of[id]) users_outside[in]++;
  }
  for (size_t g = 0; g < G.nodes.size(); ++g) {
    if (G.nodes[g].empty()) continue;  // merged into another group
    FusedKernel k;
    k.domain = G.domain[g];
    k.members = G.nodes[g];
    k.row_sums = G.has_reduce[g] == kRowSums;
    std::vector<char> seen(N, 0);
    for (int m : k.members) {
      if (p.node(m).op == Op::reduce_sum) k.reduces.push_back(m);
      for (int in : p.node(m).inputs)
        if (G.of[in] != (int)g && !inlined_constant(p, in) && !seen[in]) {
          seen[in] = 1;
          k.inputs.push_back(in);
        }
      if (users_outside[m] > 0 || is_output[m]) k.outputs.push_back(m);
    }
    kernel_of_group[g] = (int)plan.kernels.size();
    plan.kernels.push_back(std::move(k));
  }

  // Schedule: topological order of the condensed graph (groups as single vertices),
  // preferring the smallest original id so the order stays close to the trace.
  std::vector<int> unit(N, -1);  // node -> unit id; units: kernels, then single nodes
  int K = (int)plan.kernels.size();
  std::vector<int> unit_node;  // for single-node units
  for (int id = 0; id < N; ++id) {
    if (!live[id]) continue;
    if (G.of[id] >= 0) {
      unit[id] = kernel_of_group[G.of[id]];
    } else if (absorbed_by[id] >= 0) {  // computed by its dot's call (ids ascend along it)
      unit[id] = unit[absorbed_by[id]];
    } else {
      unit[id] = K + (int)unit_node.size();
      unit_node.push_back(id);
    }
  }
  int U = K + (int)unit_node.size();
  std::vector<std::vector<int>> succ(U);
  std::vector<int> indeg(U, 0), first(U, INT32_MAX);
  for (int id = 0; id < N; ++id) {
    if (!live[id]) continue;
    first[unit[id]] = std::min(first[unit[id]], id);
    for (int in : p.node(id).inputs)
      if (unit[in] != unit[id]) {
        succ[unit[in]].push_back(unit[id]);
        indeg[unit[id]]++;
      }
  }
  std::priority_queue<std::pair<int, int>, std::vector<std::pair<int, int>>, std::greater<>> ready;
  for (int u = 0; u < U; ++u)
    if (indeg[u] == 0) ready.push({first[u], u});
  while (!ready.empty()) {
    int u = ready.top().second;
    ready.pop();
    plan.schedule.push_back(u < K ? Step{-1, u, -1}
                                  : Step{unit_node[u - K], -1, epilogue_of[unit_node[u - K]]});
    for (int v : succ[u])
      if (--indeg[v] == 0) ready.push({first[v], v});
  }
  FX_CHECK((int)plan.schedule.size() == U, "fusion: the fused graph has a cycle (compiler bug)");
  rematerialize(p, plan);
  return plan;
}

namespace {

// How far back a recomputed chain reaches: deep enough for an expanded K = 3 product under
// its bias add (add, add, add, mul from the pre-activation), measured no slower elsewhere.
constexpr int kMaxRecomputeDepth = 6;

// Rematerialisation (XLA duplicates cheap producers into their consumers the same way): a
// kernel that reads a value another kernel computed with a few cheap elementwise ops from
// values it reads anyway recomputes it instead. The backward pass of x * sigmoid(x) then
// reads x alone, and the forward kernel no longer writes sigmoid(x) and 1 - sigmoid(x),
// which also shortens what stays live between the forward and the backward pass. The math
// is the same, so results stay bit-identical.
void rematerialize(const Program& p, FusionPlan& plan) {
  int N = p.size(), K = (int)plan.kernels.size();
  std::vector<int> home(N, -1);  // the kernel that computes a member first
  for (int k = 0; k < K; ++k)
    for (int m : plan.kernels[k].members) home[m] = k;
  for (int k = 0; k < K; ++k) {
    FusedKernel& fk = plan.kernels[k];
    std::vector<char> in_k(N, 0), reads(N, 0);
    for (int m : fk.members) in_k[m] = 1;
    for (int in : fk.inputs) reads[in] = 1;
    std::vector<int> kept_inputs;
    for (int v : fk.inputs) {
      // Collect the chain that recomputes v from values available in memory.
      std::vector<int> chain, fresh;
      std::vector<char> seen(in_k);
      bool ok = true;
      // A value as large as the domain, give or take broadcasting (not a bias, a norm's
      // per-group statistics or a column of a small-K product).
      auto full_size = [&](int u) { return numel(p.node(u).shape) * 64 > numel(fk.domain); };
      std::function<void(int, int)> visit = [&](int u, int depth) {
        if (!ok || seen[u] || (depth > 0 && reads[u])) return;  // available already
        const Node& n = p.node(u);
        bool remat = home[u] >= 0 && home[u] != k && op_def(n.op).cheap_to_recompute &&
                     n.shape == fk.domain && n.op != Op::reduce_sum && depth < kMaxRecomputeDepth;
        if (!remat) {
          if (depth == 0) ok = false;
          if (!inlined_constant(p, u) && !reads[u] &&
              std::find(fresh.begin(), fresh.end(), u) == fresh.end())
            fresh.push_back(u);
          return;
        }
        const size_t chain_mark = chain.size(), fresh_mark = fresh.size();
        std::vector<char> seen_mark = seen;
        seen[u] = 1;
        for (int in : n.inputs) visit(in, depth + 1);
        const bool new_full = std::any_of(fresh.begin() + fresh_mark, fresh.end(), full_size);
        if (depth > 0 && fresh.size() > 1 && fresh_mark == 0 && new_full) {
          // Recomputing u too would read several new values: read u itself instead (the
          // GELU backward reads x/sqrt(2) and x/2: both from x, not from x's own inputs).
          // Small ones cost next to nothing (the slices of an expanded small-K product).
          chain.resize(chain_mark);
          fresh.resize(fresh_mark);
          seen = seen_mark;
          fresh.push_back(u);
          return;
        }
        chain.push_back(u);
      };
      visit(v, 0);
      // Worth it only if it reads at most one full-size value the kernel did not read
      // already: a small broadcast operand (a norm's per-group mean) costs next to nothing.
      int64_t fresh_full = std::count_if(fresh.begin(), fresh.end(), full_size);
      if (!ok || fresh_full > 1) {
        kept_inputs.push_back(v);
        continue;
      }
      for (int u : chain) {
        in_k[u] = 1;
        fk.members.push_back(u);
      }
      for (int u : fresh) {
        reads[u] = 1;
        kept_inputs.push_back(u);
      }
    }
    std::sort(fk.members.begin(), fk.members.end());
    fk.members.erase(std::unique(fk.members.begin(), fk.members.end()), fk.members.end());
    std::vector<int> inputs;
    std::vector<char> dup(N, 0);
    for (int in : kept_inputs)
      if (!in_k[in] && !dup[in]) {
        dup[in] = 1;
        inputs.push_back(in);
      }
    fk.inputs = inputs;
  }
  // Which members still reach memory: read by a library node, another kernel or the caller.
  std::vector<char> needed(N, 0);
  for (int o : p.outputs) needed[o] = 1;
  for (const Step& st : plan.schedule) {
    if (st.node >= 0)
      for (int in : p.node(st.node).inputs) needed[in] = 1;
    if (st.epilogue >= 0)
      for (int a : plan.epilogues[st.epilogue].addends) needed[a] = 1;
  }
  for (const FusedKernel& fk : plan.kernels)
    for (int in : fk.inputs) needed[in] = 1;
  for (int k = 0; k < K; ++k) {
    FusedKernel& fk = plan.kernels[k];
    fk.outputs.clear();
    for (int m : fk.members)
      if (home[m] == k && needed[m]) fk.outputs.push_back(m);
    // Drop members nothing in the kernel needs any more.
    std::vector<char> keep(N, 0);
    for (int o : fk.outputs) keep[o] = 1;
    for (auto it = fk.members.rbegin(); it != fk.members.rend(); ++it)
      if (keep[*it])
        for (int in : p.node(*it).inputs) keep[in] = 1;
    std::vector<int> members, reduces, inputs;
    for (int m : fk.members)
      if (keep[m]) members.push_back(m);
    for (int r : fk.reduces)
      if (keep[r]) reduces.push_back(r);
    for (int in : fk.inputs)
      if (keep[in]) inputs.push_back(in);
    fk.members = members;
    fk.reduces = reduces;
    fk.inputs = inputs;
  }
  // Kernels left with nothing to write disappear from the schedule.
  std::vector<Step> schedule;
  for (const Step& st : plan.schedule)
    if (st.kernel < 0 || !plan.kernels[st.kernel].outputs.empty()) schedule.push_back(st);
  plan.schedule = schedule;
}

}  // namespace

std::string FusionPlan::dump(const Program& p) const {
  std::string s;
  for (const Step& st : schedule) {
    if (st.node >= 0) {
      s += node_str(*p.graph, st.node) + (st.absorbed ? "  (computed by its producer)\n" : "\n");
      if (st.epilogue >= 0)
        for (int m : epilogues[st.epilogue].members)
          s += fmt::format("    epilogue: {}\n", node_str(*p.graph, m));
      continue;
    }
    const FusedKernel& k = kernels[st.kernel];
    if (st.absorbed) {
      s += fmt::format("fused_kernel_{} (computed by its rows' producer)\n", st.kernel);
      continue;
    }
    s += fmt::format("fused_kernel_{} domain={} members={} reads={} writes={}", st.kernel,
                     shape_str(k.domain), k.members.size(), k.inputs.size(), k.outputs.size());
    s += k.reduces.empty()
             ? ""
             : fmt::format(" {}={}", k.row_sums ? "row_sums" : "column_sums", k.reduces.size());
    for (size_t i = 0; i < k.inputs.size(); ++i)
      if (int block = k.input_block(i)) s += fmt::format(" %{} (nChw{}c)", k.inputs[i], block);
    s += "\n";
    for (int m : k.members) {
      auto out = std::find(k.outputs.begin(), k.outputs.end(), m);
      std::string where;
      if (out != k.outputs.end()) {
        size_t i = out - k.outputs.begin();
        int block = k.block_of(i);
        where = !block             ? "  -> memory"
                : k.keeps_plain(i) ? fmt::format("  -> memory and a copy (nChw{}c)", block)
                                   : fmt::format("  -> memory (nChw{}c)", block);
      }
      s += fmt::format("    {}{}\n", node_str(*p.graph, m), where);
    }
    for (const FusedKernel::GroupSum& g : k.group_sums) {
      s += fmt::format("    group sum of %{}: {}  -> memory\n", g.of, node_str(*p.graph, g.sum));
      if (g.squares >= 0)
        s += fmt::format("    and of its squared deviations: {}  -> memory\n",
                         node_str(*p.graph, g.squares));
    }
  }
  return s;
}

}  // namespace fx::compiler
