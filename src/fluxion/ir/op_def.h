// One definition per primitive: its shape/dtype rule and its vector-Jacobian product
// written with other ops (so grad() is a graph transform and grad-of-grad comes free).
// Rules and VJPs live in ops/<family>.cpp; kernels live per backend in backend/<name>/.
#pragma once
#include <functional>
#include <vector>

#include "fluxion/ir/graph.h"

namespace fx {

// Context a VJP rule sees: the forward node, its inputs and output as Vars, and the
// cotangent of the output. It returns one cotangent per input; an invalid Var means
// "no gradient flows to this input" (integer inputs, indices, keys).
struct VjpArgs {
  const Node& node;
  std::vector<Var> in;
  Var out;
  Var g;
};

struct OpDef {
  const char* name = nullptr;
  int arity = 0;  // -1: variadic (concat)
  // Checks inputs and fills node.shape and node.dtype; throws fx::Error naming the op.
  std::function<void(Node& node, const std::vector<const Node*>& in)> infer;
  // Empty for ops that are not differentiable (grad() refuses to go through them unless
  // the op is marked zero_gradient).
  std::function<std::vector<Var>(const VjpArgs&)> vjp;
  bool zero_gradient = false;  // comparisons, floor, sign, random, iota: gradient is zero
};

const OpDef& op_def(Op op);

// Each ops/*.cpp file fills its entries; called once by op_def().
using OpTable = std::vector<OpDef>;
void register_leaf_ops(OpTable&);
void register_elementwise_ops(OpTable&);
void register_reduce_ops(OpTable&);
void register_layout_ops(OpTable&);
void register_dot_op(OpTable&);
void register_indexing_ops(OpTable&);
void register_scan_op(OpTable&);
void register_conv_ops(OpTable&);

}  // namespace fx
