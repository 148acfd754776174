#include "fluxion/nn/lru.h"

#include <cmath>

#include "fluxion/api/complex.h"
#include "fluxion/core/error.h"
#include "fluxion/exec/interpreter.h"

namespace fx::nn {

namespace {
Shape with_last(Shape s, std::initializer_list<int64_t> tail) {
  s.pop_back();
  s.insert(s.end(), tail);
  return s;
}
}  // namespace

LRU::LRU(const LRUConfig& c, InitRng& rng) : cfg_(c) {
  const int64_t N = c.d_state, H = c.d_model;
  FX_CHECK(N > 0 && H > 0, "LRU: d_model {} and d_state {} must be positive", H, N);
  FX_CHECK(0 <= c.r_min && c.r_min < c.r_max && c.r_max < 1.0,
           "LRU: need 0 <= r_min < r_max < 1, got r_min {} r_max {}", c.r_min, c.r_max);
  // Ring initialisation: |λ|² uniform in [r_min², r_max²], phase uniform in [0, max_phase].
  std::vector<double> u1 = rng.uniform({N}, 0.0, 1.0).to_vector();
  std::vector<double> u2 = rng.uniform({N}, 1e-4, 1.0).to_vector();  // log(0) guard
  std::vector<double> nu(N), theta(N), gamma(N);
  for (int64_t i = 0; i < N; ++i) {
    double r2 = u1[i] * (c.r_max * c.r_max - c.r_min * c.r_min) + c.r_min * c.r_min;
    nu[i] = std::log(-0.5 * std::log(r2));
    theta[i] = std::log(c.max_phase * u2[i]);
    gamma[i] = std::log(std::sqrt(1.0 - r2));  // γ = sqrt(1 - |λ|²)
  }
  nu_log_ = &register_parameter("nu_log", Tensor::from(nu, {N}));
  theta_log_ = &register_parameter("theta_log", Tensor::from(theta, {N}));
  gamma_log_ = &register_parameter("gamma_log", Tensor::from(gamma, {N}));
  // B ~ N(0, 1/(2H)) per part (the real part halves the state variance), C ~ N(0, 1/N).
  B_ = &register_parameter("B", rng.normal({N, 2, H}, 0.0, 1.0 / std::sqrt(2.0 * H)));
  C_ = &register_parameter("C", rng.normal({H, N, 2}, 0.0, 1.0 / std::sqrt((double)N)));
  D_ = &register_parameter("D", rng.normal({H}, 0.0, 1.0));
}

Var LRU::lambda() const {
  Var mod = exp(-exp(nu_log_->var)), phase = exp(theta_log_->var);
  return complex_pair(mod * cos(phase), mod * sin(phase));
}

Var LRU::input(Var u) const {
  const int64_t N = cfg_.d_state, H = cfg_.d_model;
  FX_CHECK(u.dim(-1) == H, "LRU: input {} has {} features, layer expects {}", shape_str(u.shape()),
           u.dim(-1), H);
  // γ ⊙ (B u) = (γ ⊙ B) u: scaling the [N, 2, H] weight instead of the [B, L, N, 2]
  // activation saves a pass over the largest tensor of the layer.
  Var wb = B_->var * reshape(exp(gamma_log_->var), {N, 1, 1});
  Var bu = dot(u, reshape(wb, {2 * N, H}), false, true);  // [..., 2N] = (re, im) pairs
  return reshape(bu, with_last(u.shape(), {N, 2}));
}

Var LRU::output(Var h, Var u) const {
  const int64_t N = cfg_.d_state, H = cfg_.d_model;
  // Re(C h) = C_re h_re - C_im h_im: one product over the interleaved pairs.
  Var sign = h.graph->constant(Tensor::from({1.0, -1.0}, {2}, h.dtype()));
  Var wc = reshape(C_->var * sign, {H, 2 * N});
  Shape flat = h.shape();  // [..., N, 2] -> [..., 2N]
  flat.pop_back();
  flat.back() = 2 * N;
  Var y = dot(reshape(h, flat), wc, false, true);
  return y + D_->var * u;
}

Var LRU::operator()(Var u) const {
  FX_CHECK(u.rank() == 3, "LRU: expects u [B, L, H], got {}", shape_str(u.shape()));
  return output(linear_scan(lambda(), input(u), 1), u);
}

std::pair<Var, Var> LRU::step(Var u, Var state) const {
  Var h = complex_mul(lambda(), state) + input(u);
  return {output(h, u), h};
}

AffineLayerNorm::AffineLayerNorm(int64_t dim) {
  weight_ = &register_parameter("weight", Tensor::full({dim}, 1.0));
  bias_ = &register_parameter("bias", Tensor::zeros({dim}));
}

Var AffineLayerNorm::operator()(Var x) const { return layer_norm(x, weight_->var, bias_->var); }

LRUBlock::LRUBlock(const LRUConfig& c, InitRng& rng) {
  norm_ = register_module("norm", std::make_shared<AffineLayerNorm>(c.d_model));
  lru_ = register_module("lru", std::make_shared<LRU>(c, rng));
  glu_ = register_module("glu", std::make_shared<Linear>(c.d_model, 2 * c.d_model, rng));
}

Var LRUBlock::mix(Var h) const {
  // The two GLU halves slice the [2H, H] weight rather than the [..., 2H] product: the
  // backward pass then pads two weight-sized gradients instead of two activation-sized ones.
  Var x = gelu(h);
  const int64_t H = h.dim(-1);
  Var w = glu_->weight().var, b = glu_->bias()->var;
  auto half = [&](int64_t lo) {
    return dot(x, slice_axis(w, 0, lo, lo + H), false, true) + slice_axis(b, 0, lo, lo + H);
  };
  return half(0) * sigmoid(half(H));
}

Var LRUBlock::operator()(Var x) const { return x + mix((*lru_)((*norm_)(x))); }

std::pair<Var, Var> LRUBlock::step(Var x, Var state) const {
  auto [y, h] = lru_->step((*norm_)(x), state);
  return {x + mix(y), h};
}

Pooling pooling_from_name(const std::string& name) {
  if (name == "mean") return Pooling::mean;
  if (name == "last") return Pooling::last;
  fail("unknown pooling '{}' (expected mean or last)", name);
}

namespace {
// Pools [B, L, H] over time.
Var pool(Var h, Pooling p) {
  if (p == Pooling::mean) return mean(h, {1});
  int64_t L = h.dim(1);
  return reshape(slice_axis(h, 1, L - 1, L), {h.dim(0), h.dim(2)});
}

int64_t encoder_inputs(const SequenceModelConfig& c) { return c.vocab > 0 ? c.vocab : c.d_in; }
}  // namespace

LRUClassifier::LRUClassifier(const SequenceModelConfig& c, InitRng& rng) : cfg_(c) {
  FX_CHECK(c.layers >= 1 && c.n_classes >= 2, "LRU classifier: layers {} / classes {} invalid",
           c.layers, c.n_classes);
  enc_ = register_module("enc", std::make_shared<Linear>(encoder_inputs(c), c.lru.d_model, rng));
  for (int64_t i = 0; i < c.layers; ++i)
    blocks_.push_back(
        register_module("blocks." + std::to_string(i), std::make_shared<LRUBlock>(c.lru, rng)));
  norm_ = register_module("norm", std::make_shared<AffineLayerNorm>(c.lru.d_model));
  head_ = register_module("head", std::make_shared<Linear>(c.lru.d_model, c.n_classes, rng));
}

Var LRUClassifier::embed(Var x) const {
  if (cfg_.vocab > 0) return (*enc_)(one_hot(x, cfg_.vocab));
  return (*enc_)(x);
}

Var LRUClassifier::operator()(Var x) const {
  Var h = embed(x);
  for (const auto& b : blocks_) h = (*b)(h);
  return (*head_)(pool((*norm_)(h), cfg_.pooling));
}

Tensor LRUClassifier::predict_recurrent(const Tensor& x) {
  const bool tokens = cfg_.vocab > 0;
  FX_CHECK(x.rank() == (tokens ? 2 : 3), "predict_recurrent: x {} does not fit the model",
           shape_str(x.shape()));
  const int64_t B = x.dim(0), L = x.dim(1), step_width = tokens ? 1 : x.dim(2);
  Graph g;
  bind(g);
  Var xt = tokens ? g.input("x_t", {B}, DType::i64) : g.input("x_t", {B, step_width});
  std::vector<Var> outs;
  Var h = embed(xt);
  std::vector<Var> states;
  for (size_t k = 0; k < blocks_.size(); ++k) {
    states.push_back(g.input("state." + std::to_string(k), {B, blocks_[k]->d_state(), 2}));
    auto [y, s] = blocks_[k]->step(h, states.back());
    h = y;
    outs.push_back(s);
  }
  // The head is affine, so pooling its per-step outputs equals the head of the pooled
  // features: the step graph emits per-step logits.
  outs.push_back((*head_)((*norm_)(h)));
  Interpreter run(g, outs);

  Feeds feeds;
  for (auto& [name, p] : named_parameters()) feeds[name] = p->value;
  for (size_t k = 0; k < blocks_.size(); ++k)
    feeds["state." + std::to_string(k)] = Tensor::zeros({B, blocks_[k]->d_state(), 2});
  std::vector<double> acc((size_t)(B * cfg_.n_classes), 0.0);
  const size_t esize = dtype_size(x.dtype());
  for (int64_t t = 0; t < L; ++t) {
    Tensor step_in = tokens ? Tensor({B}, x.dtype()) : Tensor({B, step_width}, x.dtype());
    for (int64_t b = 0; b < B; ++b)
      std::memcpy((char*)step_in.raw() + b * step_width * esize,
                  (const char*)x.raw() + (b * L + t) * step_width * esize, step_width * esize);
    feeds["x_t"] = step_in;
    std::vector<Tensor> r = run.run(feeds);
    for (size_t k = 0; k < blocks_.size(); ++k) feeds["state." + std::to_string(k)] = r[k];
    std::vector<double> logits = r.back().to_vector();
    for (size_t i = 0; i < acc.size(); ++i)
      acc[i] = cfg_.pooling == Pooling::mean ? acc[i] + logits[i] / (double)L : logits[i];
  }
  return Tensor::from(acc, {B, cfg_.n_classes});
}

TanhRNNClassifier::TanhRNNClassifier(const SequenceModelConfig& c, int64_t hidden, InitRng& rng)
    : cfg_(c) {
  in_ = register_module("in", std::make_shared<Linear>(encoder_inputs(c), hidden, rng));
  rec_ = register_module("rec", std::make_shared<Linear>(hidden, hidden, rng, false));
  head_ = register_module("head", std::make_shared<Linear>(hidden, c.n_classes, rng));
}

Var TanhRNNClassifier::operator()(Var x) const {
  const bool tokens = cfg_.vocab > 0;
  const int64_t B = x.dim(0), L = x.dim(1);
  // Slices of the data input need no cotangent (grad prunes them), so the unrolled
  // graph stays linear in L; slicing a projected [B, L, H] would not.
  Var h, sum_h;
  for (int64_t t = 0; t < L; ++t) {
    Var xt = tokens ? one_hot(reshape(slice_axis(x, 1, t, t + 1), {B}), cfg_.vocab)
                    : reshape(slice_axis(x, 1, t, t + 1), {B, x.dim(2)});
    Var pre = (*in_)(xt);
    h = tanh(t == 0 ? pre : pre + (*rec_)(h));
    if (cfg_.pooling == Pooling::mean) sum_h = t == 0 ? h : sum_h + h;
  }
  Var pooled = cfg_.pooling == Pooling::mean ? sum_h / (double)L : h;
  return (*head_)(pooled);
}

}  // namespace fx::nn
