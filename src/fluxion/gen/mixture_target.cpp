#include "fluxion/gen/mixture_target.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numbers>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/json_limits.h"

namespace fx::gen {

namespace {

// Cholesky of a symmetric matrix; returns the failing row (>= 0) if it is not positive
// definite, else -1. pivot gets the offending diagonal value.
int64_t cholesky(const std::vector<double>& a, int64_t d, std::vector<double>& l, double* pivot) {
  l.assign(d * d, 0.0);
  for (int64_t i = 0; i < d; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double s = a[i * d + j];
      for (int64_t k = 0; k < j; ++k) s -= l[i * d + k] * l[j * d + k];
      if (i == j) {
        // Relative threshold: a pivot lost to rounding counts as singular, not positive.
        if (!(s > 1e-12 * std::max(1.0, std::fabs(a[i * d + i])))) {
          *pivot = s;
          return i;
        }
        l[i * d + i] = std::sqrt(s);
      } else {
        l[i * d + j] = s / l[j * d + j];
      }
    }
  return -1;
}

std::vector<double> doubles_of(const Tensor& x) { return x.to_vector(); }

// The size limits (mixture_target.h) for component k of dimension d, `entries` the D² of the
// components before it.
void check_size(int64_t d, int64_t k, int64_t entries, const std::string& where) {
  FX_CHECK(d <= kMaxMixtureDim, "{}: component {} has a mean of dimension {}; at most {}", where, k,
           d, kMaxMixtureDim);
  FX_CHECK(entries + d * d <= kMaxMixtureMatrixEntries,
           "{}: {} components of dimension {} need more than {} covariance entries", where, k + 1,
           d, kMaxMixtureMatrixEntries);
}

}  // namespace

GaussianMixture::GaussianMixture(std::vector<MixtureComponent> components, const std::string& where)
    : comps_(std::move(components)) {
  FX_CHECK(!comps_.empty(), "{}: the mixture has no components", where);
  dim_ = (int64_t)comps_[0].mean.size();
  FX_CHECK(dim_ > 0, "{}: component 0 has an empty mean", where);
  double total = 0;
  for (size_t k = 0; k < comps_.size(); ++k) {
    const MixtureComponent& c = comps_[k];
    FX_CHECK(std::isfinite(c.weight) && c.weight > 0,
             "{}: component {} has weight {}; weights must be positive", where, k, c.weight);
    total += c.weight;
    FX_CHECK((int64_t)c.mean.size() == dim_,
             "{}: component {} has a mean of dimension {}, component 0 has {}", where, k,
             c.mean.size(), dim_);
    for (double m : c.mean)
      FX_CHECK(std::isfinite(m), "{}: component {} has a non-finite mean entry {}", where, k, m);
    FX_CHECK((int64_t)c.cov.size() == dim_ * dim_,
             "{}: component {} has a covariance with {} entries, expected {}x{}", where, k,
             c.cov.size(), dim_, dim_);
    for (int64_t i = 0; i < dim_; ++i)
      for (int64_t j = 0; j < i; ++j) {
        double a = c.cov[i * dim_ + j], b = c.cov[j * dim_ + i];
        FX_CHECK(std::fabs(a - b) <= 1e-9 * std::max({1.0, std::fabs(a), std::fabs(b)}),
                 "{}: component {} has a non-symmetric covariance ([{}][{}] = {}, [{}][{}] = {})",
                 where, k, i, j, a, j, i, b);
      }
    Cache ch;
    double pivot = 0;
    int64_t bad = cholesky(c.cov, dim_, ch.chol, &pivot);
    FX_CHECK(bad < 0,
             "{}: component {} has a covariance that is not positive definite (pivot {} at row "
             "{})",
             where, k, pivot, bad);
    // Σ⁻¹ column by column from L Lᵀ y = e_j.
    ch.prec.assign(dim_ * dim_, 0.0);
    std::vector<double> y(dim_);
    for (int64_t j = 0; j < dim_; ++j) {
      for (int64_t i = 0; i < dim_; ++i) {
        double s = i == j ? 1.0 : 0.0;
        for (int64_t m = 0; m < i; ++m) s -= ch.chol[i * dim_ + m] * y[m];
        y[i] = s / ch.chol[i * dim_ + i];
      }
      for (int64_t i = dim_ - 1; i >= 0; --i) {
        double s = y[i];
        for (int64_t m = i + 1; m < dim_; ++m) s -= ch.chol[m * dim_ + i] * ch.prec[m * dim_ + j];
        ch.prec[i * dim_ + j] = s / ch.chol[i * dim_ + i];
      }
    }
    double logdet = 0;
    for (int64_t i = 0; i < dim_; ++i) logdet += 2 * std::log(ch.chol[i * dim_ + i]);
    ch.log_norm = std::log(c.weight) - 0.5 * (dim_ * std::log(2 * std::numbers::pi) + logdet);
    cache_.push_back(std::move(ch));
  }
  FX_CHECK(std::fabs(total - 1.0) <= 1e-6, "{}: the weights sum to {}, not 1 ({} components)",
           where, total, comps_.size());
}

GaussianMixture GaussianMixture::from_json(const nlohmann::json& j, const std::string& where) {
  FX_CHECK(j.is_object() && j.contains("components") && j["components"].is_array(),
           "{}: expected {{\"components\": [...]}}", where);
  std::vector<MixtureComponent> comps;
  int64_t k = 0, entries = 0;
  for (const auto& c : j["components"]) {
    try {
      MixtureComponent m;
      m.weight = c.at("weight").get<double>();
      m.mean = c.at("mean").get<std::vector<double>>();
      int64_t d = (int64_t)m.mean.size();
      check_size(d, k, entries, where);
      entries += d * d;
      if (c.contains("std")) {
        double s = c["std"].get<double>();
        FX_CHECK(std::isfinite(s) && s > 0, "{}: component {} has std {}; it must be positive",
                 where, k, s);
        m.cov.assign(d * d, 0.0);
        for (int64_t i = 0; i < d; ++i) m.cov[i * d + i] = s * s;
      } else {
        for (const auto& row : c.at("cov")) {
          auto r = row.get<std::vector<double>>();
          FX_CHECK((int64_t)r.size() == d,
                   "{}: component {} has a covariance row of {} entries for a mean of {}", where, k,
                   r.size(), d);
          m.cov.insert(m.cov.end(), r.begin(), r.end());
        }
      }
      comps.push_back(std::move(m));
    } catch (const nlohmann::json::exception& e) {
      fail("{}: component {}: {} (needs \"weight\", \"mean\" and \"cov\" or \"std\")", where, k,
           e.what());
    }
    ++k;
  }
  return GaussianMixture(std::move(comps), where);
}

GaussianMixture GaussianMixture::load(const std::string& path) {
  FX_CHECK(std::ifstream(path).good(), "cannot open the mixture file '{}'", path);
  // The bounded parser every user JSON goes through (depth limit; fuzzed by fuzz_json).
  return from_json(io::parse_json_bounded(io::read_file(path), io::kMaxJsonDepth, path), path);
}

bool GaussianMixture::is_builtin(const std::string& name) {
  return name == "8gaussians" || name == "25gaussians" || name == "gaussian";
}

GaussianMixture GaussianMixture::by_name(const std::string& name, int64_t dim) {
  if (name == "8gaussians") {
    std::vector<MixtureComponent> c;
    for (int k = 0; k < 8; ++k) {
      double a = k * 2 * std::numbers::pi / 8;
      c.push_back({1.0 / 8, {4 * std::cos(a), 4 * std::sin(a)}, {0.25, 0, 0, 0.25}});
    }
    return GaussianMixture(std::move(c), name);
  }
  if (name == "25gaussians") {
    std::vector<MixtureComponent> c;
    for (int k = 0; k < 25; ++k)
      c.push_back({1.0 / 25, {2.0 * (k % 5 - 2), 2.0 * (k / 5 - 2)}, {0.04, 0, 0, 0.04}});
    return GaussianMixture(std::move(c), name);
  }
  if (name == "gaussian") {
    FX_CHECK(dim > 0 && dim <= kMaxMixtureDim, "target gaussian: dimension {} must be in [1, {}]",
             dim, kMaxMixtureDim);
    MixtureComponent c{1.0, std::vector<double>(dim, 0.0), std::vector<double>(dim * dim, 0.0)};
    for (int64_t i = 0; i < dim; ++i) c.cov[i * dim + i] = 1.0;
    return GaussianMixture({c}, name);
  }
  return load(name);
}

void GaussianMixture::component_terms(const double* x, double* logs, double* grad,
                                      double* diff) const {
  for (size_t k = 0; k < comps_.size(); ++k) {
    const Cache& ch = cache_[k];
    for (int64_t i = 0; i < dim_; ++i) diff[i] = comps_[k].mean[i] - x[i];
    double q = 0;
    for (int64_t i = 0; i < dim_; ++i) {
      double s = 0;
      for (int64_t j = 0; j < dim_; ++j) s += ch.prec[i * dim_ + j] * diff[j];
      q += diff[i] * s;
      if (grad) grad[k * dim_ + i] = s;
    }
    logs[k] = ch.log_norm - 0.5 * q;
  }
}

double GaussianMixture::mahalanobis(const double* x, int64_t k) const {
  const Cache& ch = cache_[k];
  double q = 0;
  for (int64_t i = 0; i < dim_; ++i) {
    double s = 0;
    for (int64_t j = 0; j < dim_; ++j) s += ch.prec[i * dim_ + j] * (x[j] - comps_[k].mean[j]);
    q += (x[i] - comps_[k].mean[i]) * s;
  }
  return std::sqrt(std::max(q, 0.0));
}

namespace {
void check_points(const Tensor& x, int64_t dim, const char* what) {
  FX_CHECK(x.rank() == 2 && x.dim(1) == dim, "mixture {}: points {} do not match dimension {}",
           what, shape_str(x.shape()), dim);
}
}  // namespace

std::vector<double> GaussianMixture::log_density(const Tensor& x) const {
  check_points(x, dim_, "log-density");
  std::vector<double> v = doubles_of(x), out(x.dim(0));
  int64_t K = size();
#pragma omp parallel if (x.dim(0) * K * dim_ * dim_ > (1 << 20))
  {
    std::vector<double> logs(K), diff(dim_);
#pragma omp for
    for (int64_t n = 0; n < x.dim(0); ++n) {
      component_terms(v.data() + n * dim_, logs.data(), nullptr, diff.data());
      double m = *std::max_element(logs.begin(), logs.end()), s = 0;
      for (double l : logs) s += std::exp(l - m);
      out[n] = m + std::log(s);
    }
  }
  return out;
}

Tensor GaussianMixture::score(const Tensor& x) const {
  check_points(x, dim_, "score");
  int64_t N = x.dim(0), K = size();
  std::vector<double> v = doubles_of(x);
  Tensor out({N, dim_}, DType::f32);
  float* o = out.data<float>();
#pragma omp parallel if (N * K * dim_ * dim_ > (1 << 20))
  {
    std::vector<double> logs(K), grad(K * dim_), diff(dim_);
#pragma omp for
    for (int64_t n = 0; n < N; ++n) {
      component_terms(v.data() + n * dim_, logs.data(), grad.data(), diff.data());
      double m = *std::max_element(logs.begin(), logs.end()), s = 0;
      for (double& l : logs) s += (l = std::exp(l - m));
      for (int64_t i = 0; i < dim_; ++i) {
        double g = 0;
        for (int64_t k = 0; k < K; ++k) g += logs[k] * grad[k * dim_ + i];
        o[n * dim_ + i] = (float)(g / s);
      }
    }
  }
  return out;
}

Tensor GaussianMixture::sample(int64_t n, uint64_t seed) const {
  FX_CHECK(n > 0, "mixture sample: the count {} must be positive", n);
  std::vector<double> u(n), z(n * dim_);
  philox_uniform(seed, 0x4d495854ull, u.data(), n);  // "MIXT": its own streams
  philox_normal(seed, 0x4d495855ull, z.data(), n * dim_);
  std::vector<double> cdf;
  double c = 0;
  for (const auto& comp : comps_) cdf.push_back(c += comp.weight);
  Tensor out({n, dim_}, DType::f32);
  float* o = out.data<float>();
  for (int64_t r = 0; r < n; ++r) {
    int64_t k = std::lower_bound(cdf.begin(), cdf.end(), u[r] * c) - cdf.begin();
    k = std::min(k, size() - 1);
    const std::vector<double>& L = cache_[k].chol;
    for (int64_t i = 0; i < dim_; ++i) {
      double s = comps_[k].mean[i];
      for (int64_t j = 0; j <= i; ++j) s += L[i * dim_ + j] * z[r * dim_ + j];
      o[r * dim_ + i] = (float)s;
    }
  }
  return out;
}

}  // namespace fx::gen
