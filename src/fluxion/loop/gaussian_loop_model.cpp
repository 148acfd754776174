#include "fluxion/loop/gaussian_loop_model.h"

#include <cmath>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/json_limits.h"
#include "fluxion/metrics/symmetric_eigen.h"

namespace fx::loop {

void GaussianLoopModel::set(metrics::GaussianFit g) {
  g_ = std::move(g);
  sqrt_cov_ = metrics::symmetric_sqrt(g_.cov, g_.dim);
}

void GaussianLoopModel::fit(const Tensor& x, uint64_t seed, const std::string& gen_dir,
                            const std::string& warm_from) {
  FX_CHECK(warm_from.empty(), "--warm-start: the closed-form model has no weights to carry over");
  set(metrics::fit_gaussian(x));  // unbiased: divides by N − 1
  if (gen_dir.empty()) return;
  nlohmann::json j = {{"mean", g_.mean}, {"cov", g_.cov}, {"count", g_.count}, {"dim", g_.dim}};
  io::write_file_atomic(gen_dir + "/" + kGaussianFile, j.dump(1) + "\n");
}

void GaussianLoopModel::load(const std::string& gen_dir) {
  std::string path = gen_dir + "/" + kGaussianFile;
  nlohmann::json j = io::parse_json_bounded(io::read_file(path), io::kMaxJsonDepth, path);
  metrics::GaussianFit g;
  try {
    g.dim = j.at("dim").get<int64_t>();
    g.count = j.at("count").get<int64_t>();
    g.mean = j.at("mean").get<std::vector<double>>();
    g.cov = j.at("cov").get<std::vector<double>>();
  } catch (const std::exception& e) {
    fail("{}: not a Gaussian fit ({})", path, e.what());
  }
  FX_CHECK(g.dim >= 1 && (int64_t)g.mean.size() == g.dim && (int64_t)g.cov.size() == g.dim * g.dim,
           "{}: mean/cov sizes do not match dim {}", path, g.dim);
  set(std::move(g));
}

Tensor GaussianLoopModel::sample(int64_t n, uint64_t seed, double lambda) {
  FX_CHECK(g_.dim > 0, "GaussianLoopModel: sample before fit");
  FX_CHECK(lambda > 0 && lambda <= 1, "sampling bias lambda must be in (0, 1], got {}", lambda);
  const int64_t D = g_.dim;
  std::vector<double> z(n * D);
  philox_normal(seed, 0, z.data(), n * D);
  const double s = std::sqrt(lambda);
  Tensor out({n, D}, DType::f32);
  float* o = out.data<float>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t a = 0; a < D; ++a) {
      double v = g_.mean[a];
      for (int64_t b = 0; b < D; ++b) v += s * sqrt_cov_[a * D + b] * z[i * D + b];
      o[i * D + a] = float(v);
    }
  return out;
}

double GaussianLoopModel::trace() const {
  double t = 0;
  for (int64_t a = 0; a < g_.dim; ++a) t += g_.cov[a * g_.dim + a];
  return t;
}

nlohmann::json GaussianLoopModel::model_metrics(const metrics::GaussianFit& real,
                                                double lambda) const {
  double shift = 0;
  for (int64_t a = 0; a < g_.dim; ++a) shift += std::pow(g_.mean[a] - real.mean[a], 2);
  return {{"trace_cov", lambda * trace()}, {"mean_shift2", shift}};
}

}  // namespace fx::loop
