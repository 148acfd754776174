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
    for (size_t i = 0; i < t.size(); ++i)
      if (!t[i].infer) fail("internal: op {} has no shape rule", op_name((Op)i));
    return t;
  }();
  return table[(size_t)op];
}

}  // namespace fx
