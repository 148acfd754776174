// Module tree with named parameters, as torch.nn.Module: names join with '.', so
// "net.0.weight" is both the parameter's graph-input name and its safetensors key.
// Parameters hold host tensors; bind() makes each one a graph input for tracing.
#pragma once
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "fluxion/ir/graph.h"

namespace fx::nn {

struct Parameter {
  Tensor value;
  Var var;                // valid after Module::bind() on the graph being traced
  bool trainable = true;  // false: a fixed buffer (e.g. Fourier feature frequencies)
};

class Module {
 public:
  virtual ~Module() = default;
  Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  std::vector<std::pair<std::string, Parameter*>> named_parameters(const std::string& prefix = "");
  // Declares every parameter as a graph input named by its path and sets its var.
  void bind(Graph& g);
  int64_t parameter_count();

 protected:
  Parameter& register_parameter(const std::string& name, Tensor init, bool trainable = true);
  template <typename M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    children_.emplace_back(name, m);
    return m;
  }

 private:
  std::vector<std::pair<std::string, std::unique_ptr<Parameter>>> params_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
};

// Host-side source of independent Philox streams for initialisers: each call to next()
// returns a fresh (seed, offset) pair, so a model's initial weights depend only on seed.
class InitRng {
 public:
  explicit InitRng(uint64_t seed) : seed_(seed) {}
  Tensor uniform(Shape shape, double lo, double hi);
  Tensor normal(Shape shape, double mean, double std);

 private:
  uint64_t seed_;
  uint64_t stream_ = 0;
};

}  // namespace fx::nn
