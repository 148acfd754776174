#include "fluxion/gen/ratio_classifier.h"

#include "fluxion/api/fx.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/core/error.h"

namespace fx::gen {

Var logistic_loss(Var d_real, Var d_fake) {
  return mean(softplus(-d_real)) + mean(softplus(d_fake));
}

RatioClassifier::RatioClassifier(const RatioClassifierConfig& cfg) : cfg_(cfg) {
  FX_CHECK(cfg.dim > 0 && cfg.hidden > 0 && cfg.layers > 0 && cfg.batch > 0,
           "ratio classifier: dim, hidden, layers and batch must be positive (got {}, {}, {}, {})",
           cfg.dim, cfg.hidden, cfg.layers, cfg.batch);
  FX_CHECK(cfg.lr > 0, "ratio classifier: the learning rate {} must be positive", cfg.lr);
  nn::InitRng rng(cfg.seed);
  input_ = cfg.input_shape.empty() ? Shape{cfg.dim} : cfg.input_shape;
  if (cfg.make_net)
    net_ = cfg.make_net(rng);
  else
    net_ = std::make_shared<nn::MLP>(cfg.dim, std::vector<int64_t>(cfg.layers, cfg.hidden), 1, rng,
                                     cfg.activation);
  optim::TrainerOptions to;
  to.schedule.base_lr = cfg.lr;
  to.schedule.total_steps = cfg.decay_steps;
  to.seed = cfg.seed;
  to.precision = cfg.precision;
  to.loss_scaling = cfg.loss_scaling;
  to.compile = cfg.compile;
  nn::Net& net = *net_;
  Shape rows{cfg.batch};
  rows.insert(rows.end(), input_.begin(), input_.end());
  trainer_ = std::make_unique<optim::Trainer>(
      net, optim::adam({.beta1 = cfg.beta1}),
      [&net](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
        return logistic_loss(net(b.at("real")), net(b.at("fake")));
      },
      std::vector<optim::BatchInput>{{"real", rows}, {"fake", rows}}, to);
}

double RatioClassifier::train_step(const Tensor& real, const Tensor& fake) {
  return trainer_->step({{"real", real}, {"fake", fake}});
}

RatioClassifier::Eval& RatioClassifier::eval_for(int64_t n) {
  auto it = evals_.find(n);
  if (it != evals_.end()) return *it->second;
  auto e = std::make_unique<Eval>();
  net_->bind(e->graph);
  Shape shape{n};
  shape.insert(shape.end(), input_.begin(), input_.end());
  Var x = e->graph.input("x", shape);
  Var d = reshape((*net_)(x), {n});
  Var g = grad(sum(d), {x})[0];
  e->exec = std::make_unique<Interpreter>(e->graph, std::vector<Var>{d, g});
  return *(evals_[n] = std::move(e));
}

void RatioClassifier::logit_and_grad(const Tensor& x, Tensor* logit, Tensor* grad) {
  Shape row(x.shape().begin() + std::min<size_t>(1, x.shape().size()), x.shape().end());
  FX_CHECK(x.rank() >= 1 && row == input_ && x.dtype() == DType::f32,
           "ratio classifier: points must be f32 [N, {}], got {}{}", fmt::join(input_, ", "),
           dtype_name(x.dtype()), shape_str(x.shape()));
  Eval& e = eval_for(x.dim(0));
  Feeds f;
  for (auto& [name, p] : net_->named_parameters()) f[name] = p->value;
  f["x"] = x;
  std::vector<Tensor> out = e.exec->run(f);
  if (logit) *logit = out[0];
  if (grad) *grad = out[1];
}

}  // namespace fx::gen
