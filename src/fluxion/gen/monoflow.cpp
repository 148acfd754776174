#include "fluxion/gen/monoflow.h"

#include <cmath>

#include "fluxion/api/fx.h"
#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/data/point_source.h"

namespace fx::gen {

MonoH mono_h_from_name(const std::string& name) {
  if (name == "ns") return MonoH::ns;
  if (name == "vanilla") return MonoH::vanilla;
  if (name == "logit") return MonoH::logit;
  if (name == "arcsinh") return MonoH::arcsinh;
  fail("unknown MonoFlow h '{}' (ns, vanilla, logit, arcsinh)", name);
}

std::string mono_h_name(MonoH h) {
  switch (h) {
    case MonoH::ns:
      return "ns";
    case MonoH::vanilla:
      return "vanilla";
    case MonoH::logit:
      return "logit";
    case MonoH::arcsinh:
      return "arcsinh";
  }
  return "?";
}

Var mono_h(Var d, MonoH h, double c) {
  switch (h) {
    case MonoH::ns:
      return -softplus(-d);  // log σ(d), stable for large |d|
    case MonoH::vanilla:
      return softplus(d + c);
    case MonoH::logit:
      return d;
    case MonoH::arcsinh: {
      // ±log(a + sqrt(a² + 1)) with a = |d|: no cancellation for d ≪ 0; |d| is taken with
      // where() so that the derivative at d = 0 is 1 (abs' and sign' are 0 there).
      Var pos = ge(d, zeros_like(d));
      Var a = where(pos, d, -d);
      Var y = log(a + sqrt(square(a) + 1.0));
      return where(pos, y, -y);
    }
  }
  fail("mono_h: bad h");
}

double mono_h_prime(double d, MonoH h, double c) {
  switch (h) {
    case MonoH::ns:
      return 1.0 / (1.0 + std::exp(d));  // σ(−d)
    case MonoH::vanilla:
      return 1.0 / (1.0 + std::exp(-(d + c)));
    case MonoH::logit:
      return 1.0;
    case MonoH::arcsinh:
      return 1.0 / std::sqrt(d * d + 1.0);
  }
  return 0.0;
}

Var generator_loss(Var d_fake, MonoH h, double c) { return -mean(mono_h(d_fake, h, c)); }

Var particle_matching_loss(Var g, Var target) {
  FX_CHECK(g.shape() == target.shape() && g.shape().size() >= 2,
           "particle matching: generated {} and target {} must be the same [N, ...]",
           shape_str(g.shape()), shape_str(target.shape()));
  return sum(square(g - target)) / (double)g.dim(0);
}

void MonoFlowConfig::validate() const {
  FX_CHECK(dim > 0, "monoflow: dim = {} must be positive", dim);
  FX_CHECK(zdim > 0, "monoflow: z-dim = {} must be positive", zdim);
  FX_CHECK(hidden > 0 && layers > 0, "monoflow: hidden = {} and layers = {} must be positive",
           hidden, layers);
  FX_CHECK(n_d > 0, "monoflow: n-d = {} must be positive", n_d);
  FX_CHECK(n_g > 0, "monoflow: n-g = {} must be positive", n_g);
  FX_CHECK(batch > 0, "monoflow: batch = {} must be positive", batch);
  FX_CHECK(lr_d > 0 && lr_g > 0, "monoflow: lr-d = {} and lr-g = {} must be positive", lr_d, lr_g);
  FX_CHECK(beta1 >= 0 && beta1 < 1, "monoflow: beta1 = {} must be in [0, 1)", beta1);
  FX_CHECK(epsilon > 0, "monoflow: epsilon = {} must be positive", epsilon);
  FX_CHECK(std::isfinite(c), "monoflow: c = {} must be finite", c);
  FX_CHECK(decay_iterations >= 0, "monoflow: decay iterations {} must not be negative",
           decay_iterations);
}

namespace {
RatioClassifierConfig disc_config(const MonoFlowConfig& c) {
  c.validate();
  return {.dim = c.dim,
          .make_net = c.make_discriminator,
          .input_shape = c.sample_shape,
          .hidden = c.hidden,
          .layers = c.layers,
          .activation = c.activation,
          .batch = c.batch,
          .lr = c.lr_d,
          .beta1 = c.beta1,
          .decay_steps = c.decay_iterations * c.n_d,
          .seed = data::mix_seed(c.seed, 0xD15C, 0),
          .precision = c.precision,
          .loss_scaling = c.loss_scaling,
          .compile = c.compile};
}
constexpr uint64_t kNoiseStream = 0x5a5a;
}  // namespace

MonoFlowGAN::MonoFlowGAN(const MonoFlowConfig& cfg, TargetSampler real)
    : cfg_(cfg), real_(std::move(real)), disc_(disc_config(cfg)) {
  nn::InitRng rng(data::mix_seed(cfg.seed, 0x6E4, 0));
  sample_shape_ = cfg.sample_shape.empty() ? Shape{cfg.dim} : cfg.sample_shape;
  if (cfg.make_generator)
    gen_ = cfg.make_generator(rng);
  else
    gen_ = std::make_shared<nn::MLP>(cfg.zdim, std::vector<int64_t>(cfg.layers, cfg.hidden),
                                     cfg.dim, rng, cfg.activation);
  optim::TrainerOptions to;
  to.schedule.base_lr = cfg.lr_g;
  to.schedule.total_steps = cfg.decay_iterations * cfg.n_g;
  to.seed = cfg.seed;
  to.precision = cfg.precision;
  to.loss_scaling = cfg.loss_scaling;
  to.compile = cfg.compile;
  std::vector<optim::BatchInput> inputs{{"z", {cfg.batch, cfg.zdim}}};
  optim::LossFn loss;
  nn::Net& G = *gen_;
  if (cfg.particle_matching) {
    Shape rows{cfg.batch};
    rows.insert(rows.end(), sample_shape_.begin(), sample_shape_.end());
    inputs.push_back({"target", rows});
    loss = [&G](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
      return particle_matching_loss(G(b.at("z")), b.at("target"));
    };
  } else {
    // D's weights enter the generator's step as plain inputs ("disc.<name>"): the step
    // differentiates through D without updating it.
    for (auto& [name, p] : disc_.net().named_parameters())
      inputs.push_back({"disc." + name, p->value.shape()});
    nn::Net& D = disc_.net();
    MonoH h = cfg.h;
    double c = cfg.c;
    loss = [&G, &D, h, c](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
      for (auto& [name, p] : D.named_parameters()) p->var = b.at("disc." + name);
      return generator_loss(D(G(b.at("z"))), h, c);
    };
  }
  gen_trainer_ =
      std::make_unique<optim::Trainer>(G, optim::adam({.beta1 = cfg.beta1}), loss, inputs, to);
}

Tensor MonoFlowGAN::noise(int64_t n, uint64_t seed) const {
  Tensor z({n, cfg_.zdim}, DType::f32);
  philox_normal(seed, kNoiseStream, z.data<float>(), z.numel());
  return z;
}

Tensor MonoFlowGAN::generate(const Tensor& z) {
  int64_t n = z.dim(0);
  auto it = gen_evals_.find(n);
  if (it == gen_evals_.end()) {
    auto e = std::make_unique<GenEval>();
    gen_->bind(e->graph);
    Var zi = e->graph.input("z", {n, cfg_.zdim});
    e->exec = std::make_unique<Interpreter>(e->graph, std::vector<Var>{(*gen_)(zi)});
    it = gen_evals_.emplace(n, std::move(e)).first;
  }
  Feeds f;
  for (auto& [name, p] : gen_->named_parameters()) f[name] = p->value;
  f["z"] = z;
  return it->second->exec->run(f)[0];
}

MonoFlowGAN::Losses MonoFlowGAN::step(int64_t it) {
  Losses l;
  int64_t B = cfg_.batch;
  for (int64_t k = 0; k < cfg_.n_d; ++k) {
    uint64_t s = data::mix_seed(cfg_.seed, it, 2 * k);
    l.d = disc_.train_step(real_(B, s), generate(noise(B, s)));
  }
  if (cfg_.particle_matching) {
    // Move this batch's fakes once along ∇h(D), then fit the generator to them n_g times.
    Tensor z = noise(B, data::mix_seed(cfg_.seed, it, 2 * cfg_.n_d + 1));
    Tensor x = generate(z), d, g;
    disc_.logit_and_grad(x, &d, &g);
    float* xv = x.data<float>();
    const int64_t row = x.numel() / B;
    for (int64_t i = 0; i < B; ++i) {
      double w = cfg_.epsilon * mono_h_prime(d.data<float>()[i], cfg_.h, cfg_.c);
      for (int64_t c = 0; c < row; ++c)
        xv[i * row + c] += (float)(w * g.data<float>()[i * row + c]);
    }
    for (int64_t k = 0; k < cfg_.n_g; ++k) l.g = gen_trainer_->step({{"z", z}, {"target", x}});
  } else {
    Feeds f;
    for (auto& [name, p] : disc_.net().named_parameters()) f["disc." + name] = p->value;
    for (int64_t k = 0; k < cfg_.n_g; ++k) {
      f["z"] = noise(B, data::mix_seed(cfg_.seed, it, 2 * k + 1));
      l.g = gen_trainer_->step(f);
    }
  }
  return l;
}

Tensor MonoFlowGAN::sample(int64_t n, uint64_t seed) {
  FX_CHECK(n > 0, "monoflow sample: the count {} must be positive", n);
  return generate(noise(n, seed));
}

std::map<std::string, Tensor> MonoFlowGAN::state() const {
  std::map<std::string, Tensor> s;
  for (auto& [k, v] : disc_.trainer_state()) s["disc/" + k] = v;
  for (auto& [k, v] : gen_trainer_->state()) s["gen/" + k] = v;
  return s;
}

void MonoFlowGAN::set_state(const std::map<std::string, Tensor>& s, int64_t iterations) {
  std::map<std::string, Tensor> d, g;
  for (auto& [k, v] : s) {
    if (k.rfind("disc/", 0) == 0) d[k.substr(5)] = v;
    if (k.rfind("gen/", 0) == 0) g[k.substr(4)] = v;
  }
  disc_.trainer().set_state(d);
  disc_.trainer().set_steps_done(iterations * cfg_.n_d);
  gen_trainer_->set_state(g);
  gen_trainer_->set_steps_done(iterations * cfg_.n_g);
}

}  // namespace fx::gen
