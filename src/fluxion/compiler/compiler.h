// fluxion's XLA-style compiler. compile() takes what the Interpreter takes (a graph and
// its outputs) and returns an Executable that runs many times on new feeds without
// retracing:
//
//   passes (DCE, constant folding, algebraic simplification, CSE)
//   -> fusion (elementwise chains + column sums into single loops)
//   -> C++ code generation, compiled by the system compiler and dlopen'ed (disk cache)
//   -> layout assignment (convolution inputs read twice share one blocked copy)
//   -> memory plan (liveness, one arena packed greedy by size, allocated once; donated
//      inputs updated in place)
//
// Matmuls and convolutions stay oneDNN calls; every other non-fused op runs the
// interpreter's kernel. A
// failed kernel compile prints a warning and runs the reference kernels instead: never a
// crash. Shapes are static: an executable checks its feeds, and ExecutableCache compiles
// (and logs, and counts) a new one for a new graph or new input shapes.
//
// FLUXION_DUMP=<dir> writes <dir>/<graph hash>/: the graph before and after each pass, the
// fusion plan, the generated kernels, the layout assignment and the memory plan.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "fluxion/backend/cpu/codegen.h"
#include "fluxion/backend/cpu/jit.h"
#include "fluxion/compiler/cost_model.h"
#include "fluxion/compiler/fusion.h"
#include "fluxion/compiler/layout.h"
#include "fluxion/compiler/memory_plan.h"
#include "fluxion/compiler/passes.h"
#include "fluxion/compiler/pipeline.h"
#include "fluxion/exec/interpreter.h"
#include "fluxion/exec/run_profile.h"

namespace fx::cpu {
class ConvOperandCopy;
}

namespace fx::compiler {

struct CompileOptions {
  bool run_passes = true;
  bool fuse = true;         // false: no fused kernels, every node runs its library kernel
  bool codegen = true;      // false: fused groups run node by node with reference kernels
  bool plan_memory = true;  // false: every value gets a fresh allocation, as in the interpreter
  // Donation (JAX's donate_argnums): output i may be written into the buffer of the named
  // input it replaces (a parameter and its update, an optimizer state), in place, with no
  // fresh allocation. Checked at compile time (same shape and dtype, written by an
  // elementwise kernel that reads the input at the same index, after every other read of
  // it) and at run time: only when the feed's tensor is the only holder of its storage
  // (Tensor::storage_use_count() == 1; a caller that keeps a copy gets a fresh output).
  std::vector<std::pair<int, std::string>> donate;
  bool assign_layouts = true;  // false (or FLUXION_NO_LAYOUT_ASSIGNMENT=1): every convolution
                               // reorders its own inputs
  std::string dump_dir;        // empty: $FLUXION_DUMP (if set)
  // Gradient checkpointing for long sequences: the backward pass recomputes each linear
  // scan's states (and the matmul feeding the scan) instead of keeping them from the
  // forward pass. Less memory, one more scan and matmul per layer (compiler/pass_remat.cpp).
  bool recompute_scans = false;
};

struct CompileStats {
  uint64_t graph_hash = 0;
  int nodes_in = 0, nodes_out = 0;
  std::vector<PassStat> passes;
  int kernels = 0;           // fused kernels
  int fused_nodes = 0;       // nodes inside them
  int library_calls = 0;     // nodes run by library/reference kernels
  std::string target;        // JIT target
  bool codegen_ok = false;   // false: fell back to the reference kernels
  bool cache_hit = false;    // the kernels' shared object came from the disk cache
  double compile_ms = 0.0;   // system compiler time (0 on a cache hit)
  double total_ms = 0.0;     // all of compile()
  size_t planned_bytes = 0;  // the memory plan's buffers
  size_t naive_bytes = 0;    // the same values without reuse
  int shared_conv_operands = 0, shared_conv_reads = 0;  // layout assignment (layout.h)
  int blocked_writes = 0;  // conv inputs stored blocked by their fused kernels (layout.h)
  int dual_writes = 0;     // of those, stored plain as well (other ops read them too)
  int blocked_reads = 0;   // conv results left blocked for the fused kernels that read them
  int group_sums = 0;      // GroupNorm means computed by their producing kernels (group_sums.h)
  int donated = 0;         // outputs that may be written in place into their inputs' buffers
  int epilogues = 0;       // matmuls computing their elementwise tail in the call (fusion.h)
  Cost cost;               // FLOPs and bytes moved per run of the fused schedule (cost_model.h)
  std::string summary() const;
};

class Executable {
 public:
  ~Executable();  // prints time per step kind when FLUXION_PROFILE is set

