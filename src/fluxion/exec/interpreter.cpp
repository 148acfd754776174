#include "fluxion/exec/interpreter.h"

#include <chrono>
#include <cstdlib>
#include <map>

#include "fluxion/core/error.h"

namespace fx {

Interpreter::Interpreter(const Graph& graph, std::vector<Var> outputs, Backend& backend)
    : graph_(graph), backend_(backend), profile_(std::getenv("FLUXION_PROFILE") != nullptr) {
  op_ms_.assign((size_t)Op::count, 0.0);
  first_ms_.assign((size_t)Op::count, 0.0);
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
      (runs_ == 0 ? first_ms_ : op_ms_)[(int)n.op] += ms;
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
  ++runs_;
  std::vector<Tensor> out;
  for (int o : outputs_) out.push_back(values[o]);
  return out;
}

std::string profile_runs_text(int runs) {
  return runs > 1 ? fmt::format("runs 2..{} (the first left out)", runs) : "its only run";
}

Interpreter::~Interpreter() {
  if (!profile_ || runs_ == 0) return;
  // The first run touches fresh buffers and creates library primitives: left out when
  // there are others, so short runs are not dominated by it.
  const std::vector<double>& ms = runs_ > 1 ? op_ms_ : first_ms_;
  int counted = runs_ > 1 ? runs_ - 1 : 1;
  std::multimap<double, int, std::greater<double>> by_time;
  for (size_t i = 0; i < ms.size(); ++i)
    if (ms[i] > 0) by_time.emplace(ms[i] / counted, (int)i);
  std::string s = fmt::format("FLUXION_PROFILE: ms per run by op kind, mean over {}:",
                              profile_runs_text(runs_));
  for (auto& [t, op] : by_time) s += fmt::format(" {}={:.3f}", op_name((Op)op), t);
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
