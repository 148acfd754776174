// Layout ops: broadcast_to, reshape, permute, slice (with steps), pad (low/high and
// interior, as XLA's pad, so that a strided slice's VJP is a pad), concat.
#include <numeric>

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx {

namespace {
using In = std::vector<const Node*>;
using V = std::vector<Var>;

void same_dtype(Node& n, const In& in) { n.dtype = in[0]->dtype; }

void check_rank(const Node& n, const Shape& s, size_t count, const char* what) {
  FX_CHECK(count == s.size(), "{}: {} has {} entries for input of rank {} ({})", op_name(n.op),
           what, count, s.size(), shape_str(s));
}
}  // namespace

void register_layout_ops(OpTable& t) {
  t[(int)Op::broadcast_to] = {
      "broadcast_to", 1,
      [](Node& n, const In& in) {
        Shape out;
        FX_CHECK(broadcast_shapes(in[0]->shape, n.attrs.shape, &out) && out == n.attrs.shape,
                 "broadcast_to: cannot broadcast {} to {}", shape_str(in[0]->shape),
                 shape_str(n.attrs.shape));
        n.shape = n.attrs.shape;
        same_dtype(n, in);
      },
      [](const VjpArgs& a) -> V { return {sum_to(a.g, a.in[0].shape())}; }};

  t[(int)Op::reshape] = {"reshape", 1,
                         [](Node& n, const In& in) {
                           FX_CHECK(numel(n.attrs.shape) == numel(in[0]->shape),
                                    "reshape: cannot reshape {} ({} elements) into {}",
                                    shape_str(in[0]->shape), numel(in[0]->shape),
                                    shape_str(n.attrs.shape));
                           n.shape = n.attrs.shape;
                           same_dtype(n, in);
                         },
                         [](const VjpArgs& a) -> V { return {reshape(a.g, a.in[0].shape())}; }};
  t[(int)Op::reshape].aliases_input = true;  // same elements, new shape: no copy

  t[(int)Op::permute] = {"permute", 1,
                         [](Node& n, const In& in) {
                           const Shape& s = in[0]->shape;
                           check_rank(n, s, n.attrs.axes.size(), "order");
                           std::vector<int> seen(s.size(), 0);
                           n.shape.clear();
                           for (int64_t& a : n.attrs.axes) {
                             a = normalize_axis(a, (int)s.size(), "permute");
                             FX_CHECK(!seen[a]++, "permute: {} is not a permutation",
                                      shape_str(n.attrs.axes));
                             n.shape.push_back(s[a]);
                           }
                           same_dtype(n, in);
                         },
                         [](const VjpArgs& a) -> V {
                           Axes inv(a.node.attrs.axes.size());
                           for (size_t i = 0; i < inv.size(); ++i)
                             inv[a.node.attrs.axes[i]] = (int64_t)i;
                           return {permute(a.g, inv)};
                         }};

  t[(int)Op::slice] = {
      "slice", 1,
      [](Node& n, const In& in) {
        const Shape& s = in[0]->shape;
        Attrs& at = n.attrs;
        check_rank(n, s, at.starts.size(), "starts");
        check_rank(n, s, at.limits.size(), "limits");
        check_rank(n, s, at.steps.size(), "steps");
        n.shape.clear();
        for (size_t i = 0; i < s.size(); ++i) {
          FX_CHECK(at.steps[i] >= 1, "slice: step {} on axis {} must be >= 1", at.steps[i], i);
          FX_CHECK(0 <= at.starts[i] && at.starts[i] <= at.limits[i] && at.limits[i] <= s[i],
                   "slice: range [{}, {}) on axis {} out of bounds for {}", at.starts[i],
                   at.limits[i], i, shape_str(s));
          n.shape.push_back((at.limits[i] - at.starts[i] + at.steps[i] - 1) / at.steps[i]);
        }
        same_dtype(n, in);
      },
      [](const VjpArgs& a) -> V {
        const Attrs& at = a.node.attrs;
        const Shape& s = a.in[0].shape();
        Axes low = at.starts, high(s.size()), interior(s.size());
        for (size_t i = 0; i < s.size(); ++i) {
          int64_t n = a.out.shape()[i];
          int64_t end = n == 0 ? at.starts[i] : at.starts[i] + (n - 1) * at.steps[i] + 1;
          high[i] = s[i] - end;
          interior[i] = n == 0 ? 0 : at.steps[i] - 1;
        }
        return {pad(a.g, low, high, interior, 0.0)};
      }};

  t[(int)Op::pad] = {"pad", 1,
                     [](Node& n, const In& in) {
                       const Shape& s = in[0]->shape;
                       Attrs& at = n.attrs;
                       check_rank(n, s, at.starts.size(), "low");
                       check_rank(n, s, at.limits.size(), "high");
                       check_rank(n, s, at.steps.size(), "interior");
                       n.shape.clear();
                       for (size_t i = 0; i < s.size(); ++i) {
                         FX_CHECK(at.starts[i] >= 0 && at.limits[i] >= 0 && at.steps[i] >= 0,
                                  "pad: negative padding on axis {}", i);
                         int64_t inner = s[i] == 0 ? 0 : s[i] + (s[i] - 1) * at.steps[i];
                         n.shape.push_back(at.starts[i] + inner + at.limits[i]);
                       }
                       same_dtype(n, in);
                     },
                     [](const VjpArgs& a) -> V {
                       const Attrs& at = a.node.attrs;
                       const Shape& s = a.in[0].shape();
                       Axes st(s.size()), lim(s.size()), step(s.size());
                       for (size_t i = 0; i < s.size(); ++i) {
                         st[i] = at.starts[i];
                         step[i] = at.steps[i] + 1;
                         lim[i] = s[i] == 0 ? st[i] : st[i] + (s[i] - 1) * step[i] + 1;
                       }
                       return {slice(a.g, st, lim, step)};
                     }};

  t[(int)Op::concat] = {"concat", -1,
                        [](Node& n, const In& in) {
                          FX_CHECK(!in.empty(), "concat: no inputs");
                          const Shape& s0 = in[0]->shape;
                          int ax = normalize_axis(n.attrs.axes.at(0), (int)s0.size(), "concat");
                          n.attrs.axes[0] = ax;
                          n.shape = s0;
                          n.shape[ax] = 0;
                          for (const Node* x : in) {
                            FX_CHECK(x->dtype == in[0]->dtype,
                                     "concat: dtypes differ: {}{} vs {}{}",
                                     dtype_name(in[0]->dtype), shape_str(s0), dtype_name(x->dtype),
                                     shape_str(x->shape));
                            bool ok = x->shape.size() == s0.size();
                            for (size_t i = 0; ok && i < s0.size(); ++i)
                              ok = (int)i == ax || x->shape[i] == s0[i];
                            FX_CHECK(ok, "concat: shapes {} and {} differ outside axis {}",
                                     shape_str(s0), shape_str(x->shape), ax);
                            n.shape[ax] += x->shape[ax];
                          }
                          same_dtype(n, in);
                        },
                        [](const VjpArgs& a) -> V {
                          int64_t ax = a.node.attrs.axes[0], off = 0;
                          V out;
                          for (const Var& x : a.in) {
                            int64_t len = x.shape()[ax];
                            out.push_back(slice_axis(a.g, ax, off, off + len));
                            off += len;
                          }
                          return out;
                        }};
}

}  // namespace fx
