#include "fluxion/ir/graph.h"

#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx {

const Node& Var::node() const {
  FX_CHECK(valid(), "use of an undefined Var");
  return graph->node(id);
}

int64_t Var::dim(int i) const {
  int r = rank();
  int a = i < 0 ? i + r : i;
  FX_CHECK(a >= 0 && a < r, "dim({}) of a rank-{} value {}", i, r, shape_str(shape()));
  return shape()[a];
}

void Graph::set_plain_layout(int id) {
  Node& n = nodes_.at(id);
  FX_CHECK(n.op == Op::conv2d, "set_plain_layout: node {} is {}, not conv2d", id, op_name(n.op));
  n.attrs.plain_layout = true;
}

Var Graph::add(Op op, std::vector<Var> inputs, Attrs attrs) {
  const OpDef& def = op_def(op);
  if (def.arity >= 0)
    FX_CHECK((int)inputs.size() == def.arity, "{}: expects {} inputs, got {}", def.name, def.arity,
             inputs.size());
  Node n;
  n.op = op;
  n.attrs = std::move(attrs);
  std::vector<const Node*> in;
  for (const Var& v : inputs) {
    FX_CHECK(v.graph == this, "{}: input belongs to another graph (or is undefined)", def.name);
    n.inputs.push_back(v.id);
    in.push_back(&nodes_[v.id]);
  }
  def.infer(n, in);
  nodes_.push_back(std::move(n));
  return Var{this, (int)nodes_.size() - 1};
}

Var Graph::input(const std::string& name, Shape shape, DType dtype) {
  FX_CHECK(!input_by_name_.count(name), "graph input '{}' declared twice", name);
  Attrs a;
  a.name = name;
  a.shape = std::move(shape);
  a.dtype = dtype;
  Var v = add(Op::input, {}, std::move(a));
  inputs_.push_back(v.id);
  input_by_name_[name] = v.id;
  return v;
}

Var Graph::constant(Tensor value) {
  Attrs a;
  a.literal = std::move(value);
  return add(Op::constant, {}, std::move(a));
}

Var Graph::scalar(double value, DType dtype) { return constant(Tensor::scalar(value, dtype)); }

Var Graph::find_input(const std::string& name) {
  auto it = input_by_name_.find(name);
  FX_CHECK(it != input_by_name_.end(), "graph has no input named '{}'", name);
  return Var{this, it->second};
}

std::string node_str(const Graph& g, int id) {
  const Node& n = g.node(id);
  std::string s = fmt::format("%{} = {}(", id, op_name(n.op));
  for (size_t i = 0; i < n.inputs.size(); ++i)
    s += fmt::format("{}%{}", i ? ", " : "", n.inputs[i]);
  s += ")";
  const Attrs& a = n.attrs;
  if (!a.name.empty()) s += fmt::format(" name={}", a.name);
  if (!a.axes.empty()) s += fmt::format(" axes={}", shape_str(a.axes));
  if (!a.starts.empty()) s += fmt::format(" starts={}", shape_str(a.starts));
  if (!a.limits.empty()) s += fmt::format(" limits={}", shape_str(a.limits));
  if (!a.steps.empty()) s += fmt::format(" steps={}", shape_str(a.steps));
  if (a.keepdims) s += " keepdims";
  if (a.transpose_a) s += " transpose_a";
  if (a.transpose_b) s += " transpose_b";
  if (a.reverse) s += " reverse";
  if (a.groups != 1) s += fmt::format(" groups={}", a.groups);
  if (a.plain_layout) s += " plain_layout";
  if (n.op == Op::pad) s += fmt::format(" value={}", a.value);
  if (n.op == Op::constant && a.literal.numel() == 1)
    s += fmt::format(" value={}", a.literal.item());
  s += fmt::format(" : {}{}", dtype_name(n.dtype), shape_str(n.shape));
  return s;
}

std::string Graph::dump() const {
  std::string s;
  for (int i = 0; i < size(); ++i) s += node_str(*this, i) + "\n";
  return s;
}

}  // namespace fx
