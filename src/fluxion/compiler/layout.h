// Layout assignment for convolutions. oneDNN's convolutions run in blocked layouts
// (nChw8c on AVX2) and fluxion's tensors are plain NCHW, so each call reorders its
// activations in and its result out. In a training step most activations are read by two
// convolutions: a forward convolution's input by its weight gradient too, an output
// gradient by backward-data and the weight gradient. This pass gives each such value one
// shared blocked copy, made by the first convolution that reads it and read as it is by the
// others (cpu::ConvOperandCopy); the plain tensor then lives only as long as its other
// readers need it.
//
// With blocked writes, an activation that only convolutions read and that a fused
// elementwise kernel produces is not made plain at all: the kernel stores it in the blocked
// layout the first reading convolution wants (FusedKernel::blocked; nChw16c on AVX-512), so
// its reorder and one pass over memory disappear. Norms and the other elementwise kernels
// still read and write plain NCHW.
#pragma once
#include <array>
#include <string>
#include <vector>

#include "fluxion/compiler/fusion.h"
#include "fluxion/compiler/program.h"

namespace fx::compiler {

struct ConvLayoutPlan {
  std::vector<std::array<char, 2>> shared_arg;  // per step: conv input k read from a shared copy
  std::vector<int> first_read, last_read;       // per value: steps of its first and last shared
                                                // read (-1: not shared); first_read is the
                                                // writing kernel's step for a blocked write
  std::vector<char> written_blocked;            // per value: its fused kernel writes the copy
  int values = 0, reads = 0;                    // shared values, and the conv reads they serve
  int blocked_writes = 0;                       // values written blocked by their kernels
  std::string dump(const Program& p) const;
};

// blocked_writes: also marks the fused kernels' outputs to store blocked (plan.kernels'
// `blocked`); without it, clears any such marks.
ConvLayoutPlan assign_conv_layouts(const Program& p, FusionPlan& plan, bool blocked_writes);

}  // namespace fx::compiler
