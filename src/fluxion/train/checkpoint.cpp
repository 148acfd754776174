#include "fluxion/train/checkpoint.h"

#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/io/safetensors.h"

namespace fx::train {

namespace fs = std::filesystem;

namespace {
constexpr const char* kStatePrefix = "state/";
constexpr const char* kLegacyStateFile = "train_state.safetensors";

int64_t parse_step(const io::SafetensorsFile& f, const std::string& file) {
  auto it = f.metadata.find("step");
  FX_CHECK(it != f.metadata.end(), "{}: metadata has no 'step'", file);
  size_t used = 0;
  int64_t step = -1;
  try {
    step = std::stoll(it->second, &used);
  } catch (...) {
  }
  FX_CHECK(used == it->second.size() && step >= 0, "{}: metadata 'step' is '{}', not a step", file,
           it->second);
  return step;
}
}  // namespace

void save_checkpoint(const std::string& dir, const Checkpoint& c) {
  std::map<std::string, Tensor> tensors = c.weights;
  for (auto& [k, v] : c.state) tensors[kStatePrefix + k] = v;
  std::map<std::string, std::string> meta = c.metadata;
  meta["format"] = "fluxion-checkpoint";
  meta["fluxion_version"] = FLUXION_VERSION;
  meta["method"] = c.method;
  meta["step"] = std::to_string(c.step);
  // One file, one rename: weights and state always belong to the same step.
  io::save_safetensors((fs::path(dir) / kCheckpointFile).string(), tensors, meta);
  // A run written before one-file checkpoints kept its state apart; that file is stale now.
  std::error_code ec;
  fs::remove(fs::path(dir) / kLegacyStateFile, ec);
}

bool has_checkpoint(const std::string& dir) { return fs::exists(fs::path(dir) / kCheckpointFile); }

Checkpoint load_checkpoint(const std::string& dir) {
  std::string file = (fs::path(dir) / kCheckpointFile).string();
  io::SafetensorsFile f = io::load_safetensors(file);
  Checkpoint c;
  c.step = parse_step(f, file);
  c.metadata = f.metadata;
  auto m = f.metadata.find("method");
  if (m != f.metadata.end()) c.method = m->second;
  const std::string prefix = kStatePrefix;
  for (auto& [k, v] : f.tensors) {
    if (k.rfind(prefix, 0) == 0)
      c.state[k.substr(prefix.size())] = v;
    else
      c.weights[k] = v;
  }
  std::string legacy = (fs::path(dir) / kLegacyStateFile).string();
  if (c.state.empty() && fs::exists(legacy)) {
    io::SafetensorsFile s = io::load_safetensors(legacy);
    FX_CHECK(parse_step(s, legacy) == c.step, "{} is at step {} but {} at step {}", file, c.step,
             legacy, parse_step(s, legacy));
    c.state = std::move(s.tensors);
  }
  return c;
}

void restore_tensors(std::map<std::string, Tensor*> to, const std::map<std::string, Tensor>& from,
                     const std::string& file) {
  for (auto& [name, dst] : to) {
    auto it = from.find(name);
    FX_CHECK(it != from.end(), "{}: no tensor '{}' (a checkpoint of another model?)", file, name);
    FX_CHECK(it->second.shape() == dst->shape() && it->second.dtype() == dst->dtype(),
             "{}: tensor '{}' is {}{} but the model expects {}{} (a checkpoint of another model "
             "shape?)",
             file, name, dtype_name(it->second.dtype()), shape_str(it->second.shape()),
             dtype_name(dst->dtype()), shape_str(dst->shape()));
    *dst = it->second;
  }
}

}  // namespace fx::train
