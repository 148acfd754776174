// One definition per primitive: its shape/dtype rule and its vector-Jacobian product
// written with other ops (so grad() is a graph transform and grad-of-grad comes free).
// Rules and VJPs live in ops/<family>.cpp; kernels live per backend in backend/<name>/.
#pragma once
#include <functional>
#include <string>
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

// Elementwise ops are what the compiler fuses into generated loops; the broadcasting kind
// also lets the simplifier look through size-1 operands.
enum class ElementwiseKind : uint8_t {
  none,
  unary,         // one operand, same shape out (neg ... logical_not, cast, stop_gradient)
  broadcasting,  // operands broadcast numpy-style to one shape (add ... logical_or, where)
};

// What the mixed-precision pass does with an op by default (its allow/deny lists).
enum class PrecisionClass : uint8_t {
  follow_inputs,          // run in the widest float dtype among the inputs
  low_precision_product,  // matmul/convolution: operands cast to bf16/f16
  keep_f32,               // numerically delicate (reductions, exp, log, ...): cast up to f32
};

// One element of the op's result as C-family source text, from its operands' expressions.
// `f32` is true when the operands compute in f32 (f32 or bf16 widened); `T` is their
// in-kernel C type. The caller casts or rounds the result to the node's dtype.
struct ExprArgs {
  const Node& node;
  const std::vector<std::string>& a;
  bool f32;
  const char* T;
};
using ExprRule = std::string (*)(const ExprArgs&);
// Marks an elementwise op a code generator must leave to the reference kernels; saying so
// is explicit, a missing rule is a start-up error (check_op_table).
std::string no_codegen(const ExprArgs&);

struct OpDef {
  const char* name = nullptr;
  int arity = 0;  // -1: variadic (concat)
  // Checks inputs and fills node.shape and node.dtype; throws fx::Error naming the op.
  std::function<void(Node& node, const std::vector<const Node*>& in)> infer;
  // Empty for ops that are not differentiable (grad() refuses to go through them unless
  // the op is marked zero_gradient).
  std::function<std::vector<Var>(const VjpArgs&)> vjp;
  bool zero_gradient = false;  // comparisons, floor, sign, random, iota: gradient is zero

  // Traits the passes and backends read instead of keeping their own op lists.
  ElementwiseKind elementwise = ElementwiseKind::none;
  ExprRule codegen = nullptr;       // required for elementwise ops (no_codegen to opt out)
  bool cheap_to_recompute = false;  // vectorised arithmetic: fusion may duplicate it
  bool aliases_input = false;       // result shares its one input's buffer (no copy)
  PrecisionClass precision = PrecisionClass::follow_inputs;

  bool has_codegen() const { return codegen && codegen != &no_codegen; }
};

const OpDef& op_def(Op op);

// Throws fx::Error naming the first op whose entry is missing or inconsistent (no name, no
// shape rule, an elementwise op without a codegen rule, ...). op_def() runs it once.
using OpTable = std::vector<OpDef>;
void check_op_table(const OpTable& t);

// The ops of one precision class, in Op order (the precision policy's default lists).
std::vector<Op> ops_with_precision(PrecisionClass c);

// Each ops/*.cpp file fills its entries; called once by op_def().
void register_leaf_ops(OpTable&);
void register_elementwise_ops(OpTable&);
void register_reduce_ops(OpTable&);
void register_layout_ops(OpTable&);
void register_dot_op(OpTable&);
void register_indexing_ops(OpTable&);
void register_scan_op(OpTable&);
void register_conv_ops(OpTable&);

}  // namespace fx
