#include "fluxion/gen/rectified_flow.h"

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"

namespace fx::gen {

VelocityMLP::VelocityMLP(const VelocityConfig& cfg, nn::InitRng& rng) : cfg_(cfg) {
  FX_CHECK(cfg.dim > 0 && cfg.hidden > 0 && cfg.layers > 0,
           "velocity model: dim, hidden and layers must be positive (got {}, {}, {})", cfg.dim,
           cfg.hidden, cfg.layers);
  std::vector<int64_t> hidden(cfg.layers, cfg.hidden);
  net_ = register_module(
      "net", std::make_shared<nn::MLP>(cfg.dim + 1, hidden, cfg.dim, rng, cfg.activation));
}

Var VelocityMLP::operator()(Var x, Var t) const { return (*net_)(concat({x, t}, 1)); }

Var rectified_flow_loss(const VelocityMLP& v, Var x0, Var x1, Var key, bool distill) {
  FX_CHECK(x0.shape() == x1.shape(), "rectified flow: x0 {} and x1 {} differ",
           shape_str(x0.shape()), shape_str(x1.shape()));
  Shape ts = {x0.dim(0), 1};
  Var t = distill ? full(*x0.graph, ts, 0.0) : random_uniform(key, ts);
  Var xt = t * x1 + (1.0 - t) * x0;
  return mse_loss(v(xt, t), x1 - x0);
}

VelocityEvaluator::VelocityEvaluator(VelocityMLP& model, int64_t batch,
                                     const amp::PrecisionPolicy& precision, bool compile)
    : model_(model), batch_(batch) {
  model_.bind(graph_);
  int64_t d = model.config().dim;
  Var x = graph_.input("x", {batch, d});
  Var t = graph_.input("t", {batch, 1});
  Var v = model_(x, t);
  exec_ = runtime::make_executor(graph_, {v}, {precision, compile, {}});
}

Tensor VelocityEvaluator::operator()(const Tensor& x, double t) {
  Feeds f;
  for (auto& [name, p] : model_.named_parameters()) f[name] = p->value;
  f["x"] = x;
  f["t"] = Tensor::full({batch_, 1}, t);
  return exec_.run(f)[0];
}

solvers::VelocityFn VelocityEvaluator::fn() {
  return [this](const Tensor& x, double t) { return (*this)(x, t); };
}

solvers::OdeResult sample_flow(VelocityMLP& model, const Tensor& x0,
                               const solvers::OdeOptions& opts, int64_t chunk,
                               const amp::PrecisionPolicy& precision, bool compile) {
  FX_CHECK(x0.rank() == 2 && x0.dim(1) == model.config().dim,
           "sample: points {} do not match the model's dimension {}", shape_str(x0.shape()),
           model.config().dim);
  return solvers::integrate_in_chunks(
      [&](int64_t rows) -> solvers::VelocityFn {
        auto ev = std::make_shared<VelocityEvaluator>(model, rows, precision, compile);
        return [ev](const Tensor& x, double t) { return (*ev)(x, t); };
      },
      x0, opts, chunk);
}

double straightness(VelocityMLP& model, const Tensor& x0, int steps) {
  solvers::OdeOptions o;
  o.method = solvers::Method::euler;
  o.steps = steps;
  o.keep_trajectory = true;
  VelocityEvaluator ev(model, x0.dim(0));
  solvers::OdeResult r = solvers::integrate(ev.fn(), x0, o);
  const float* a = x0.data<float>();
  const float* b = r.x.data<float>();
  int64_t n = x0.dim(0), d = x0.dim(1);
  double total = 0;
  for (int k = 0; k < steps; ++k) {
    Tensor v = ev(r.trajectory[k], r.times[k]);
    const float* vp = v.data<float>();
    for (int64_t i = 0; i < n * d; ++i) {
      double diff = (b[i] - a[i]) - vp[i];
      total += diff * diff;
    }
  }
  return total / (steps * (double)n);
}

}  // namespace fx::gen
