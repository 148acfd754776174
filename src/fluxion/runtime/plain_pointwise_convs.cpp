#include "fluxion/runtime/plain_pointwise_convs.h"

#include "fluxion/util/env.h"

namespace fx::runtime {

bool plain_pointwise_enabled() {
  static const bool on = !util::env_flag("FLUXION_NO_PLAIN_POINTWISE");
  return on;
}

bool plain_pointwise_conv(const Graph& g, int id) {
  const Node& n = g.node(id);
  if (n.op != Op::conv2d || n.dtype != DType::f32) return false;
  const Attrs& a = n.attrs;
  const Shape& w = g.node(n.inputs[1]).shape;
  bool pointwise = w.size() == 4 && w[2] == 1 && w[3] == 1 && a.groups == 1 &&
                   a.steps == std::vector<int64_t>{1, 1} &&
                   a.starts == std::vector<int64_t>{0, 0} && a.limits == std::vector<int64_t>{1, 1};
  if (!pointwise || n.shape[2] * n.shape[3] < kPlainPointwiseMinPositions) return false;
  for (int i = 0; i < g.size(); ++i) {
    const Node& other = g.node(i);
    if (i == id || !is_convolution(other.op)) continue;
    for (int in : other.inputs)
      if (in == n.inputs[0]) return false;
  }
  return true;
}

std::vector<int> plain_pointwise_convs(const Graph& g) {
  std::vector<int> ids;
  if (!plain_pointwise_enabled()) return ids;
  for (int i = 0; i < g.size(); ++i)
    if (!g.node(i).attrs.plain_layout && plain_pointwise_conv(g, i)) ids.push_back(i);
  return ids;
}

int mark_plain_pointwise_convs(Graph& g) {
  std::vector<int> ids = plain_pointwise_convs(g);
  for (int id : ids) g.set_plain_layout(id);
  return (int)ids.size();
}

}  // namespace fx::runtime
