// Mixed precision: the precision pass (allow/deny lists, per-module overrides, measured
// fallback), loss scaling (skipped steps on overflow, scale halving and growth), and training
// curves of bf16/fp16 against fp32 on a small regression.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "error_of.h"
#include "fluxion/amp/loss_scaler.h"
#include "fluxion/amp/precision_policy.h"
#include "fluxion/api/fx.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/core/error.h"
#include "fluxion/core/philox.h"
#include "fluxion/exec/interpreter.h"
#include "fluxion/nn/layers.h"
#include "fluxion/optim/trainer.h"

using namespace fx;

namespace {

Tensor random_tensor(Shape s, uint64_t seed, double scale = 1.0) {
  Tensor t(s, DType::f32);
  philox_normal(seed, 0, t.data<float>(), t.numel());
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] *= (float)scale;
  return t;
}

// y = sin(x·a) regression: small enough to train in a test, nonlinear enough to need a net.
struct Regression {
  int64_t n = 256, in = 4, out = 2;
  Tensor x = random_tensor({256, 4}, 11);
  Tensor y;
  Regression() {
    Graph g;
    y = evaluate(sin(matmul(g.constant(x), g.constant(random_tensor({4, 2}, 12, 0.8)))));
  }
};

// Builds a graph-level test case: MLP loss and its gradients.
struct LossAndGrads {
  Graph g;
  std::vector<Var> outputs;
  Feeds feeds;
  LossAndGrads() {
    nn::InitRng rng(3);
    nn::MLP model(4, {32, 32}, 2, rng, "silu");
    model.bind(g);
    Var x = g.input("x", {64, 4}), y = g.input("y", {64, 2});
    Var loss = mse_loss(model(x), y);
    std::vector<Var> wrt;
    for (auto& [name, p] : model.named_parameters()) {
      wrt.push_back(p->var);
      feeds[name] = p->value;
    }
    outputs = grad(loss, wrt);
    outputs.insert(outputs.begin(), loss);
    feeds["x"] = random_tensor({64, 4}, 5);
    feeds["y"] = random_tensor({64, 2}, 6);
  }
};

double max_rel_diff(const Tensor& a, const Tensor& b) {
  auto va = a.to_vector(), vb = b.to_vector();
  double scale = 1e-6, diff = 0;
  for (size_t i = 0; i < va.size(); ++i) {
    scale = std::max(scale, std::abs(va[i]));
    diff = std::max(diff, std::abs(va[i] - vb[i]));
  }
  return diff / scale;
}

}  // namespace

TEST(PrecisionPass, Fp32IsAnExactCopy) {
  LossAndGrads c;
  auto ref = Interpreter(c.g, c.outputs).run(c.feeds);
  amp::PrecisionResult r = amp::apply_precision(c.g, c.outputs, {});
  auto got = Interpreter(*r.graph, r.outputs).run(c.feeds);
  ASSERT_EQ(got.size(), ref.size());
  for (size_t i = 0; i < ref.size(); ++i) EXPECT_EQ(got[i].to_vector(), ref[i].to_vector()) << i;
  EXPECT_EQ(r.casts_inserted, 0);
}

TEST(PrecisionPass, Bf16ProductsF32ReductionsAndOutputs) {
  LossAndGrads c;
  auto ref = Interpreter(c.g, c.outputs).run(c.feeds);
  amp::PrecisionPolicy p;
  p.precision = amp::Precision::bf16;
  p.measure = false;
  amp::PrecisionResult r = amp::apply_precision(c.g, c.outputs, p);
  ASSERT_FALSE(r.decisions.empty());
  for (const auto& d : r.decisions) EXPECT_EQ(d.chosen, DType::bf16) << d.signature;
  int low_dots = 0;
  for (const Node& n : r.graph->nodes()) {
    if (n.op == Op::dot && n.dtype == DType::bf16) ++low_dots;
    if (n.op == Op::reduce_sum || n.op == Op::exp)  // deny list: never low precision
      for (int in : n.inputs) EXPECT_EQ(r.graph->node(in).dtype, DType::f32) << op_name(n.op);
  }
  EXPECT_EQ(low_dots, (int)r.decisions.size());
  auto got = Interpreter(*r.graph, r.outputs).run(c.feeds);
  for (size_t i = 0; i < ref.size(); ++i) {
    EXPECT_EQ(got[i].dtype(), DType::f32);  // outputs keep their traced dtype
    EXPECT_LT(max_rel_diff(got[i], ref[i]), 0.05) << "output " << i;  // bf16: 8-bit mantissa
    EXPECT_GT(max_rel_diff(got[i], ref[i]), 0.0) << "output " << i << " was not lowered";
  }
}

