// `fluxion compare-precision <method>`: the same run (same options, seed, data and steps)
// trained once per precision, its loss curves overlaid in one picture, and a table of final
// loss, the method's own scores (evaluate) and training time beside the first precision's:
// the evidence that mixed precision tracks full precision, for any registered method.
#pragma once
#include <string>
#include <vector>

#include "fluxion/methods/method.h"

namespace fx::experiments {

struct ComparePrecisionOptions {
  std::string out = "runs/precision";
  std::vector<std::string> precisions = {"fp32", "bf16", "fp16"};
  int64_t eval_n = 4000;  // samples scored per precision
};

// `base` holds the options (its declare()d fields); `train` the shared training options.
void compare_precision(methods::Method& base, const train::TrainConfig& train,
                       const ComparePrecisionOptions& o);

// Mean of the last quarter of a loss curve: one noisy point decides nothing.
double tail_mean(const std::vector<double>& v);

}  // namespace fx::experiments
