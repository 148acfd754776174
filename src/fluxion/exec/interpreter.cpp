#include "fluxion/exec/interpreter.h"

#include <chrono>
#include <cstdlib>

#include "fluxion/core/error.h"

namespace fx {

Interpreter::Interpreter(const Graph& graph, std::vector<Var> outputs, Backend& backend)
    : graph_(graph), backend_(backend), profile_(std::getenv("FLUXION_PROFILE") != nullptr) {
  std::vector<char> needed(graph.size(), 0);
  for (const Var& v : outputs) {
    FX_CHECK(v.graph == &graph, "Interpreter: output from another graph");
    outputs_.push_back(v.id);
    needed[v.id] = 1;
  }
  for (int i = graph.size() - 1; i >= 0; --i)
    if (needed[i])
      for (int in : graph.node(i).inputs) needed[in] = 1;
  last_use_.assign(graph.size(), -1);
  for (int i = 0; i < graph.size(); ++i) {
    if (!needed[i]) continue;
    const Node& n = graph.node(i);
    FX_CHECK(n.op == Op::input || backend.supports(n), "backend {} has no kernel for {}",
             backend.name(), node_str(graph, i));
    int pos = (int)schedule_.size();
    schedule_.push_back(i);
    for (int in : n.inputs) last_use_[in] = pos;
    if (n.op == Op::input) required_.push_back(n.attrs.name);
  }
  for (int o : outputs_) last_use_[o] = INT32_MAX;  // outputs are never freed
}

std::vector<Tensor> Interpreter::run(const Feeds& feeds) {
  std::vector<Tensor> values(graph_.size());
  std::vector<Tensor> args;
  size_t live = 0;
  for (int pos = 0; pos < (int)schedule_.size(); ++pos) {
    int id = schedule_[pos];
    const Node& n = graph_.node(id);
    if (n.op == Op::input) {
      auto it = feeds.find(n.attrs.name);
      FX_CHECK(it != feeds.end(), "missing input '{}' ({}{})", n.attrs.name, dtype_name(n.dtype),
               shape_str(n.shape));
      const Tensor& t = it->second;
      FX_CHECK(t.shape() == n.shape && t.dtype() == n.dtype, "input '{}': expected {}{}, got {}{}",
               n.attrs.name, dtype_name(n.dtype), shape_str(n.shape), dtype_name(t.dtype()),
               shape_str(t.shape()));
      values[id] = t;
      continue;
    }
    args.clear();
    for (int in : n.inputs) args.push_back(values[in]);
    if (profile_) {
      auto t0 = std::chrono::steady_clock::now();
      values[id] = backend_.execute(n, args);
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      profile_ms_.add(op_name(n.op), ms);
    } else {
      values[id] = backend_.execute(n, args);
    }
    live += values[id].nbytes();
    peak_bytes_ = std::max(peak_bytes_, live);
    for (int in : n.inputs)
      if (last_use_[in] == pos && values[in].defined()) {
        if (graph_.node(in).op != Op::input) live -= std::min(live, values[in].nbytes());
        values[in] = Tensor();
      }
  }
  if (profile_) profile_ms_.end_run();
  std::vector<Tensor> out;
  for (int o : outputs_) out.push_back(values[o]);
  return out;
}

Interpreter::~Interpreter() {
  if (profile_)
    if (std::string s = profile_ms_.line("FLUXION_PROFILE: ms per run by op kind"); !s.empty())
      std::fprintf(stderr, "%s\n", s.c_str());
}

std::vector<Tensor> evaluate(const std::vector<Var>& outputs, const Feeds& feeds) {
  FX_CHECK(!outputs.empty(), "evaluate: no outputs");
  Interpreter it(*outputs[0].graph, outputs);
  return it.run(feeds);
}

Tensor evaluate(Var output, const Feeds& feeds) {
  return evaluate(std::vector<Var>{output}, feeds)[0];
}

}  // namespace fx
