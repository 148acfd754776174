// Donation (JAX's donate_argnums), decided at compile time: output o may be written into
// the buffer of the input it replaces (a parameter and its update, an optimizer state)
// when a generated elementwise kernel writes o at the index it reads the input, and nothing
// reads the input after that kernel. The executor checks at run time that the caller gave
// the buffer up (CompileOptions::donate).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "fluxion/compiler/fusion.h"
#include "fluxion/compiler/liveness.h"

namespace fx::compiler {

// `requests`: (output index, input name) pairs; `generated[k]`: kernel k runs generated
// code (the reference fallback writes fresh tensors). Returns, per value, the input node
// whose buffer it may overwrite, or -1. Requests that do not qualify are dropped quietly;
// an output index out of range is an error.
std::vector<int> plan_donation(const Program& p, const FusionPlan& plan, const Liveness& live,
                               const std::vector<char>& generated,
                               const std::vector<std::pair<int, std::string>>& requests);

}  // namespace fx::compiler
