#include "fluxion/core/error.h"
#include "fluxion/ir/op_def.h"

namespace fx {

const char* op_name(Op op) {
  static const char* names[] = {
#define FX_NAME(name) #name,
      FX_OP_LIST(FX_NAME)
#undef FX_NAME
  };
  return names[(int)op];
}

std::string no_codegen(const ExprArgs& e) {
  fail("internal: codegen asked for {}, which has no expression", op_name(e.node.op));
}

void check_op_table(const OpTable& t) {
  FX_CHECK(t.size() == (size_t)Op::count, "internal: op table has {} entries, expected {}",
           t.size(), (int)Op::count);
  for (size_t i = 0; i < t.size(); ++i) {
    const OpDef& d = t[i];
    const char* name = op_name((Op)i);
    FX_CHECK(d.name && std::string(d.name) == name, "internal: op {} is registered as '{}'", name,
             d.name ? d.name : "(no name)");
    FX_CHECK((bool)d.infer, "internal: op {} has no shape rule", name);
    bool elementwise = d.elementwise != ElementwiseKind::none;
    FX_CHECK(!elementwise || d.codegen,
             "internal: elementwise op {} has no codegen rule (give one, or no_codegen)", name);
    FX_CHECK(elementwise || !d.codegen, "internal: op {} has a codegen rule but is not elementwise",
             name);
    FX_CHECK(!d.cheap_to_recompute || d.has_codegen(),
             "internal: op {} is cheap to recompute but has no codegen rule", name);
    FX_CHECK(d.elementwise != ElementwiseKind::unary || d.arity == 1,
             "internal: unary elementwise op {} has arity {}", name, d.arity);
    FX_CHECK(!d.aliases_input || d.arity == 1, "internal: op {} aliases its input but has arity {}",
             name, d.arity);
    FX_CHECK(d.precision != PrecisionClass::low_precision_product || !elementwise,
             "internal: elementwise op {} cannot be a low-precision product", name);
  }
}

const OpDef& op_def(Op op) {
  static const OpTable table = [] {
    OpTable t((size_t)Op::count);
    register_leaf_ops(t);
    register_elementwise_ops(t);
    register_reduce_ops(t);
    register_layout_ops(t);
    register_dot_op(t);
    register_indexing_ops(t);
    register_scan_op(t);
    register_conv_ops(t);
    check_op_table(t);
    return t;
  }();
  return table[(size_t)op];
}

std::vector<Op> ops_with_precision(PrecisionClass c) {
  std::vector<Op> ops;
  for (int i = 0; i < (int)Op::count; ++i)
    if (op_def(Op(i)).precision == c) ops.push_back(Op(i));
  return ops;
}

}  // namespace fx
