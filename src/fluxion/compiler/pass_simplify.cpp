// Algebraic simplification: local rewrites that remove work without changing values.
// Each rule looks at a node whose inputs were already rewritten, so chains collapse in
// one sweep (reshape∘reshape∘reshape -> one reshape).
#include <cmath>

#include "fluxion/api/fx.h"
#include "fluxion/compiler/passes.h"
#include "fluxion/ir/op_def.h"
#include "fluxion/util/env.h"

namespace fx::compiler {

namespace {

// Every element of a constant equals v (compared as doubles; integer and bool too).
bool is_constant_value(const Node& n, double v) {
  if (n.op != Op::constant) return false;
  const Tensor& t = n.attrs.literal;
  if (t.numel() == 0 || t.numel() > 4096) return false;
  for (int64_t i = 0; i < t.numel(); ++i)
    if (t.at(i) != v) return false;
  return true;
}

// cast from -> to keeps every value exactly, so a following cast sees the original value.
bool lossless(DType from, DType to) {
  if (from == to || from == DType::boolean) return true;
  switch (from) {
    case DType::f32:
      return to == DType::f64;
    case DType::bf16:
    case DType::f16:
      return to == DType::f32 || to == DType::f64;
    case DType::i32:
      return to == DType::i64 || to == DType::f64;
    default:
      return false;
  }
}

Shape broadcast_all(const std::vector<Var>& vs, bool* ok) {
  Shape s = vs[0].shape();
  *ok = true;
  for (size_t i = 1; i < vs.size() && *ok; ++i) *ok = broadcast_shapes(s, vs[i].shape(), &s);
  return s;
}

// A zero pad of x along at most one axis: x occupies [lo, extent - hi) of that axis.
struct ZeroPad {
  Var x;
  int64_t axis = -1, lo = 0, hi = 0;
};
bool one_axis_zero_pad(Var v, ZeroPad* z) {
  const Node& n = v.node();
  if (n.op != Op::pad || n.attrs.value != 0.0) return false;
  z->x = Var{v.graph, n.inputs[0]};
  z->axis = -1;
  for (size_t i = 0; i < n.attrs.starts.size(); ++i) {
    if (i < n.attrs.steps.size() && n.attrs.steps[i] != 0) return false;
    if (n.attrs.starts[i] == 0 && n.attrs.limits[i] == 0) continue;
    if (z->axis >= 0 || n.attrs.starts[i] < 0 || n.attrs.limits[i] < 0) return false;
    z->axis = (int64_t)i;
    z->lo = n.attrs.starts[i];
    z->hi = n.attrs.limits[i];
  }
  return z->axis >= 0;
}

// pad(a) + pad(b), zero pads along one axis where a's range ends where b's begins (the
// gradient of slicing a tensor into parts: one pad per part, then a sum) -> one concat,
// padded by what is left. Adding the zeros turned a -0 into +0, which the concat keeps.
Var adjacent_pads_as_concat(const Node& n, const std::vector<Var>& in) {
  ZeroPad a, b;
  if (!one_axis_zero_pad(in[0], &a) || !one_axis_zero_pad(in[1], &b)) return Var{};
  if (a.axis != b.axis || in[0].shape() != n.shape || in[1].shape() != n.shape) return Var{};
  if (a.x.dtype() != n.dtype || b.x.dtype() != n.dtype) return Var{};
  const int64_t extent = n.shape[a.axis];
  if (extent - b.hi == a.lo) std::swap(a, b);  // b's range comes first
  if (extent - a.hi != b.lo) return Var{};
  // Parts already joined along this axis (three or more slices) join in one concat.
  std::vector<Var> parts;
  for (Var x : {a.x, b.x}) {
    const Node& xn = x.node();
    if (xn.op == Op::concat && xn.attrs.axes[0] == a.axis)
      for (int id : xn.inputs) parts.push_back(Var{x.graph, id});
    else
      parts.push_back(x);
  }
  Var joined = concat(parts, a.axis);
  if (a.lo == 0 && b.hi == 0) return joined;
  Axes lo(n.shape.size(), 0), hi(n.shape.size(), 0);
  lo[a.axis] = a.lo;
  hi[a.axis] = b.hi;
  return pad(joined, lo, hi);
}

// The rewritten value of node n (inputs already mapped to `in`), or an invalid Var to
// keep the node as it is.
Var simplify(const Node& n, const std::vector<Var>& in) {
  auto same_as_out = [&](Var x) { return x.shape() == n.shape && x.dtype() == n.dtype; };
  auto const_is = [&](int k, double v) { return is_constant_value(in[k].node(), v); };
  switch (n.op) {
    case Op::mul:
      if (const_is(1, 1.0) && same_as_out(in[0])) return in[0];
      if (const_is(0, 1.0) && same_as_out(in[1])) return in[1];
      break;
    case Op::div:
      if (const_is(1, 1.0) && same_as_out(in[0])) return in[0];
      break;
    case Op::add:
      if (const_is(1, 0.0) && same_as_out(in[0])) return in[0];
      if (const_is(0, 0.0) && same_as_out(in[1])) return in[1];
      if (Var joined = adjacent_pads_as_concat(n, in); joined.valid()) return joined;
      break;
    case Op::sub:
      if (const_is(1, 0.0) && same_as_out(in[0])) return in[0];
      break;
    case Op::neg:
      if (in[0].node().op == Op::neg) return Var{in[0].graph, in[0].node().inputs[0]};
      break;
    case Op::stop_gradient:
      return in[0];
    case Op::cast: {
      if (in[0].dtype() == n.attrs.dtype) return in[0];
      const Node& inner = in[0].node();
      if (inner.op == Op::cast) {
        Var x{in[0].graph, inner.inputs[0]};
        if (lossless(x.dtype(), inner.dtype)) return cast(x, n.attrs.dtype);
      }
      break;
    }
    case Op::reshape: {
      if (in[0].shape() == n.shape) return in[0];
      const Node& inner = in[0].node();
      if (inner.op == Op::reshape) return reshape(Var{in[0].graph, inner.inputs[0]}, n.shape);
      break;
    }
    case Op::broadcast_to: {
      if (in[0].shape() == n.shape) return in[0];
      const Node& inner = in[0].node();
      if (inner.op == Op::broadcast_to)
        return broadcast_to(Var{in[0].graph, inner.inputs[0]}, n.shape);
      break;
    }
    case Op::permute: {
      const Axes& p2 = n.attrs.axes;
      auto identity = [](const Axes& p) {
        for (size_t i = 0; i < p.size(); ++i)
          if (p[i] != (int64_t)i) return false;
        return true;
      };
      if (identity(p2)) return in[0];
      const Node& inner = in[0].node();
      if (inner.op == Op::permute) {
        const Axes& p1 = inner.attrs.axes;
        Axes c(p2.size());
        for (size_t i = 0; i < p2.size(); ++i) c[i] = p1[p2[i]];
        Var x{in[0].graph, inner.inputs[0]};
        return identity(c) ? x : permute(x, c);
      }
      break;
    }
    default:
      break;
  }
  if (op_def(n.op).elementwise == ElementwiseKind::broadcasting) {
    // Read broadcast operands at their own shape when broadcasting rebuilds the same result.
    std::vector<Var> args = in;
    bool changed = false;
    for (size_t k = 0; k < args.size(); ++k) {
      const Node& a = args[k].node();
      if (a.op != Op::broadcast_to) continue;
      std::vector<Var> trial = args;
      trial[k] = Var{args[k].graph, a.inputs[0]};
      bool ok;
      Shape s = broadcast_all(trial, &ok);
      if (ok && s == n.shape) {
        args = trial;
        changed = true;
      }
    }
    if (changed) return in[0].graph->add(n.op, args, n.attrs);
  }
  return Var{};
}

}  // namespace

// The nodes the rewrites bypass are left for the caller's DCE.
Program algebraic_simplification(const Program& p) { return rewrite_nodes(p, simplify); }

std::vector<PassInfo> default_pipeline(const RematOptions& remat) {
  return {
      {"dce", [](const Program& p) { return dead_code_elimination(p); }},
      {"constant_folding", [](const Program& p) { return constant_folding(p); }},
      {"algebraic_simplification", [](const Program& p) { return algebraic_simplification(p); }},
      {"cse", [](const Program& p) { return common_subexpression_elimination(p); }},
      {"algebraic_simplification_2", [](const Program& p) { return algebraic_simplification(p); }},
      {"sink_reshapes",
       [](const Program& p) {
         // FLUXION_NO_RESHAPE_SINK=1: leave reshapes where they are (for comparisons).
         return util::env_flag("FLUXION_NO_RESHAPE_SINK") ? dead_code_elimination(p)
                                                          : sink_reshapes(p);
       }},
      {"cse_2", [](const Program& p) { return common_subexpression_elimination(p); }},
      {"remat",
       [remat](const Program& p) {
         // FLUXION_NO_REMAT=1: keep every value instead (for comparisons).
         return util::env_flag("FLUXION_NO_REMAT") ? dead_code_elimination(p)
                                                   : rematerialize_for_memory(p, remat);
       }},
      {"split_reductions", [](const Program& p) { return split_reductions(p); }},
      {"expand_small_dots",
       [](const Program& p) {
         // FLUXION_NO_SMALL_DOT_EXPANSION=1: leave them to the dot kernel (for comparisons).
         return util::env_flag("FLUXION_NO_SMALL_DOT_EXPANSION") ? dead_code_elimination(p)
                                                                 : expand_small_dots(p);
       }},
      {"dce_final", [](const Program& p) { return dead_code_elimination(p); }},
  };
}

}  // namespace fx::compiler
