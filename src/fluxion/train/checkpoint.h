// One checkpoint = one file, model.safetensors, committed by a single rename: the model's
// weights under their parameter names (loadable by PyTorch's safetensors as they are), the
// training state (optimizer moments, EMA, loss scale, particles...) under "state/<key>", and
// metadata (format, method, step, config, version). A crash leaves the previous checkpoint
// or the new one, never a mix of two steps.
#pragma once
#include <cstdint>
#include <map>
#include <string>

#include "fluxion/core/tensor.h"

namespace fx::train {

struct Checkpoint {
  int64_t step = 0;
  std::string method;
  std::map<std::string, Tensor> weights;
  std::map<std::string, Tensor> state;
  std::map<std::string, std::string> metadata;  // extra entries (config, ...)
};

inline constexpr const char* kCheckpointFile = "model.safetensors";

void save_checkpoint(const std::string& dir, const Checkpoint& c);
// Reads dir/model.safetensors (and, for runs written before one-file checkpoints, the state
// from dir/train_state.safetensors at the same step). Errors name the file and field.
Checkpoint load_checkpoint(const std::string& dir);
bool has_checkpoint(const std::string& dir);

// Copies `from` into `to` by name, checking that every name is there with the same shape and
// dtype; errors name the file, the tensor and both shapes.
void restore_tensors(std::map<std::string, Tensor*> to, const std::map<std::string, Tensor>& from,
                     const std::string& file);

}  // namespace fx::train
