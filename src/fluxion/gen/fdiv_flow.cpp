#include "fluxion/gen/fdiv_flow.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/data/point_source.h"

namespace fx::gen {

FDivergence fdivergence_from_name(const std::string& name) {
  if (name == "kl") return FDivergence::kl;
  if (name == "reverse-kl") return FDivergence::reverse_kl;
  if (name == "js") return FDivergence::js;
  fail("unknown f-divergence '{}' (kl, reverse-kl, js)", name);
}

std::string fdivergence_name(FDivergence f) {
  switch (f) {
    case FDivergence::kl:
      return "kl";
    case FDivergence::reverse_kl:
      return "reverse-kl";
    case FDivergence::js:
      return "js";
  }
  return "?";
}

double fdiv_weight(FDivergence f, double d, double max_log_ratio) {
  switch (f) {
    case FDivergence::kl:
      return std::exp(std::min(d, max_log_ratio));
    case FDivergence::reverse_kl:
      return 1.0;
    case FDivergence::js:
      return 1.0 / (1.0 + std::exp(-d));
  }
  return 0.0;
}

FDivFlow::FDivFlow(TargetSampler target, const FDivFlowOptions& o, const RatioClassifierConfig& c)
    : target_(std::move(target)), o_(o), clf_(c) {
  check_dt(o.dt, "f-divergence flow");
  FX_CHECK(o.classifier_steps > 0, "f-divergence flow: classifier steps {} must be positive",
           o.classifier_steps);
}

double FDivFlow::step(Tensor& x, int64_t step) {
  check_particles(x, "f-divergence flow");
  FX_CHECK(x.dim(1) == clf_.config().dim, "f-divergence flow: particles {} but dimension {}",
           shape_str(x.shape()), clf_.config().dim);
  int64_t b = clf_.config().batch;
  double loss = 0;
  int64_t fits = o_.classifier_steps + (step == 1 ? o_.classifier_warmup : 0);
  for (int64_t k = 0; k < fits; ++k) {
    uint64_t s = data::mix_seed(o_.seed, step, k);
    loss = clf_.train_step(target_(b, s), data::take_rows(x, data::random_rows(x.dim(0), b, s)));
  }
  Tensor d, g;
  clf_.logit_and_grad(x, &d, &g);
  int64_t n = x.dim(0), dim = x.dim(1);
  float* p = x.data<float>();
  const float* dv = d.data<float>();
  const float* gv = g.data<float>();
  std::vector<double> w(n);
  double mean_w = 0;
  for (int64_t i = 0; i < n; ++i) mean_w += (w[i] = fdiv_weight(o_.f, dv[i], o_.max_log_ratio));
  mean_w /= n;
  double dt = o_.normalize_time && mean_w > 0 ? o_.dt / mean_w : o_.dt;
  if (o_.max_move > 0) {
    double fastest = 0;
    for (int64_t i = 0; i < n; ++i) {
      double g2 = 0;
      for (int64_t c = 0; c < dim; ++c) g2 += double(gv[i * dim + c]) * gv[i * dim + c];
      fastest = std::max(fastest, w[i] * std::sqrt(g2));
    }
    if (dt * fastest > o_.max_move) dt = o_.max_move / fastest;
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < dim; ++c) p[i * dim + c] += (float)(dt * w[i] * gv[i * dim + c]);
  check_step(x, "f-divergence flow (" + fdivergence_name(o_.f) + ")", step);
  return loss;
}

}  // namespace fx::gen
