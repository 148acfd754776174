// A module's parameters to and from safetensors-style name → tensor maps, with errors that
// name the file and the tensor. Shared by every run kind's checkpoints.
#pragma once
#include <map>
#include <string>

#include "fluxion/io/safetensors.h"
#include "fluxion/nn/module.h"

namespace fx::nn {

// Copies each parameter's tensor from `f` (converted to the parameter's dtype); a missing
// or wrongly shaped tensor throws naming `path` and the tensor.
void load_parameters(Module& m, const io::SafetensorsFile& f, const std::string& path);
// name → current value of every parameter.
std::map<std::string, Tensor> parameter_tensors(Module& m);

}  // namespace fx::nn
