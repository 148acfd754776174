#include "fluxion/gen/ddpm.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/runtime/executor.h"

namespace fx::gen {

DdpmSchedule make_schedule(const std::string& name, int64_t T, double beta_start, double beta_end) {
  FX_CHECK(T >= 2, "DDPM schedule: T = {} must be at least 2", T);
  DdpmSchedule s;
  s.name = name;
  s.betas.resize(T);
  if (name == "linear") {
    FX_CHECK(0 < beta_start && beta_start <= beta_end && beta_end < 1,
             "DDPM schedule: need 0 < beta_start {} <= beta_end {} < 1", beta_start, beta_end);
    for (int64_t t = 0; t < T; ++t)
      s.betas[t] = beta_start + (beta_end - beta_start) * double(t) / double(T - 1);
  } else if (name == "cosine") {
    const double off = 0.008;
    auto f = [&](double t) {
      double c = std::cos((t / double(T) + off) / (1 + off) * M_PI / 2);
      return c * c;
    };
    for (int64_t t = 0; t < T; ++t)
      s.betas[t] = std::min(1.0 - f(double(t + 1)) / f(double(t)), 0.999);
  } else {
    fail("unknown DDPM schedule '{}' (expected linear or cosine)", name);
  }
  s.abar.resize(T);
  double a = 1.0;
  for (int64_t t = 0; t < T; ++t) s.abar[t] = a *= 1.0 - s.betas[t];
  return s;
}

Prediction prediction_from_name(const std::string& name) {
  if (name == "eps") return Prediction::eps;
  if (name == "v") return Prediction::v;
  fail("unknown DDPM prediction '{}' (expected eps or v)", name);
}

Variance variance_from_name(const std::string& name) {
  if (name == "beta") return Variance::beta;
  if (name == "beta-tilde") return Variance::beta_tilde;
  fail("unknown DDPM variance '{}' (expected beta or beta-tilde)", name);
}

namespace {
Var fold(Var key, int64_t k) {
  return key + key.graph->constant(Tensor::from({0.0, std::ldexp((double)k, 32)}, {2}, DType::i64));
}
}  // namespace

Var ddpm_loss(const nn::UNet& model, const DdpmSchedule& s, Var x0, Var key, Prediction pred) {
  FX_CHECK(x0.rank() == 4, "DDPM: images must be [B, C, H, W], got {}", shape_str(x0.shape()));
  return ddpm_loss([&model](Var xt, Var t, Var k) { return model(xt, t, k); }, s, x0, key, pred);
}

Var ddpm_loss(const NoiseModel& model, const DdpmSchedule& s, Var x0, Var key, Prediction pred) {
  FX_CHECK(x0.rank() >= 2, "DDPM: data must be [B, ...], got {}", shape_str(x0.shape()));
  Graph& g = *x0.graph;
  int64_t B = x0.dim(0), T = s.T();
  Var u = random_uniform(fold(key, 0), {B}, DType::f32);
  Var t = minimum(floor(u * double(T)), scalar_like(u, double(T - 1)));  // U{0..T-1}
  std::vector<double> sa(T), sb(T);
  for (int64_t i = 0; i < T; ++i) {
    sa[i] = std::sqrt(s.abar[i]);
    sb[i] = std::sqrt(1.0 - s.abar[i]);
  }
  Var idx = cast(t, DType::i64);
  Shape col(x0.rank(), 1);
  col[0] = B;
  Var a = reshape(gather(g.constant(Tensor::from(sa, {T}, x0.dtype())), idx), col);
  Var b = reshape(gather(g.constant(Tensor::from(sb, {T}, x0.dtype())), idx), col);
  Var eps = random_normal(fold(key, 1), x0.shape(), x0.dtype());
  Var xt = a * x0 + b * eps;
  Var out = model(xt, t, fold(key, 2));
  Var target = pred == Prediction::eps ? eps : a * eps - b * x0;
  return mse_loss(out, target);
}

namespace {

// The model traced once for a fixed batch, through the precision pass unless fp32, run by
// the interpreter or compiled; weights are fed on every call.
class Denoiser {
 public:
  Denoiser(nn::UNet& model, const std::map<std::string, Tensor>& weights, int64_t batch,
           const amp::PrecisionPolicy& precision, bool compile)
      : batch_(batch) {
    model.bind(graph_);
    const nn::UNetConfig& c = model.config();
    shape_ = {batch, c.in_channels, c.image_size, c.image_size};
    Var x = graph_.input("x", shape_);
    Var t = graph_.input("t", {batch});
    exec_ = runtime::make_executor(graph_, {model(x, t)}, {precision, compile, {}});
    for (auto& [name, p] : model.named_parameters()) {
      auto it = weights.find(name);
      feeds_[name] = it != weights.end() ? it->second : p->value;
    }
  }
  const Shape& shape() const { return shape_; }
  Tensor operator()(const Tensor& x, double t) {
    feeds_["x"] = x;
    feeds_["t"] = Tensor::full({batch_}, t);
    return exec_.run(feeds_)[0];
  }

