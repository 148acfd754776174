// `fluxion eval --method ddpm`: samples a DDPM run with one sampler and scores the images
// (FD-FMNIST, k-NN precision/recall) against the Fashion-MNIST test split, beside the
// train-vs-test floor for the same n. Each evaluation appends a line to <run>/eval.jsonl;
// <run>/eval.md is rewritten from all of them.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "fluxion/run/ddpm_run.h"
#include "fluxion/run/image_metrics.h"

namespace fx::run {

struct DdpmEvalOptions {
  int64_t n = 1000;
  gen::SamplerOptions sampler;
  std::string variance = "beta";  // ancestral only, for the label
  std::string classifier = default_classifier_path();
  std::string data_dir;  // Fashion-MNIST test split ("" = default)
};

struct DdpmEvalResult {
  std::string sampler;  // human label, e.g. "ddim 50 steps eta 0"
  ImageScores scores, floor;
  int64_t network_calls = 0;  // per image batch, summed
  double seconds = 0, images_per_second = 0;
  std::string grid;  // PNG of the first 64 samples
  nlohmann::json to_json(const DdpmRun& r) const;
};

// "DDIM 50 steps, eta 0", "PF-ODE RK45 (rtol 0.001, atol 0.001)", "ancestral 1000 steps, ...".
std::string sampler_label(const gen::SamplerOptions& o, const DdpmRun& r,
                          const std::string& variance);

DdpmEvalResult evaluate_ddpm(DdpmRun& run, const std::string& dir, const DdpmEvalOptions& o);

}  // namespace fx::run
