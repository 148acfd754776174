// Reverse-mode autodiff as a graph transform: appends VJP nodes to the same graph.
// Because VJPs are written with ordinary ops, grad of grad works wherever the VJP's
// own ops are differentiable.
#pragma once
#include <vector>

#include "fluxion/ir/graph.h"

namespace fx {

// d(loss)/d(wrt[i]) for a scalar floating loss. A wrt value that the loss does not
// depend on gets zeros. Throws naming the op if the path crosses an op with no VJP.
std::vector<Var> grad(Var loss, const std::vector<Var>& wrt);

// General form: cotangents of several outputs pulled back to wrt.
std::vector<Var> vjp(const std::vector<Var>& outputs, const std::vector<Var>& cotangents,
                     const std::vector<Var>& wrt);

}  // namespace fx
