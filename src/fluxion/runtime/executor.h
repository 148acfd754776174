// One way to run a traced graph, for training steps and for every sampler and evaluator:
// apply the precision pass (amp/) when asked, then run the result with the interpreter (the
// reference, op by op) or compiled (fused kernels; bit-identical where the arithmetic is the
// same). This is the only layer that knows both executors; amp/ knows neither.
//   runtime::Executor e = runtime::make_executor(g, {loss}, {.precision = p, .compile = true});
//   auto out = e.run(feeds);
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fluxion/amp/precision_policy.h"
#include "fluxion/exec/interpreter.h"

namespace fx::compiler {
class Executable;
}

namespace fx::runtime {

struct ExecutorOptions {
  amp::PrecisionPolicy precision;  // fp32: the graph as traced
  bool compile = false;
  // Compiled only: output i may be written into the buffer of the named feed it replaces (a
  // parameter and its update), as JAX's donate_argnums (compiler::CompileOptions::donate).
  std::vector<std::pair<int, std::string>> donate;
  // Compiled only: gradient checkpointing of linear scans (compiler::CompileOptions).
  bool recompute_scans = false;
};

class Executor {
 public:
  Executor() = default;
  Executor(Executor&&) = default;
  Executor& operator=(Executor&&) = default;
  ~Executor();

  std::vector<Tensor> run(const Feeds& feeds) const;
  bool compiled() const { return compiled_ != nullptr; }
  // The compiled executable (null for the interpreter), for its statistics.
  const compiler::Executable* executable() const { return compiled_.get(); }
  size_t peak_bytes() const;
  // What the precision pass decided for each product ("" in fp32).
  const std::string& precision_report() const { return precision_report_; }

 private:
  friend Executor make_executor(const Graph&, const std::vector<Var>&, const ExecutorOptions&);
  // The graph run when it is not the caller's: the precision pass's rewrite, or a copy with
  // plain-layout 1x1 convolutions marked (plain_pointwise_convs.h); null otherwise.
  std::unique_ptr<Graph> own_graph_;
  std::unique_ptr<Interpreter> interpreter_;
  std::shared_ptr<compiler::Executable> compiled_;
  std::string precision_report_;
};

// Runs `outputs` of `g` (which must outlive the executor). Compiled executables come from
// compiler::global_cache(), so a second executor of the same graph does not compile again.
Executor make_executor(const Graph& g, const std::vector<Var>& outputs,
                       const ExecutorOptions& options = {});

}  // namespace fx::runtime
