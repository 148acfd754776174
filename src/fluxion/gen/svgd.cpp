#include "fluxion/gen/svgd.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "fluxion/core/error.h"

namespace fx::gen {

namespace {
double sq_dist(const float* a, const float* b, int64_t d) {
  double s = 0;
  for (int64_t k = 0; k < d; ++k) s += double(a[k] - b[k]) * (a[k] - b[k]);
  return s;
}
}  // namespace

double median_bandwidth(const Tensor& x) {
  int64_t n = x.dim(0), d = x.dim(1);
  const float* p = x.data<float>();
  std::vector<double> dist;
  dist.reserve(n * (n - 1) / 2);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i + 1; j < n; ++j) dist.push_back(std::sqrt(sq_dist(p + i * d, p + j * d, d)));
  if (dist.empty()) return 1.0;
  auto mid = dist.begin() + dist.size() / 2;
  std::nth_element(dist.begin(), mid, dist.end());
  double med = *mid;
  double h = med * med / std::log(n + 1.0);
  return h > 0 ? h : 1.0;  // all particles at one point: any width gives the same push
}

double svgd_step(Tensor& x, const ScoreFn& score, double step_size, double bandwidth) {
  check_dt(step_size, "svgd");
  FX_CHECK(std::isfinite(bandwidth) && bandwidth >= 0,
           "svgd: the bandwidth {} must be positive (or 0 for the median heuristic)", bandwidth);
  int64_t n = x.dim(0), d = x.dim(1);
  double h = bandwidth > 0 ? bandwidth : median_bandwidth(x);
  Tensor g = score(x);
  const float* p = x.data<float>();
  const float* s = g.data<float>();
  std::vector<double> phi(n * d, 0.0);
#pragma omp parallel for if (n * n * d > (1 << 22))
  for (int64_t i = 0; i < n; ++i) {
    double* out = phi.data() + i * d;
    for (int64_t j = 0; j < n; ++j) {
      double k = std::exp(-sq_dist(p + j * d, p + i * d, d) / h);
      // ∇_{x_j} k(x_j, x_i) = (2/h)(x_i − x_j) k
      for (int64_t c = 0; c < d; ++c)
        out[c] += k * (s[j * d + c] + 2.0 / h * (p[i * d + c] - p[j * d + c]));
    }
  }
  float* q = x.data<float>();
  for (int64_t i = 0; i < n * d; ++i) q[i] += (float)(step_size * phi[i] / n);
  return h;
}

}  // namespace fx::gen
