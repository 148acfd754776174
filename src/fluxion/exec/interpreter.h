// The interpreter runs a graph op by op with the backend's reference kernels: the
// "no compiler" baseline and the oracle the compiled executor is tested against.
// It is built once per graph and run many times with new feeds (no retracing).
#pragma once
#include <string>
#include <unordered_map>
#include <vector>

#include "fluxion/backend/backend.h"
#include "fluxion/exec/run_profile.h"

namespace fx {

using Feeds = std::unordered_map<std::string, Tensor>;

class Interpreter {
 public:
  Interpreter(const Graph& graph, std::vector<Var> outputs, Backend& backend = cpu_backend());
  ~Interpreter();  // prints the per-op time table when FLUXION_PROFILE is set

  // Every graph input the outputs depend on must be fed with its exact shape and dtype.
  std::vector<Tensor> run(const Feeds& feeds);

  // Names of the inputs the outputs depend on.
  const std::vector<std::string>& required_inputs() const { return required_; }
  // Largest total size of live intermediate tensors seen in a run (memory planning
  // baseline for the compiler).
  size_t peak_bytes() const { return peak_bytes_; }

 private:
  const Graph& graph_;
  Backend& backend_;
  std::vector<int> outputs_;
  std::vector<int> schedule_;  // needed node ids in order
  std::vector<int> last_use_;  // per node: schedule position of its last consumer
  std::vector<std::string> required_;
  size_t peak_bytes_ = 0;
  bool profile_ = false;
  RunProfile profile_ms_;  // FLUXION_PROFILE: ms by op kind
};

// One-shot helper: evaluate outputs once.
std::vector<Tensor> evaluate(const std::vector<Var>& outputs, const Feeds& feeds = {});
Tensor evaluate(Var output, const Feeds& feeds = {});

}  // namespace fx
