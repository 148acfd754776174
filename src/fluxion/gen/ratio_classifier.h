// A logistic classifier between samples of p (label 1) and q (label 0), trained with BCE on
// logits. At the optimum its logit is d(x) = log p(x)/q(x), so it is a density-ratio
// estimator: the f-divergence particle flows follow ∇d, and MonoFlow uses it as the GAN
// discriminator. Training is warm-started: each call continues from the current weights and
// Adam moments (the flows move q a little between calls).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "fluxion/amp/loss_scaler.h"
#include "fluxion/amp/precision_policy.h"
#include "fluxion/exec/interpreter.h"
#include "fluxion/nn/layers.h"
#include "fluxion/optim/trainer.h"

namespace fx::gen {

// Builds a network from an initialiser (the classifier's or a GAN's custom net).
using NetFactory = std::function<std::shared_ptr<nn::Net>(nn::InitRng& rng)>;

struct RatioClassifierConfig {
  int64_t dim = 2;
  // Another network than the MLP (dim → hidden × layers → 1), e.g. a DCGAN discriminator,
  // with the shape of one input row (e.g. {1, 28, 28}); it must return [N, 1] logits.
  NetFactory make_net;
  Shape input_shape;  // empty: {dim}
  int64_t hidden = 128;
  int64_t layers = 2;  // hidden layers
  std::string activation = "silu";
  int64_t batch = 256;  // real and fake rows per training step
  double lr = 1e-3;
  double beta1 = 0.9;
  int64_t decay_steps = 0;  // > 0: cosine decay of lr to 0 over this many steps
  uint64_t seed = 0;
  // How the classifier's step runs (the run's --precision, --loss-scale and --compile).
  amp::PrecisionPolicy precision;
  amp::LossScaling loss_scaling;
  bool compile = false;
};

// BCE with logits, real labelled 1 and fake 0 (as torch.nn.BCEWithLogitsLoss, each half
// averaged): mean(softplus(−d_real)) + mean(softplus(d_fake)).
Var logistic_loss(Var d_real, Var d_fake);

class RatioClassifier {
 public:
  explicit RatioClassifier(const RatioClassifierConfig& cfg);
  // One Adam step on a batch of real and fake rows (each f32 [batch, ...input]); returns the loss.
  double train_step(const Tensor& real, const Tensor& fake);
  // d(x) (f32 [N]) and ∇_x d(x) (shaped as x) at the current weights; either may be null.
  void logit_and_grad(const Tensor& x, Tensor* logit, Tensor* grad);

  nn::Net& net() { return *net_; }
  const Shape& input_shape() const { return input_; }
  optim::Trainer& trainer() { return *trainer_; }
  std::map<std::string, Tensor> trainer_state() const { return trainer_->state(); }
  const RatioClassifierConfig& config() const { return cfg_; }

 private:
  struct Eval {
    Graph graph;
    std::unique_ptr<Interpreter> exec;
  };
  Eval& eval_for(int64_t n);

  RatioClassifierConfig cfg_;
  Shape input_;
  std::shared_ptr<nn::Net> net_;
  std::unique_ptr<optim::Trainer> trainer_;
  std::map<int64_t, std::unique_ptr<Eval>> evals_;  // traced once per row count
};

}  // namespace fx::gen