TEST(PrecisionPass, ConvolutionsAndTheirGradientsRunInLowPrecision) {
  // conv -> silu -> conv, loss and gradients: all three conv ops are on the allow list.
  Graph g;
  Var x = g.input("x", {2, 3, 8, 8}), w1 = g.input("w1", {4, 3, 3, 3});
  Var w2 = g.input("w2", {4, 4, 3, 3});
  ConvParams pad1;
  pad1.padding = {1, 1};
  ConvParams down = pad1;
  down.stride = {2, 2};
  Var h = silu(conv2d(x, w1, pad1));
  Var loss = mean(square(conv2d(h, w2, down)));
  std::vector<Var> outputs = grad(loss, {x, w1, w2});
  outputs.insert(outputs.begin(), loss);
  Feeds feeds{{"x", random_tensor({2, 3, 8, 8}, 1)},
              {"w1", random_tensor({4, 3, 3, 3}, 2, 0.5)},
              {"w2", random_tensor({4, 4, 3, 3}, 3, 0.5)}};
  auto ref = Interpreter(g, outputs).run(feeds);
  for (amp::Precision prec : {amp::Precision::bf16, amp::Precision::fp16}) {
    amp::PrecisionPolicy p;
    p.precision = prec;
    p.measure = false;
    amp::PrecisionResult r = amp::apply_precision(g, outputs, p);
    std::map<Op, int> low;
    for (const Node& n : r.graph->nodes())
      if (n.dtype == amp::compute_dtype(prec)) ++low[n.op];
    EXPECT_EQ(low[Op::conv2d], 2);
    EXPECT_EQ(low[Op::conv2d_backward_data], 2);     // into h and into x
    EXPECT_EQ(low[Op::conv2d_backward_weights], 2);  // both weights
    auto got = Interpreter(*r.graph, r.outputs).run(feeds);
    for (size_t i = 0; i < ref.size(); ++i) {
      EXPECT_EQ(got[i].dtype(), DType::f32);
      EXPECT_LT(max_rel_diff(got[i], ref[i]), prec == amp::Precision::bf16 ? 0.05 : 0.01) << i;
      EXPECT_GT(max_rel_diff(got[i], ref[i]), 0.0) << "output " << i << " was not lowered";
    }
  }
  // The stride-2 convolution's signature differs from a stride-1 one on the same operands.
  amp::PrecisionPolicy p;
  p.precision = amp::Precision::bf16;
  p.measure = false;
  std::string report = amp::apply_precision(g, outputs, p).report();
  EXPECT_NE(report.find("-> [2, 4, 4, 4]"), std::string::npos) << report;
}

TEST(PrecisionPass, ModuleOverrideAndMeasuredFallback) {
  LossAndGrads c;
  amp::PrecisionPolicy p;
  p.precision = amp::Precision::fp16;
  p.measure = false;
  p.fp32_modules = {"2"};  // the output layer
  amp::PrecisionResult r = amp::apply_precision(c.g, c.outputs, p);
  int kept = 0;
  for (const auto& d : r.decisions)
    if (d.chosen == DType::f32) {
      ++kept;
      EXPECT_NE(d.reason.find("module override '2'"), std::string::npos) << d.reason;
    }
  EXPECT_GE(kept, 2);  // the layer's forward product and its weight gradient at least
  EXPECT_LT(kept, (int)r.decisions.size());

  p.fp32_modules.clear();
  p.measure = true;
  amp::PrecisionResult m = amp::apply_precision(c.g, c.outputs, p);
  for (const auto& d : m.decisions) {
    EXPECT_GT(d.ms_f32, 0.0) << d.signature;
    EXPECT_GT(d.ms_low, 0.0) << d.signature;
    // Whatever this CPU prefers, the choice follows the measurement.
    EXPECT_EQ(d.chosen == DType::f16, d.ms_low * p.min_speedup <= d.ms_f32) << d.signature;
  }
  EXPECT_NE(m.report().find("measured"), std::string::npos);
}

