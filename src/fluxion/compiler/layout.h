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
// its reorder and one pass over memory disappear. The kernel's output may also reach the
// convolutions through a reshape to NCHW (GroupNorm + SiLU, computed over [N, G, C/G, H*W]):
// then the kernel writes the reshape's copy and the reshape step is skipped.
//
// With dual writes, an output that a convolution and other ops read is stored both ways
// by its kernel: the plain tensor for the others and the blocked copy for the convolutions
// (the residual sums a downsampling convolution and a skip connection read).
//
// With blocked reads, the other way round: a convolution's result that only elementwise
// fused kernels read (the bias add, the residual add) stays in the layout the primitive
// writes it in (ConvLayoutPlan::result_block, FusedKernel::blocked_inputs), and those
// kernels read it through an L1 tile, so the reorder back to NCHW disappears. Norms'
// statistics and library ops still read plain NCHW.
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
  std::vector<int> result_block;  // per step: B when the conv leaves its result in nChw<B>c
  std::vector<char> skipped;      // per step: a reshape whose result only a copy holds
  int values = 0, reads = 0;      // shared values, and the conv reads they serve
  int blocked_writes = 0;         // values written blocked by their kernels
  int dual_writes = 0;            // of those, values their kernels also store plain
  int blocked_reads = 0;          // conv results read blocked by their kernels
  std::string dump(const Program& p) const;
};

// Which of the layout assignment's kernel-side changes to make (all need generated
// kernels); none: only the shared copies the convolutions make themselves.
struct LayoutOptions {
  bool blocked_writes = false;  // fused kernels store conv inputs blocked (`blocked`)
  bool blocked_reads = false;   // fused kernels read conv results blocked (`blocked_inputs`)
  bool dual_writes = false;     // with blocked_writes: plain and blocked (`also_plain`)
};

// Marks the fused kernels' blocked outputs and inputs as `options` allows; clears any marks
// it does not make.
ConvLayoutPlan assign_conv_layouts(const Program& p, FusionPlan& plan,
                                   const LayoutOptions& options = {});

}  // namespace fx::compiler
