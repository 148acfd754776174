#include "fluxion/gen/pfgm.h"

#include <cmath>
#include <limits>

#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"

namespace fx::gen {

void PfgmConfig::validate() const {
  auto positive = [](const char* name, double v) {
    FX_CHECK(std::isfinite(v) && v > 0, "pfgm: --{} must be positive, got {}", name, v);
  };
  positive("sigma", sigma);
  positive("tau", tau);
  positive("gamma", gamma);
  positive("z-max", z_max);
  positive("z-exp", z_exp);
  positive("eps", eps);
  FX_CHECK(std::isfinite(M) && M >= 0, "pfgm: --m must be >= 0 (0: automatic), got {}", M);
  FX_CHECK(small_batch > 0, "pfgm: the batch size (--batch) must be positive, got {}", small_batch);
  FX_CHECK(large_batch > 0, "pfgm: --large-batch must be positive, got {}", large_batch);
  FX_CHECK(large_batch >= small_batch,
           "pfgm: --large-batch ({}) must be at least the batch size (--batch, {})", large_batch,
           small_batch);
  FX_CHECK(std::isfinite(upper_norm) && upper_norm >= 1, "pfgm: --upper-norm must be >= 1, got {}",
           upper_norm);
  FX_CHECK(eps < z_max, "pfgm: --eps ({}) must be below --z-max ({})", eps, z_max);
}

double PfgmConfig::resolved_M() const {
  return M > 0 ? M : std::log(z_max / sigma) / std::log1p(tau);
}

Tensor pfgm_perturb(const Tensor& x0, const PfgmConfig& c, uint64_t seed) {
  FX_CHECK(x0.rank() == 2 && x0.dtype() == DType::f32,
           "pfgm_perturb: x0 must be f32 [B, N], got {}", shape_str(x0.shape()));
  const int64_t B = x0.dim(0), N = x0.dim(1);
  const double M = c.resolved_M();
  // Streams: 0 m, 1 ε_z, 2 ε_x, 3 direction, 4 the restricted m.
  std::vector<double> m(B), ez(B), ex(B * N), dir(B * N), m2(B);
  philox_uniform(seed, 0, m.data(), B);
  philox_normal(seed, 1, ez.data(), B);
  philox_normal(seed, 2, ex.data(), B * N);
  philox_normal(seed, 3, dir.data(), B * N);
  philox_uniform(seed, 4, m2.data(), B);
  const double restricted = std::floor(0.7 * M);  // the reference's int(M * 0.7)
  Tensor out({B, N + 1}, DType::f32);
  const float* xp = x0.data<float>();
  float* op = out.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    double z = std::fabs(ez[b] * c.sigma);
    // The reference tests z after abs(): the rule fires for small |ε_z| only.
    double mb = (c.restrict_M && z < 0.005) ? m2[b] * restricted : m[b] * M;
    double mult = std::pow(1.0 + c.tau, mb);
    double nx = 0, nd = 0;
    for (int64_t i = 0; i < N; ++i) {
      nx += ex[b * N + i] * ex[b * N + i];
      nd += dir[b * N + i] * dir[b * N + i];
    }
    double radius = std::sqrt(nx) * c.sigma * mult / std::sqrt(nd);
    for (int64_t i = 0; i < N; ++i)
      op[b * (N + 1) + i] = float(xp[b * N + i] + radius * dir[b * N + i]);
    // z > 0 for the network's log z (the reference clamps it at 1e-10).
    op[b * (N + 1) + N] = float(std::max(z * mult, 1e-10));
  }
  return out;
}

