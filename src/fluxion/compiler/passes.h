// The compiler's graph passes, each in its own file, each Program -> Program. They keep
// the program's meaning: outputs agree with the input program's, bit for bit unless a
// pass says otherwise (x + 0 -> x keeps a -0 that the addition would have made +0).
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "fluxion/compiler/program.h"

namespace fx::compiler {

// Drops nodes no output depends on (inputs included).
Program dead_code_elimination(const Program& p);

// Merges nodes with the same op, attrs and inputs (constants compared by value). Random
// ops are pure functions of their key, so they merge too.
Program common_subexpression_elimination(const Program& p);

// Evaluates nodes whose inputs are all constants with the reference kernels and replaces
// them by constants, when the result has at most max_elements elements and no more than
// its largest input (or 64): folding a broadcast into a big literal would only cost memory.
Program constant_folding(const Program& p, int64_t max_elements = 4096);

// Local identities: x*1, 1*x, x/1, x+0, 0+x, x-0 -> x; neg(neg x) -> x;
// permute∘permute -> one permute (or x); cast∘cast -> one cast where the inner cast is
// lossless; cast to the same dtype -> x; reshape∘reshape -> one reshape; reshape or
// broadcast to the same shape -> x; stop_gradient -> x (forward identity); an elementwise
// operand broadcast_to(y) -> y when numpy broadcasting gives the same shape (the fused
// kernels read y with stride 0 instead of a materialised copy); pad(a) + pad(b) with
// adjacent zero pads along one axis -> concat(a, b), padded by the rest (a slice's gradient).
Program algebraic_simplification(const Program& p);

// op(reshape(a), reshape(b), scalar...) -> reshape(op(a, b, scalar...)), for regions of
// elementwise ops whose operands are reshapes from one shape and whose values leave only
// through library ops (a convolution, a matmul) or as outputs: the same values, computed in
// the shape they came from, so the region fuses with the kernel that produced them
// (GroupNorm's [N, G, C/G, H*W] normalisation and the SiLU after it, api/image.cpp). Regions
// that feed other elementwise ops or sums stay, so no kernel boundary appears.
Program sink_reshapes(const Program& p);

// reduce_sum over several axes including the last -> a keepdims sum over the last axis,
// then a sum over the rest: bit-exact with the reference kernel, which reduces the highest
// axis first; lets fusion fold the big first pass into its producer as a row sum.
Program split_reductions(const Program& p);

// dot contracting 1 to 4 values (f32, one batch: cpu::small_k_dot) -> 0 + a0 b0 + a1 b1
// + ... as elementwise ops on slices of its operands, in the dot kernel's order, so the
// fused kernel reading the product computes it in its loop: bit-exact. Runs after the
// simplifications, whose 0 + x -> x would keep a -0 that the kernel's sum makes +0.
Program expand_small_dots(const Program& p);

// Recomputes a big value made by cheap elementwise ops (normalised activations, GELU and
// SiLU outputs) next to a reader at least min_distance nodes after it (the backward pass),
// from values live there anyway, instead of keeping it in memory in between. Bit-exact:
// the clones are the same ops on the same operands.
struct RematOptions {
  int min_distance = kLateReaderDistance;  // reader position - value position, in nodes
  int64_t min_elements = 1 << 16;          // smaller values are not worth a kernel
  int max_depth = 8;                       // longest chain recomputed
  bool recompute_scans = false;            // also linear scans' states (see pass_remat.cpp)
};
Program rematerialize_for_memory(const Program& p, const RematOptions& options = {});

struct PassInfo {
  std::string name;
  std::function<Program(const Program&)> run;
};
// The default pipeline, in order (simplify and CSE expose each other's work, so they run
// twice; reduction splitting prepares fusion; DCE last).
std::vector<PassInfo> default_pipeline(const RematOptions& remat = {});

}  // namespace fx::compiler
