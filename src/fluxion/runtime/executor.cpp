#include "fluxion/runtime/executor.h"

#include "fluxion/compiler/compiler.h"
#include "fluxion/runtime/plain_pointwise_convs.h"

namespace fx::runtime {

Executor::~Executor() = default;

Executor make_executor(const Graph& g, const std::vector<Var>& outputs,
                       const ExecutorOptions& options) {
  Executor e;
  const Graph* run_graph = &g;
  std::vector<Var> run_outputs = outputs;
  if (options.precision.precision != amp::Precision::fp32) {
    amp::PrecisionResult pr = amp::apply_precision(g, outputs, options.precision);
    e.precision_report_ = pr.report();
    e.own_graph_ = std::move(pr.graph);
    run_graph = e.own_graph_.get();
    run_outputs = pr.outputs;
  }
  // Plain-layout 1x1 convolutions where only a forward pass reads their input (sampling): on
  // the graph both executors run, so their bits agree (plain_pointwise_convs.h).
  // The ids are the same in a copy of the graph.
  if (std::vector<int> ids = plain_pointwise_convs(*run_graph); !ids.empty()) {
    if (!e.own_graph_) e.own_graph_ = std::make_unique<Graph>(g);
    for (int id : ids) e.own_graph_->set_plain_layout(id);
    run_graph = e.own_graph_.get();
    for (Var& v : run_outputs) v.graph = e.own_graph_.get();
  }
  if (options.compile) {
    compiler::CompileOptions co;
    co.donate = options.donate;
    co.recompute_scans = options.recompute_scans;
    e.compiled_ = compiler::global_cache().get(*run_graph, run_outputs, co);
  } else {
    e.interpreter_ = std::make_unique<Interpreter>(*run_graph, run_outputs);
  }
  return e;
}

std::vector<Tensor> Executor::run(const Feeds& feeds) const {
  return compiled_ ? compiled_->run(feeds) : interpreter_->run(feeds);
}

size_t Executor::peak_bytes() const {
  return compiled_ ? compiled_->peak_bytes() : interpreter_->peak_bytes();
}

}  // namespace fx::runtime
