// The linear recurrent unit (Orvieto et al. 2023, "Resurrecting Recurrent Neural Networks
// for Long Sequences") and the sequence classifiers built from it, plus a tanh RNN
// baseline. Parameters follow the paper's exp-exp form; B and C are stored as one tensor
// each with (re, im) interleaved so that B u lands directly in linear_scan's pair layout
// and Re(C h) is one product over [re, im] pairs (no concat or slice on the hot path):
//   B [N, 2, H] (B[:, 0] = B_re, B[:, 1] = B_im), C [H, N, 2] (C[..., 0] = C_re, C[..., 1] = C_im).
#pragma once
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "fluxion/nn/layers.h"

namespace fx::nn {

struct LRUConfig {
  int64_t d_model = 128;  // H
  int64_t d_state = 256;  // N
  double r_min = 0.9, r_max = 0.999, max_phase = 2 * M_PI;
};

class LRU : public Module {
 public:
  LRU(const LRUConfig& c, InitRng& rng);
  // u [B, L, H] -> y [B, L, H]; the recurrence runs as one linear_scan over L.
  Var operator()(Var u) const;
  // Recurrent mode, one step: u [B, H], state [B, N, 2] -> (y [B, H], new state).
  std::pair<Var, Var> step(Var u, Var state) const;
  Var lambda() const;  // [N, 2]: exp(-exp(nu_log) + i exp(theta_log))
  int64_t d_state() const { return cfg_.d_state; }

 private:
  Var input(Var u) const;          // gamma * (B u): [..., N, 2]
  Var output(Var h, Var u) const;  // Re(C h) + D u
  LRUConfig cfg_;
  Parameter *nu_log_, *theta_log_, *gamma_log_, *B_, *C_, *D_;
};

// LayerNorm over the last axis with a learned scale and shift (torch.nn.LayerNorm).
class AffineLayerNorm : public Module {
 public:
  explicit AffineLayerNorm(int64_t dim);
  Var operator()(Var x) const;

 private:
  Parameter *weight_, *bias_;
};

// x + GLU(GELU(LRU(LayerNorm(x)))), GLU(z) = W1 z * sigmoid(W2 z) (one Linear H -> 2H).
class LRUBlock : public Module {
 public:
  LRUBlock(const LRUConfig& c, InitRng& rng);
  Var operator()(Var x) const;
  std::pair<Var, Var> step(Var x, Var state) const;  // x [B, H]
  int64_t d_state() const { return lru_->d_state(); }

 private:
  Var mix(Var h) const;  // GELU then GLU, per time step
  std::shared_ptr<AffineLayerNorm> norm_;
  std::shared_ptr<LRU> lru_;
  std::shared_ptr<Linear> glu_;
};

enum class Pooling { mean, last };
Pooling pooling_from_name(const std::string& name);  // "mean" or "last"

struct SequenceModelConfig {
  int64_t d_in = 1;   // features per step (ignored when vocab > 0)
  int64_t vocab = 0;  // > 0: inputs are i64 token ids [B, L], embedded by one_hot + Linear
  int64_t n_classes = 10;
  int64_t layers = 4;
  Pooling pooling = Pooling::mean;
  LRUConfig lru;
};

// Sequence classifier: logits [B, n_classes] from x [B, L, d_in] f32 or tokens [B, L] i64.
class SequenceClassifier : public Module {
 public:
  virtual Var operator()(Var x) const = 0;
};

// Encoder Linear -> LRU blocks -> LayerNorm -> pooling over time -> Linear head.
class LRUClassifier : public SequenceClassifier {
 public:
  LRUClassifier(const SequenceModelConfig& c, InitRng& rng);
  Var operator()(Var x) const override;
  // Recurrent inference: the same model run one time step at a time with explicit
  // states (a graph for one step, executed L times). Returns logits [B, n_classes].
  Tensor predict_recurrent(const Tensor& x);
  const SequenceModelConfig& config() const { return cfg_; }

 private:
  Var embed(Var x) const;
  SequenceModelConfig cfg_;
  std::shared_ptr<Linear> enc_;
  std::vector<std::shared_ptr<LRUBlock>> blocks_;
  std::shared_ptr<AffineLayerNorm> norm_;
  std::shared_ptr<Linear> head_;
};

// Baseline: h_t = tanh(W_x x_t + W_h h_{t-1} + b), unrolled over time (one graph node
// chain per step, trained by backpropagation through time), then pooling and a head.
class TanhRNNClassifier : public SequenceClassifier {
 public:
  TanhRNNClassifier(const SequenceModelConfig& c, int64_t hidden, InitRng& rng);
  Var operator()(Var x) const override;

 private:
  SequenceModelConfig cfg_;
  std::shared_ptr<Linear> in_, rec_, head_;
};

}  // namespace fx::nn