EmpiricalField pfgm_empirical_field(const Tensor& at, const Tensor& data) {
  FX_CHECK(data.rank() == 2 && data.dtype() == DType::f32 && data.dim(0) > 0,
           "pfgm field: data must be f32 [L, N] with L > 0, got {}", shape_str(data.shape()));
  const int64_t L = data.dim(0), N = data.dim(1), D = N + 1;
  FX_CHECK(at.rank() == 2 && at.dtype() == DType::f32 && at.dim(1) == D,
           "pfgm field: points must be f32 [B, {}] (data dimension + 1), got {}", D,
           shape_str(at.shape()));
  const int64_t B = at.dim(0);
  EmpiricalField f;
  f.rows = B;
  f.cols = D;
  f.E.assign(B * D, 0.0);
  f.log_norm.assign(B, 0.0);
  const float* ap = at.data<float>();
  const float* dp = data.data<float>();
  const int64_t k = N + 1;  // w_j = (d2_min / d2_j)^{k/2}
#pragma omp parallel for schedule(static) if (B * L * N > (1 << 16))
  for (int64_t b = 0; b < B; ++b) {
    const float* p = ap + b * D;
    const double z2 = double(p[N]) * p[N];
    // Pass 1: squared distances of this row (L doubles, not a [B, L] matrix) and their
    // minimum; the weights relative to the nearest charge then lie in (0, 1], so nothing
    // overflows for any N (the reference's min_dist/dist form).
    std::vector<double> d2(L);
    double d2min = std::numeric_limits<double>::infinity();
    for (int64_t j = 0; j < L; ++j) {
      const float* q = dp + j * N;
      double s = z2;
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < N; ++i) {
        double t = double(q[i]) - p[i];
        s += t * t;
      }
      // dist = 0 (a point on a charge) is an infinitely heavy weight: clamp as the
      // reference's 1e-7 does.
      d2[j] = std::max(s, 1e-28);
      d2min = std::min(d2min, d2[j]);
    }
    // Pass 2: w_j = r^{k/2}, r = d2min/d2_j, by repeated squaring for small k (sqrt for an
    // odd k), else exp(k/2·log r); weights below e^{-60} do not change the sums.
    std::vector<double> acc(N, 0.0);
    double sum = 0;
    for (int64_t j = 0; j < L; ++j) {
      double r = d2min / d2[j], w;
      if (k <= 64) {
        w = k % 2 ? std::sqrt(r) : 1.0;
        double base = r;
        for (int64_t e = k / 2; e > 0; e >>= 1, base *= base)
          if (e & 1) w *= base;
      } else {
        double lw = 0.5 * double(k) * std::log(r);
        if (lw < -60) continue;
        w = std::exp(lw);
      }
      if (w < 1e-26) continue;
      sum += w;
      const float* q = dp + j * N;
#pragma omp simd
      for (int64_t i = 0; i < N; ++i) acc[i] += w * q[i];
    }
    double* e = f.E.data() + b * D;
    for (int64_t i = 0; i < N; ++i) e[i] = acc[i] / sum - p[i];
    e[N] = -double(p[N]);  // every charge is at z = 0
    f.log_norm[b] = std::log(sum) - 0.5 * double(k) * std::log(d2min);
  }
  return f;
}

Tensor pfgm_field_target(const Tensor& at, const Tensor& data, double gamma) {
  FX_CHECK(std::isfinite(gamma) && gamma > 0, "pfgm: --gamma must be positive, got {}", gamma);
  EmpiricalField f = pfgm_empirical_field(at, data);
  const int64_t B = f.rows, D = f.cols;
  const double scale = std::sqrt(double(D - 1));
  Tensor out({B, D}, DType::f32);
  float* op = out.data<float>();
  for (int64_t b = 0; b < B; ++b) {
    const double* e = f.E.data() + b * D;
    double n2 = 0;
    for (int64_t i = 0; i < D; ++i) n2 += e[i] * e[i];
    double k = scale / (std::sqrt(n2) + gamma);
    for (int64_t i = 0; i < D; ++i) op[b * D + i] = float(e[i] * k);
  }
  return out;
}

PoissonMLP::PoissonMLP(const PoissonMLPConfig& cfg, nn::InitRng& rng) : cfg_(cfg) {
  FX_CHECK(cfg.dim > 0 && cfg.hidden > 0 && cfg.layers > 0,
           "pfgm model: dim, hidden and layers must be positive (got {}, {}, {})", cfg.dim,
           cfg.hidden, cfg.layers);
  std::vector<int64_t> hidden(cfg.layers, cfg.hidden);
  net_ = register_module(
      "net", std::make_shared<nn::MLP>(cfg.dim + 1, hidden, cfg.dim + 1, rng, cfg.activation));
}

Var PoissonMLP::operator()(Var x, Var z) const { return (*net_)(concat({x, log(z)}, 1)); }

Var pfgm_loss(Var net_out, Var target) {
  FX_CHECK(net_out.shape() == target.shape(), "pfgm loss: output {} and target {} differ",
           shape_str(net_out.shape()), shape_str(target.shape()));
  return mean(sum(square(net_out - target), {1}));
}

Var pfgm_loss(const PoissonMLP& net, Var xz, Var target) {
  int64_t N = net.config().dim;
  FX_CHECK(xz.rank() == 2 && xz.dim(1) == N + 1,
           "pfgm loss: points {} do not match the model's dimension {} + 1", shape_str(xz.shape()),
           N);
  Var x = slice_axis(xz, 1, 0, N);
  Var z = slice_axis(xz, 1, N, N + 1);
  return pfgm_loss(net(x, z), target);
}

}  // namespace fx::gen
