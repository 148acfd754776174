#include "fluxion/nn/module_io.h"

#include "fluxion/core/error.h"

namespace fx::nn {

void load_parameters(Module& m, const io::SafetensorsFile& f, const std::string& path) {
  for (auto& [name, p] : m.named_parameters()) {
    auto it = f.tensors.find(name);
    FX_CHECK(it != f.tensors.end(), "{}: missing tensor '{}'", path, name);
    FX_CHECK(it->second.shape() == p->value.shape(), "{}: tensor '{}' is {}, the model needs {}",
             path, name, shape_str(it->second.shape()), shape_str(p->value.shape()));
    p->value = it->second.to(p->value.dtype());
  }
}

std::map<std::string, Tensor> parameter_tensors(Module& m) {
  std::map<std::string, Tensor> w;
  for (auto& [name, p] : m.named_parameters()) w[name] = p->value;
  return w;
}

}  // namespace fx::nn
