// Families of primitive ops, defined once for every pass that groups them (fusion, algebraic
// simplification, ...).
#pragma once
#include "fluxion/ir/op.h"

namespace fx {

// One operand, same shape out: neg, exp, log, ..., logical_not.
bool is_unary_elementwise(Op op);
// Several operands broadcast numpy-style to one shape: add ... logical_or, and where.
bool is_broadcasting_elementwise(Op op);

}  // namespace fx