 private:
  int64_t batch_;
  Shape shape_;
  Graph graph_;
  runtime::Executor exec_;  // graph_, after the precision pass
  Feeds feeds_;
};

// One reverse step from x_t (in place) given the network output at t, going to the step
// with ā_prev (1 at the end); sigma is the noise scale; z the noise (may be null when 0).
void reverse_step(float* x, const float* out, const float* z, int64_t n, double ab, double ab_prev,
                  Prediction pred, bool ddim, double beta, double sigma, double clip) {
  double sa = std::sqrt(ab), sb = std::sqrt(1.0 - ab);
  double c1 = beta * std::sqrt(ab_prev) / (1.0 - ab);
  double c2 = (1.0 - ab_prev) * std::sqrt(1.0 - beta) / (1.0 - ab);
  double dir = std::sqrt(std::max(0.0, 1.0 - ab_prev - sigma * sigma));
  for (int64_t i = 0; i < n; ++i) {
    double xi = x[i], o = out[i];
    double x0 = pred == Prediction::eps ? (xi - sb * o) / sa : sa * xi - sb * o;
    if (clip > 0) x0 = std::clamp(x0, -clip, clip);
    double next;
    if (ddim) {
      double eps = (xi - sa * x0) / sb;  // consistent with the clipped x0
      next = std::sqrt(ab_prev) * x0 + dir * eps;
    } else {
      next = c1 * x0 + c2 * xi;
    }
    if (z) next += sigma * z[i];
    x[i] = (float)next;
  }
}

}  // namespace

void scale_noise(Tensor& x, double scale) {
  FX_CHECK(std::isfinite(scale) && scale > 0, "--source-scale must be positive, got {}", scale);
  if (scale == 1.0) return;
  float* p = x.data<float>();
  for (int64_t i = 0; i < x.numel(); ++i) p[i] = float(p[i] * scale);
}

Tensor ddpm_sample(const Predictor& net, const Shape& batch_shape, const DdpmSchedule& s,
                   Prediction pred, int64_t n, const SamplerOptions& o, const ProgressFn& progress,
                   SampleStats* stats) {
  if (o.method == "ode") return ddpm_sample_ode(net, batch_shape, s, pred, n, o, progress, stats);
  FX_CHECK(n > 0, "DDPM sampling: number of images {} must be positive", n);
  FX_CHECK(!batch_shape.empty() && batch_shape[0] > 0, "DDPM sampling: bad batch shape {}",
           shape_str(batch_shape));
  bool ddim = o.method == "ddim";
  FX_CHECK(ddim || o.method == "ancestral",
           "unknown DDPM sampler '{}' (expected ancestral, ddim or ode)", o.method);
  int64_t T = s.T();
  std::vector<int64_t> taus;
  if (ddim) {
    FX_CHECK(o.steps >= 1 && o.steps <= T, "DDIM: steps {} must be in [1, {}]", o.steps, T);
    FX_CHECK(o.eta >= 0 && o.eta <= 1, "DDIM: eta {} must be in [0, 1]", o.eta);
    for (int64_t i = 0; i < o.steps; ++i) taus.push_back(i * T / o.steps);
  } else {
    for (int64_t t = 0; t < T; ++t) taus.push_back(t);
  }
  const Shape& one = batch_shape;
  int64_t batch = one[0], K = (int64_t)taus.size();
  int64_t per = numel(one) / batch;
  Shape rs = one;
  rs[0] = n;
  Tensor result(rs, DType::f32);
  int64_t chunks = (n + batch - 1) / batch, calls = 0;
  std::vector<float> z(numel(one));
  for (int64_t c = 0; c < chunks; ++c) {
    uint64_t stream = (uint64_t)c << 32;
    Tensor x(one, DType::f32);
    philox_normal(o.seed, stream, x.data<float>(), x.numel());
    scale_noise(x, o.noise_scale);
    for (int64_t k = K - 1; k >= 0; --k) {
      int64_t t = taus[k];
      double ab = s.abar[t], ab_prev = k > 0 ? s.abar[taus[k - 1]] : 1.0;
      double beta = ddim ? 1.0 - ab / ab_prev : s.betas[t];
      double sigma = 0.0;
      if (ddim) {
        sigma = o.eta * std::sqrt((1.0 - ab_prev) / (1.0 - ab) * (1.0 - ab / ab_prev));
      } else if (k > 0) {
        double var = o.variance == Variance::beta ? beta : beta * (1.0 - ab_prev) / (1.0 - ab);
        sigma = std::sqrt(var);
      }
      Tensor out = net(x, double(t));
      FX_CHECK(out.shape() == one && out.dtype() == DType::f32,
               "DDPM sampling: predictor returned {}{} for a batch {}", dtype_name(out.dtype()),
               shape_str(out.shape()), shape_str(one));
      const float* zp = nullptr;
      if (sigma > 0) {
        philox_normal(o.seed, stream + (uint64_t)(K - k), z.data(), (int64_t)z.size());
        zp = z.data();
      }
      reverse_step(x.data<float>(), out.data<float>(), zp, x.numel(), ab, ab_prev, pred, ddim, beta,
                   sigma, o.clip);
      if (progress) progress(++calls, chunks * K);
    }
    int64_t keep = std::min(batch, n - c * batch);
    std::memcpy(result.data<float>() + c * batch * per, x.data<float>(),
                keep * per * sizeof(float));
  }
  if (stats) stats->network_calls += calls;
  return result;
}

Tensor ddpm_sample(nn::UNet& model, const std::map<std::string, Tensor>& weights,
                   const DdpmSchedule& s, Prediction pred, int64_t n, const SamplerOptions& o,
                   const ProgressFn& progress, SampleStats* stats) {
  FX_CHECK(o.batch > 0, "DDPM sampling: batch {} must be positive", o.batch);
  Denoiser net(model, weights, std::min(n, o.batch), o.precision, o.compile);
  return ddpm_sample([&](const Tensor& x, double t) { return net(x, t); }, net.shape(), s, pred, n,
                     o, progress, stats);
}

}  // namespace fx::gen