TEST(PrecisionPolicy, JsonRoundTripAndErrors) {
  amp::PrecisionPolicy p;
  p.precision = amp::Precision::bf16;
  p.fp32_modules = {"net.layers.3"};
  p.measure = false;
  auto q = amp::PrecisionPolicy::from_json(p.to_json(), "policy.json");
  EXPECT_EQ(q.to_json(), p.to_json());
  EXPECT_NE(error_of([] {
              amp::PrecisionPolicy::from_json({{"precison", "bf16"}}, "p.json");
            }).find("p.json: unknown field 'precison'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              amp::PrecisionPolicy::from_json({{"low_precision_ops", {"conv3d"}}}, "p.json");
            }).find("low_precision_ops: unknown op 'conv3d'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              amp::PrecisionPolicy::from_json({{"min_speedup", -1}}, "p.json");
            }).find("p.json: min_speedup must be a positive number, got -1"),
            std::string::npos);
  // An impossible margin keeps every measured product in f32.
  LossAndGrads c;
  amp::PrecisionPolicy strict;
  strict.precision = amp::Precision::bf16;
  strict.min_speedup = 1e9;
  for (const auto& d : amp::apply_precision(c.g, c.outputs, strict).decisions)
    EXPECT_EQ(d.chosen, DType::f32) << d.signature << " " << d.reason;
  EXPECT_NE(error_of([] {
              amp::precision_from_name("fp8");
            }).find("unknown precision 'fp8' (available: fp32, bf16, fp16)"),
            std::string::npos);
}

TEST(LossScaler, DynamicHalvesOnOverflowAndGrowsAfterCleanSteps) {
  amp::LossScaling cfg;
  cfg.mode = amp::LossScaling::Mode::dynamic;
  cfg.init_scale = 1024;
  cfg.growth_interval = 3;
  amp::LossScaler s(cfg);
  s.update(false);
  EXPECT_EQ(s.scale(), 512);
  EXPECT_EQ(s.skipped_steps(), 1);
  s.update(true);
  s.update(true);
  EXPECT_EQ(s.scale(), 512);
  s.update(true);
  EXPECT_EQ(s.scale(), 1024);
  amp::LossScaler restored(cfg);
  restored.set_state(s.state());
  EXPECT_EQ(restored.scale(), 1024);
  EXPECT_EQ(restored.skipped_steps(), 1);

  amp::LossScaler fixed(amp::loss_scaling_from_string("1000"));
  fixed.update(false);
  EXPECT_EQ(fixed.scale(), 1000);  // a fixed scale never moves, but the step is still skipped
  EXPECT_EQ(fixed.skipped_steps(), 1);
  EXPECT_FALSE(amp::LossScaler(amp::loss_scaling_from_string("none")).enabled());
  for (const char* bad : {"-3", "0", "abc", "1e400", "12x"})
    EXPECT_NE(error_of([&] { amp::loss_scaling_from_string(bad); }).find("--loss-scale"),
              std::string::npos)
        << bad;
}

