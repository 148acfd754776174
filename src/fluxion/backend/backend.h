// Backends run single nodes. The interpreter (exec/) and, later, the compiler talk to
// kernels only through this interface, so nothing outside backend/ assumes the CPU.
#pragma once
#include <span>

#include "fluxion/ir/graph.h"

namespace fx {

class Backend {
 public:
  virtual ~Backend() = default;
  virtual const char* name() const = 0;
  virtual bool supports(const Node& node) const = 0;
  // Computes a node's value from its inputs' values (in node.inputs order). Returns a
  // new tensor, or an input's storage re-viewed where the op is a pure relabelling.
  virtual Tensor execute(const Node& node, std::span<const Tensor> inputs) = 0;
};

Backend& cpu_backend();

}  // namespace fx
