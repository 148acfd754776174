// Fusion: partitions a program into steps, each either one library node (dot, layout,
// gather, random, ...) or one fused kernel: a group of elementwise nodes over one
// iteration domain (producer-consumer and sibling fusion, several outputs), optionally
// ending in column sums (reduce_sum over axis 0 of a rank-2 domain, or over axis 1 of a
// rank-3 one, per run of rows: the bias gradients) or
// row sums (reduce_sum over the last axis: GroupNorm's and LayerNorm's statistics).
// XLA's invariant holds: one fused kernel is one loop, and values used only inside it
// never reach memory.
#pragma once
#include <algorithm>
#include <string>
#include <vector>

#include "fluxion/compiler/program.h"

namespace fx::compiler {

struct FusedKernel {
  Shape domain;              // iteration shape (every elementwise member has it)
  std::vector<int> members;  // node ids, in topological order
  std::vector<int> inputs;   // values read from memory (not members, not inlined scalars)
  std::vector<int> outputs;  // members that are materialised (used later or outputs)
  std::vector<int> reduces;  // members that are column (or row) sums of another member
  bool row_sums = false;     // reduces sum over the last axis of the domain, not over axis 0
  // Per output (empty: all 0): B when the layout assignment has it stored in a
  // convolution's blocked layout nChw<B>c instead of NCHW (layout.h), 0 when plain.
  std::vector<int> blocked;
  int block_of(size_t output) const { return output < blocked.size() ? blocked[output] : 0; }
  // Per blocked output: the value whose copy it is, the output itself or its reshape to
  // NCHW (the convolutions' view).
  std::vector<int> blocked_view;
  // Per blocked output (empty: all 0): 1 when other ops read the plain tensor too, so the
  // kernel stores both, the plain output in its slot and the blocked copy in an extra
  // buffer after all the outputs (in output order).
  std::vector<char> also_plain;
  bool keeps_plain(size_t output) const {
    return output < also_plain.size() && also_plain[output] != 0;
  }
  // Positions per channel (H*W) of the NCHW view the blocked operands share, which may
  // differ from the domain's ([N, G, C/G, H*W]); 0: no blocked operand.
  int64_t block_positions = 0;
  // Per input, likewise: B when the input is a convolution's result left in its blocked
  // layout (the layout assignment's blocked reads), 0 when plain.
  std::vector<int> blocked_inputs;
  int input_block(size_t input) const {
    return input < blocked_inputs.size() ? blocked_inputs[input] : 0;
  }
  // GroupNorm statistics this blocked kernel takes over (group_sums.h): `sum`, a reduce_sum
  // over the last axis of a reshape of the output `of`, is computed from each unit's rows
  // of `of` and stored as an extra output (it is in `outputs` too, not in `members`); with
  // `squares` >= 0, also that reduce_sum of (x - mean)^2 over the same rows (the variance's
  // sum; its graph gives the mean's node, div(sum, a scalar constant)).
  struct GroupSum {
    int sum, of;
    int squares = -1;
  };
  std::vector<GroupSum> group_sums;
  // The channel block the kernel runs in units of (all its blocked operands share it); 0:
  // a plain kernel.
  int block() const {
    int b = 0;
    for (int v : blocked) b = std::max(b, v);
    for (int v : blocked_inputs) b = std::max(b, v);
    return b;
  }
};

// Epilogue fusion: the elementwise tail a matmul computes inside its oneDNN call, as
// post-ops on the fp32 accumulator before the result is stored: z = (A·B + bias + residual)
// then an optional cast to bf16. Each is one fp32 rounding, as in the separate kernels, so
// the bits agree. Activations stay in the fused kernels (oneDNN's exp/tanh polynomials are
// not fluxion's, so SiLU/GELU/tanh post-ops would change the bits).
struct MatmulEpilogue {
  // Values added in this order: a bias ([N], [1, N], ... read for every row) or a residual
  // of the product's shape.
  std::vector<int> addends;
  bool cast_bf16 = false;    // the sum rounded to bf16 when stored
  std::vector<int> members;  // the absorbed nodes, in order; the last one is stored
  int output() const { return members.back(); }
};

struct Step {
  int node = -1;      // a single node (input, constant, library op) ...
  int kernel = -1;    // ... or a fused kernel
  int epilogue = -1;  // a dot node's MatmulEpilogue (index into FusionPlan::epilogues)
  // The node is computed by an earlier fused kernel (a group sum, group_sums.h): the step
  // runs nothing and reads nothing. Kept in place so that per-step plans stay aligned.
  bool absorbed = false;
};

struct FusionPlan {
  std::vector<FusedKernel> kernels;
  std::vector<MatmulEpilogue> epilogues;
  std::vector<Step> schedule;  // a valid execution order over all live nodes
  std::string dump(const Program& p) const;
};

// Elementwise ops the code generator handles, for the node's dtypes (f32, f64, bool).
bool fusible_elementwise(const Program& p, int id);
// A scalar constant the generated code writes as a literal instead of reading memory.
bool inlined_constant(const Program& p, int id);

// The value a step writes for node `id` scheduled alone: the epilogue's output for a dot
// with an epilogue, the node itself otherwise.
int written_by(const FusionPlan& plan, const Step& st);

// fuse_epilogues: matmul epilogues, taken only with FLUXION_EPILOGUE_FUSION=1 (opt-in: no
// gain measured yet, bench/RESULTS.md "ablation").
FusionPlan plan_fusion(const Program& p, bool fuse_reductions = true, bool fuse_epilogues = true);

}  // namespace fx::compiler