namespace {

struct CurveRun {
  std::vector<double> losses;
  int64_t skipped = 0;
  double final_scale = 0;
  std::vector<double> scales;
};

CurveRun train_regression(amp::Precision prec, amp::LossScaling scaling, int steps) {
  Regression data;
  nn::InitRng rng(7);
  nn::MLP model(data.in, {64, 64}, data.out, rng, "silu");
  optim::TrainerOptions opts;
  opts.schedule.base_lr = 3e-3;
  opts.precision.precision = prec;
  opts.precision.measure = false;  // test the arithmetic, whatever this CPU prefers
  opts.loss_scaling = scaling;
  optim::Trainer tr(
      model, optim::adam(),
      [&](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
        return mse_loss(model(b.at("x")), b.at("y"));
      },
      {{"x", {data.n, data.in}}, {"y", {data.n, data.out}}}, opts);
  CurveRun r;
  for (int s = 0; s < steps; ++s) {
    std::vector<Tensor> before;
    for (auto& [name, p] : model.named_parameters()) before.push_back(p->value);
    r.losses.push_back(tr.step({{"x", data.x}, {"y", data.y}}));
    r.scales.push_back(tr.loss_scaler().scale());
    if (tr.last_step_skipped()) {  // a skipped step leaves every weight bit-identical
      size_t i = 0;
      for (auto& [name, p] : model.named_parameters())
        EXPECT_EQ(p->value.to_vector(), before[i++].to_vector()) << name << " step " << s;
    }
  }
  r.skipped = tr.loss_scaler().skipped_steps();
  r.final_scale = tr.loss_scaler().scale();
  return r;
}

}  // namespace

TEST(MixedPrecisionTraining, Fp16OverflowSkipsStepHalvesScaleAndTrainingGoesOn) {
  amp::LossScaling scaling;
  scaling.mode = amp::LossScaling::Mode::dynamic;
  scaling.init_scale = std::ldexp(1.0, 40);  // scaled gradients far beyond f16's 65504
  scaling.growth_interval = 1000;
  CurveRun r = train_regression(amp::Precision::fp16, scaling, 60);
  EXPECT_GE(r.skipped, 10);  // 2^40 must come down to below 2^16 or so
  EXPECT_LT(r.skipped, 40);
  EXPECT_EQ(r.scales[0], std::ldexp(1.0, 39));  // halved after the first (overflowing) step
  EXPECT_LT(r.final_scale, std::ldexp(1.0, 30));
  std::string curve;
  for (double l : r.losses) curve += std::to_string(l) + " ";
  EXPECT_LT(r.losses.back(), 0.75 * r.losses.front()) << "training did not go on: " << curve;
}

TEST(MixedPrecisionTraining, Bf16AndFp16CurvesTrackFp32) {
  const int steps = 150;
  CurveRun f32 = train_regression(amp::Precision::fp32, {}, steps);
  CurveRun bf16 = train_regression(amp::Precision::bf16, {}, steps);
  amp::LossScaling dyn;
  dyn.mode = amp::LossScaling::Mode::dynamic;
  CurveRun f16 = train_regression(amp::Precision::fp16, dyn, steps);
  ASSERT_LT(f32.losses.back(), 0.2 * f32.losses.front());  // it does learn
  auto avg_last = [](const CurveRun& r) {
    double s = 0;
    for (size_t i = r.losses.size() - 10; i < r.losses.size(); ++i) s += r.losses[i];
    return s / 10;
  };
  // Final loss within 15% of fp32's (the losses are small, so this is a tight absolute band).
  EXPECT_NEAR(avg_last(bf16), avg_last(f32), 0.15 * avg_last(f32));
  EXPECT_NEAR(avg_last(f16), avg_last(f32), 0.15 * avg_last(f32));
  EXPECT_EQ(f16.skipped, 0);  // 2^16 is safe for this model
}

TEST(MixedPrecision, PerDtypeConstants) {
  EXPECT_EQ(amp::finite_max(DType::f16), 65504.0);
  EXPECT_TRUE(std::isinf(Tensor::scalar(1e12).to(DType::f16).item()));  // the classic pitfall
  EXPECT_FALSE(std::isinf(Tensor::scalar(-amp::finite_max(DType::f16)).to(DType::f16).item()));
  EXPECT_EQ(Tensor::scalar(1e-8).to(DType::f16).item(), 0.0);  // an epsilon that vanishes
  EXPECT_GT(Tensor::scalar(amp::smallest_normal(DType::f16)).to(DType::f16).item(), 0.0);
}
