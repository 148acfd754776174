// A few Adam steps of a small LRU classifier (3 classes, inputs of 2 features), shared by
// the tests that hold one way of running the step to another.
#pragma once
#include <vector>

#include "fluxion/nn/lru.h"
#include "fluxion/optim/trainer.h"
#include "op_test_util.h"

namespace fx::optest {

struct LruTrainRun {
  std::vector<double> values;  // per step its loss (and grad norm), then every parameter
  size_t peak_bytes = 0;
};

inline LruTrainRun train_small_lru(nn::LRUConfig lru, uint64_t seed, int64_t batch, int64_t length,
                                   int steps, optim::TrainerOptions o, bool record_grad_norm) {
  nn::SequenceModelConfig c;
  c.d_in = 2;
  c.n_classes = 3;
  c.layers = 2;
  c.lru = lru;
  nn::InitRng rng(seed);
  nn::LRUClassifier model(c, rng);
  o.schedule.base_lr = 3e-3;
  optim::Trainer tr(
      model, optim::adam(),
      [&](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
        return cross_entropy(model(b.at("x")), b.at("y"));
      },
      {{"x", {batch, length, 2}}, {"y", {batch}, DType::i64}}, o);
  LruTrainRun run;
  for (int s = 0; s < steps; ++s) {
    Tensor y({batch}, DType::i64);
    for (int64_t i = 0; i < batch; ++i) y.data<int64_t>()[i] = (i + s) % 3;
    Tensor x = random_tensor({batch, length, 2}, 40 + s, DType::f32);
    run.values.push_back(tr.step({{"x", x}, {"y", y}}));
    if (record_grad_norm) run.values.push_back(tr.last_grad_norm());
  }
  for (auto& [name, p] : model.named_parameters())
    for (double v : p->value.to_vector()) run.values.push_back(v);
  run.peak_bytes = tr.peak_bytes();
  return run;
}

}  // namespace fx::optest