  // Every input the outputs depend on must be fed, with its exact shape and dtype.
  std::vector<Tensor> run(const Feeds& feeds);

  const std::vector<std::string>& required_inputs() const { return required_; }
  const CompileStats& stats() const { return stats_; }
  const Program& program() const { return prog_; }
  const FusionPlan& fusion() const { return plan_; }
  // Planned buffers plus the largest total of other live intermediates (library-kernel
  // results and outputs) seen in a run; comparable to Interpreter::peak_bytes(), which
  // counts every intermediate (views too).
  size_t peak_bytes() const { return stats_.planned_bytes + peak_dynamic_; }

 private:
  friend std::unique_ptr<Executable> compile(const Graph&, const std::vector<Var>&,
                                             const CompileOptions&);
  using KernelFn = void (*)(int64_t, int64_t, void* const*);
  // Returns the bytes of blocked copies it allocated outside the memory plan.
  size_t run_fused(int k, std::vector<Tensor>& values, const std::vector<char>& in_place,
                   std::vector<cpu::ConvOperandCopy>& copies);
  Tensor output_buffer(int id);
  // Points the blocked copy of value v at its planned buffer, when the plan has one.
  void place_copy(cpu::ConvOperandCopy& copy, int v);

  Program prog_;
  FusionPlan plan_;
  std::vector<cpu::KernelInfo> info_;
  std::vector<KernelFn> fns_;  // per kernel; null: reference kernels
  std::shared_ptr<cpu::SharedObject> object_;
  MemoryPlan mem_;
  Tensor arena_;                              // the memory plan's bytes, allocated on first run
  std::vector<std::vector<int>> free_after_;  // per step: values whose last read it is
  ConvLayoutPlan layouts_;
  std::vector<int> donate_into_;  // per value: the input node whose feed it may overwrite, or -1
  std::vector<std::vector<int>> free_copies_after_;  // per step: shared copies it reads last
  std::vector<char> alias_;  // reshape/stop_gradient results share their input's buffer
  std::vector<std::string> required_;
  CompileStats stats_;
  size_t peak_dynamic_ = 0;
  bool profile_ = false, profile_detail_ = false;
  RunProfile profile_ms_;  // FLUXION_PROFILE: ms by "fused_kernels", "dot", other op names
  std::mutex run_mu_;      // buffers are shared between runs: one run at a time
};

std::unique_ptr<Executable> compile(const Graph& graph, const std::vector<Var>& outputs,
                                    const CompileOptions& options = {});

// Executables by structural hash of (graph, outputs), which includes every input's name,
// shape and dtype. A miss compiles and is counted; a miss for a graph whose inputs have
// the same names as a cached one but other shapes is a recompilation (XLA's classic
// pitfall): logged to stderr with the shapes that changed.
class ExecutableCache {
 public:
  std::shared_ptr<Executable> get(const Graph& graph, const std::vector<Var>& outputs,
                                  const CompileOptions& options = {});
  int compilations() const { return compilations_; }
  int recompilations() const { return recompilations_; }
  int hits() const { return hits_; }

 private:
  std::mutex mu_;
  std::map<uint64_t, std::shared_ptr<Executable>> by_hash_;
  std::map<std::string, std::string> shapes_by_names_;  // input names -> last input shapes
  int compilations_ = 0, recompilations_ = 0, hits_ = 0;
};

ExecutableCache& global_cache();

}  // namespace fx::compiler
