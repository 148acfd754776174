// MonoFlow (Yi, Zhu & Liu, arXiv 2302.01075; kexue.fm/archives/9662): a GAN read as a
// Wasserstein gradient flow. The logistic discriminator's logit estimates d = log(p/q);
// the generator's samples follow dx/dt = ∇h(d(x)) for any monotonically increasing h, which
// one gradient step on the generator loss −E h(D(g(z))) realises. h by name (as in the
// paper's train_gan.py; vanilla's generator loss log(1 − σ(d + C)) = −softplus(d + C)):
//   ns       h = log σ(d)
//   vanilla  h = softplus(d + C), C = 5 (the shift counters the saturation of log(1 − σ(d))
//            while D still rejects every fake; C = 0 is the original GAN loss)
//   logit    h = d
//   arcsinh  h = arcsinh(d)
// The particle-matching variant moves the fakes first, x' = g_old(z) + ε∇h(D(g_old(z))), then
// takes n_g steps on ‖g(z) − x'‖²: its gradient at θ = θ_old is 2ε times that of −h(D(g(z))),
// and the anchor keeps several generator steps per discriminator step faithful to the flow.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "fluxion/gen/fdiv_flow.h"
#include "fluxion/gen/ratio_classifier.h"

namespace fx::gen {

enum class MonoH { ns, vanilla, logit, arcsinh };
MonoH mono_h_from_name(const std::string& name);  // throws listing the names
std::string mono_h_name(MonoH h);

// h(d) elementwise, and its derivative on the host (for the particle targets).
Var mono_h(Var d, MonoH h, double c = 5.0);
double mono_h_prime(double d, MonoH h, double c = 5.0);
// −mean(h(d_fake)).
Var generator_loss(Var d_fake, MonoH h, double c = 5.0);
// mean over rows of ‖g − target‖² (summed over coordinates; rows are points or images).
Var particle_matching_loss(Var g, Var target);

struct MonoFlowConfig {
  int64_t dim = 2, zdim = 2;
  int64_t hidden = 128, layers = 3;  // both MLPs
  // Other networks than the MLPs (e.g. nn/dcgan.h): the generator maps [N, zdim] to
  // [N, ...sample_shape], the discriminator that to [N, 1] logits.
  NetFactory make_generator, make_discriminator;
  Shape sample_shape;  // empty: {dim}
  std::string activation = "relu";
  MonoH h = MonoH::ns;
  double c = 5.0;                  // vanilla's shift
  bool particle_matching = false;  // G loss: ‖g − (g_old + ε∇h(D))‖² instead of −h(D)
  double epsilon = 0.05;           // particle step ε
  int64_t n_d = 1, n_g = 1;        // discriminator / generator steps per iteration
  int64_t batch = 256;
  double lr_d = 2e-4, lr_g = 1e-4, beta1 = 0.5;
  int64_t decay_iterations = 0;  // > 0: both learning rates decay (cosine) to 0 by then
  uint64_t seed = 0;
  // How both nets' steps run (the run's --precision, --loss-scale and --compile).
  amp::PrecisionPolicy precision;
  amp::LossScaling loss_scaling;
  bool compile = false;
  void validate() const;  // throws naming the field and value
};

class MonoFlowGAN {
 public:
  MonoFlowGAN(const MonoFlowConfig& cfg, TargetSampler real);

  struct Losses {
    double d = 0, g = 0;
  };
  // Iteration `it` (1-based): n_d discriminator steps, then n_g generator steps.
  Losses step(int64_t it);
  // n generator samples, f32 [n, ...sample shape].
  Tensor sample(int64_t n, uint64_t seed);

  nn::Net& gen() { return *gen_; }
  nn::Net& disc() { return disc_.net(); }
  RatioClassifier& discriminator() { return disc_; }
  // Optimizer moments of both nets ("disc/..." and "gen/..."), and their restore after
  // `iterations` completed iterations.
  std::map<std::string, Tensor> state() const;
  void set_state(const std::map<std::string, Tensor>& s, int64_t iterations);
  const MonoFlowConfig& config() const { return cfg_; }

 private:
  Tensor noise(int64_t n, uint64_t seed) const;
  Tensor generate(const Tensor& z);

  MonoFlowConfig cfg_;
  TargetSampler real_;
  RatioClassifier disc_;
  Shape sample_shape_;
  std::shared_ptr<nn::Net> gen_;
  std::unique_ptr<optim::Trainer> gen_trainer_;
  struct GenEval {
    Graph graph;
    std::unique_ptr<Interpreter> exec;
  };
  std::map<int64_t, std::unique_ptr<GenEval>> gen_evals_;
};

}  // namespace fx::gen
