// The primitive op set of fluxion's IR. Small on purpose (in the spirit of XLA HLO,
// jax.lax and tinygrad): everything else (softmax, norms, losses, activations) is a
// composite written with these in api/composites.cpp and needs no VJP of its own.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "fluxion/core/tensor.h"

namespace fx {

#define FX_OP_LIST(X)                                                                              \
  /* leaves */                                                                                     \
  X(input)                                                                                         \
  X(constant)                                                                                      \
  X(iota) X(random_uniform) X(random_normal) /* unary elementwise */                               \
      X(neg) X(exp) X(log) X(sin) X(cos) X(tanh) X(sqrt) X(rsqrt) X(abs) X(sign) X(sigmoid) X(erf) \
          X(floor) X(logical_not) /* binary elementwise, numpy broadcasting */                     \
      X(add) X(sub) X(mul) X(div) X(pow) X(maximum) X(minimum) X(lt) X(le) X(gt) X(ge) X(eq) X(ne) \
          X(logical_and) X(logical_or) /* ternary */                                               \
      X(where)                         /* type and gradient barriers */                            \
      X(cast) X(stop_gradient)         /* reductions */                                            \
      X(reduce_sum) X(reduce_max)      /* layout */                                                \
      X(broadcast_to) X(reshape) X(permute) X(slice) X(pad)                                        \
          X(concat) /* contraction and indexing */                                                 \
      X(dot) X(gather) X(scatter_add) /* recurrences */                                            \
      X(linear_scan) X(scan_coefficient_grad) /* convolution (NCHW, OIHW) */                       \
      X(conv2d) X(conv2d_backward_data) X(conv2d_backward_weights)

enum class Op : uint16_t {
#define FX_ENUM(name) name,
  FX_OP_LIST(FX_ENUM)
#undef FX_ENUM
      count
};

const char* op_name(Op op);

// conv2d and its two gradients: the ops that run oneDNN's convolutions.
inline bool is_convolution(Op op) {
  return op == Op::conv2d || op == Op::conv2d_backward_data || op == Op::conv2d_backward_weights;
}

// Static attributes of a node. One plain struct for all ops keeps hashing, dumps and
// the compiler's pattern matching simple; each op documents which fields it reads.
struct Attrs {
  std::vector<int64_t> axes;    // reduce axes; permute order; concat/gather/iota axis in [0]
  std::vector<int64_t> starts;  // slice start; pad low
  std::vector<int64_t> limits;  // slice limit; pad high
  std::vector<int64_t> steps;   // slice step; pad interior (step - 1)
  Shape shape;                  // broadcast_to/reshape/iota/random target shape;
                                // scan_coefficient_grad: the coefficients' shape
  double value = 0.0;           // pad value
  DType dtype = DType::f32;     // cast/iota/random target dtype
  bool keepdims = false;        // reductions
  bool transpose_a = false;     // dot: contract A's second-to-last axis instead of last
  bool transpose_b = false;     // dot: B given as [..., N, K]
  bool reverse = false;         // linear_scan (and its coefficient gradient): run from the
                                // last step to the first
  int64_t groups = 1;           // conv2d*: channel groups (stride in steps, padding in
                                // starts, dilation in limits, target shape in shape)
  bool plain_layout = false;    // conv2d: oneDNN's plain-layout kernel, no reorders
                                // (runtime/plain_pointwise_convs.h sets it)
  std::string name;             // input: the feed's name (parameter names are safetensors keys)
  Tensor literal;               // constant
};

struct Node {
  Op op = Op::input;
  std::vector<int> inputs;
  Attrs attrs;
  Shape shape;
  DType dtype = DType::f32;
};

}  // namespace fx
