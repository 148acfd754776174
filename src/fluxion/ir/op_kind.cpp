#include "fluxion/ir/op_kind.h"

namespace fx {

bool is_unary_elementwise(Op op) {
  switch (op) {
    case Op::neg:
    case Op::exp:
    case Op::log:
    case Op::sin:
    case Op::cos:
    case Op::tanh:
    case Op::sqrt:
    case Op::rsqrt:
    case Op::abs:
    case Op::sign:
    case Op::sigmoid:
    case Op::erf:
    case Op::floor:
    case Op::logical_not:
      return true;
    default:
      return false;
  }
}

bool is_broadcasting_elementwise(Op op) {
  switch (op) {
    case Op::add:
    case Op::sub:
    case Op::mul:
    case Op::div:
    case Op::pow:
    case Op::maximum:
    case Op::minimum:
    case Op::lt:
    case Op::le:
    case Op::gt:
    case Op::ge:
    case Op::eq:
    case Op::ne:
    case Op::logical_and:
    case Op::logical_or:
    case Op::where:
      return true;
    default:
      return false;
  }
}

}  // namespace fx
