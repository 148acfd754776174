// The LRU layer and classifier: ring initialisation, finite-difference gradients of the
// layer and of a residual block (f64), recurrent (step-by-step) inference equal to the
// parallel scan, compiled training steps equal to interpreted ones, and the tanh RNN
// baseline's shapes and gradients.
#include <cmath>

#include "fluxion/api/complex.h"
#include "fluxion/nn/lru.h"
#include "fluxion/optim/trainer.h"
#include "lru_test_util.h"
#include "op_test_util.h"

namespace fx::optest {
namespace {

using nn::LRUConfig;

// Converts every parameter to f64 and returns (name, value) pairs for check_grad_fd.
std::vector<std::pair<std::string, Tensor>> f64_params(nn::Module& m) {
  std::vector<std::pair<std::string, Tensor>> v;
  for (auto& [name, p] : m.named_parameters()) {
    p->value = p->value.to(DType::f64);
    v.emplace_back(name, p->value);
  }
  return v;
}

// A builder that routes the check's inputs into the module's parameters.
template <typename M>
Builder module_builder(M& m) {
  return [&m](const Args& a) {
    for (auto& [name, p] : m.named_parameters()) p->var = a[name];
    return m(a["x"]);
  };
}

TEST(NnLru, RingInitialisation) {
  LRUConfig c{.d_model = 4, .d_state = 200, .r_min = 0.4, .r_max = 0.9, .max_phase = 3.14};
  nn::InitRng rng(3);
  nn::LRU lru(c, rng);
  Graph g;
  lru.bind(g);
  Var lam = lru.lambda();
  Var gamma = exp(g.find_input("gamma_log"));
  Feeds feeds;
  for (auto& [name, p] : lru.named_parameters()) feeds[name] = p->value;
  std::vector<Tensor> r = evaluate({lam, gamma}, feeds);
  std::vector<double> l = r[0].to_vector(), gm = r[1].to_vector();
  for (int64_t i = 0; i < c.d_state; ++i) {
    double re = l[2 * i], im = l[2 * i + 1], mod = std::hypot(re, im);
    EXPECT_GE(mod, c.r_min - 1e-6);
    EXPECT_LE(mod, c.r_max + 1e-6);
    double phase = std::atan2(im, re);
    if (phase < 0) phase += 2 * M_PI;
    EXPECT_LE(phase, c.max_phase + 1e-4);
    EXPECT_NEAR(gm[i], std::sqrt(1 - mod * mod), 1e-5) << "gamma = sqrt(1 - |lambda|^2)";
  }
}

TEST(NnLru, LayerGradientsMatchFiniteDifferences) {
  nn::InitRng rng(5);
  // r close to 1 so the scan carries information across the whole sequence.
  nn::LRU lru(LRUConfig{.d_model = 3, .d_state = 2, .r_min = 0.8, .r_max = 0.99}, rng);
  auto in = f64_params(lru);
  in.emplace_back("x", random_tensor({2, 5, 3}, 11));
  EXPECT_GT(check_grad_fd(module_builder(lru), in, 12), 60);
}

TEST(NnLru, BlockGradientsMatchFiniteDifferences) {
  nn::InitRng rng(6);
  nn::LRUBlock block(LRUConfig{.d_model = 3, .d_state = 2, .r_min = 0.5, .r_max = 0.95}, rng);
  auto in = f64_params(block);
  in.emplace_back("x", random_tensor({2, 4, 3}, 13));
  EXPECT_GT(check_grad_fd(module_builder(block), in, 14), 60);
}

TEST(NnLru, RecurrentModeEqualsParallel) {
  for (nn::Pooling pooling : {nn::Pooling::mean, nn::Pooling::last}) {
    for (int64_t vocab : {0, 7}) {
      SCOPED_TRACE(std::string(pooling == nn::Pooling::mean ? "mean" : "last") +
                   (vocab ? " tokens" : " features"));
      nn::SequenceModelConfig c;
      c.d_in = 3;
      c.vocab = vocab;
      c.n_classes = 4;
      c.layers = 2;
      c.pooling = pooling;
      c.lru = LRUConfig{.d_model = 8, .d_state = 6};
      nn::InitRng rng(9);
      nn::LRUClassifier model(c, rng);
      const int64_t B = 3, L = 37;  // not a power of two
      Tensor x = vocab ? Tensor::from(std::vector<double>(B * L), {B, L}, DType::i64)
                       : random_tensor({B, L, 3}, 21, DType::f32);
      if (vocab)
        for (int64_t i = 0; i < B * L; ++i) x.data<int64_t>()[i] = (i * 5 + i / 3) % vocab;
      Graph g;
      model.bind(g);
      Var xv = g.input("x", x.shape(), x.dtype());
      Feeds feeds{{"x", x}};
      for (auto& [name, p] : model.named_parameters()) feeds[name] = p->value;
      Tensor parallel = evaluate(std::vector<Var>{model(xv)}, feeds)[0];
      Tensor recurrent = model.predict_recurrent(x);
      EXPECT_TRUE(all_close(recurrent, parallel, Tol{1e-4, 1e-5}));
    }
  }
}

// The compiled step (fused elementwise kernels, planned memory, library kernels for dot,
// linear_scan and its coefficient gradient) computes what the interpreter computes.
TEST(NnLru, CompiledTrainingStepsEqualInterpreted) {
  auto train = [](bool compiled) {
    optim::TrainerOptions o;
    o.compile = compiled;
    o.max_grad_norm = 1.0;
    const int64_t B = 4, L = 29;  // not a power of two
    LRUConfig lru{.d_model = 8, .d_state = 6, .r_min = 0.9, .r_max = 0.999};
    return train_small_lru(lru, 12, B, L, 4, o, /*record_grad_norm=*/true).values;
  };
  std::vector<double> compiled = train(true), interpreted = train(false);
  EXPECT_TRUE(all_close(compiled, interpreted, Tol{1e-6, 1e-6}));
}

TEST(NnLru, TanhRnnBaseline) {
  nn::SequenceModelConfig c;
  c.d_in = 2;
  c.n_classes = 3;
  c.pooling = nn::Pooling::last;
  nn::InitRng rng(4);
  nn::TanhRNNClassifier rnn(c, 4, rng);
  auto in = f64_params(rnn);
  in.emplace_back("x", random_tensor({2, 6, 2}, 15));
  EXPECT_GT(check_grad_fd(module_builder(rnn), in, 16), 30);
}

TEST(NnLru, Errors) {
  nn::InitRng rng(1);
  EXPECT_THAT(error_of([&] { nn::LRU(LRUConfig{.r_min = 0.9, .r_max = 1.0}, rng); }),
              HasSubstr("r_max < 1"));
  EXPECT_THAT(error_of([] { nn::pooling_from_name("max"); }), HasSubstr("unknown pooling 'max'"));
}

}  // namespace
}  // namespace fx::optest
