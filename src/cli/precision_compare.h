// Shared by `fluxion compare-precision`'s two methods (rectified flow and DDPM): the same run
// trained once per precision, its loss curves overlaid and its final loss compared.
#pragma once
#include <string>
#include <vector>

#include "fluxion/core/error.h"
#include "fluxion/run/ddpm_run.h"

namespace fx::cli {

// Mean of the last quarter of a loss curve: one noisy point decides nothing.
inline double tail_mean(const std::vector<double>& v) {
  FX_CHECK(!v.empty(), "no losses were logged");
  size_t from = v.size() - std::max<size_t>(1, v.size() / 4);
  double s = 0;
  for (size_t i = from; i < v.size(); ++i) s += v[i];
  return s / double(v.size() - from);
}

struct DdpmPrecisionOptions {
  int64_t eval_n = 500;     // images sampled and scored per precision
  int64_t eval_steps = 50;  // DDIM steps (eta 0)
};

// Trains `base` once per precision under <out>/<precision>, scores each with DDIM against the
// Fashion-MNIST test split and writes <out>/loss_curves.png and <out>/report.md.
void compare_precision_ddpm(const run::DdpmRunConfig& base, const std::string& out,
                            const std::vector<std::string>& precisions,
                            const DdpmPrecisionOptions& o);

}  // namespace fx::cli
