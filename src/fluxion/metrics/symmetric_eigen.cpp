#include "fluxion/metrics/symmetric_eigen.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "fluxion/core/error.h"

namespace fx::metrics {

SymmetricEigen symmetric_eigen(const std::vector<double>& a_in, int64_t n) {
  FX_CHECK(n >= 1 && (int64_t)a_in.size() == n * n, "symmetric_eigen: {} values for a {}x{} matrix",
           a_in.size(), n, n);
  std::vector<double> a = a_in, v(n * n, 0.0);
  double scale = 0;
  for (double x : a) scale = std::max(scale, std::abs(x));
  for (int64_t i = 0; i < n; ++i) {
    v[i * n + i] = 1.0;
    for (int64_t j = i + 1; j < n; ++j)
      FX_CHECK(std::abs(a[i * n + j] - a[j * n + i]) <= 1e-9 * std::max(scale, 1e-300),
               "symmetric_eigen: matrix is not symmetric at ({}, {}): {} vs {}", i, j, a[i * n + j],
               a[j * n + i]);
  }
  auto off_norm = [&] {
    double s = 0;
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = i + 1; j < n; ++j) s += a[i * n + j] * a[i * n + j];
    return std::sqrt(s);
  };
  double frob = 0;
  for (double x : a) frob += x * x;
  frob = std::sqrt(frob);
  // Cyclic sweeps converge quadratically; 50 sweeps is far beyond what 64×64 needs.
  for (int sweep = 0; sweep < 50 && off_norm() > 1e-15 * frob; ++sweep) {
    for (int64_t p = 0; p < n; ++p) {
      for (int64_t q = p + 1; q < n; ++q) {
        double apq = a[p * n + q];
        if (apq == 0.0) continue;
        // Rotation angle that zeroes a[p][q] (Golub & Van Loan, Algorithm 8.4.2).
        double tau = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
        double t = (tau >= 0 ? 1.0 : -1.0) / (std::abs(tau) + std::sqrt(1.0 + tau * tau));
        double c = 1.0 / std::sqrt(1.0 + t * t), s = t * c;
        for (int64_t k = 0; k < n; ++k) {  // A ← A J (columns p, q)
          double akp = a[k * n + p], akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (int64_t k = 0; k < n; ++k) {  // A ← Jᵀ A (rows p, q)
          double apk = a[p * n + k], aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        for (int64_t k = 0; k < n; ++k) {  // V ← V J
          double vkp = v[k * n + p], vkq = v[k * n + q];
          v[k * n + p] = c * vkp - s * vkq;
          v[k * n + q] = s * vkp + c * vkq;
        }
      }
    }
  }
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](int64_t i, int64_t j) { return a[i * n + i] < a[j * n + j]; });
  SymmetricEigen e;
  e.values.resize(n);
  e.vectors.resize(n * n);
  for (int64_t j = 0; j < n; ++j) {
    e.values[j] = a[order[j] * n + order[j]];
    for (int64_t k = 0; k < n; ++k) e.vectors[k * n + j] = v[k * n + order[j]];
  }
  return e;
}

std::vector<double> symmetric_sqrt(const std::vector<double>& a, int64_t n) {
  SymmetricEigen e = symmetric_eigen(a, n);
  std::vector<double> r(n * n, 0.0);
  for (int64_t j = 0; j < n; ++j) {
    double s = std::sqrt(std::max(0.0, e.values[j]));
    for (int64_t i = 0; i < n; ++i) {
      double vi = e.vectors[i * n + j] * s;
      for (int64_t k = 0; k < n; ++k) r[i * n + k] += vi * e.vectors[k * n + j];
    }
  }
  return r;
}

}  // namespace fx::metrics
