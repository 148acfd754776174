// The compiled executor against the interpreter (the oracle): the graphs of many ops and
// their gradients, and whole training steps, run through both. Fused kernels use the
// reference kernels' math line for line, so agreement is bit for bit (memcmp).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "fluxion/api/fx.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/compiler/compiler.h"
#include "fluxion/core/error.h"
#include "fluxion/gen/rectified_flow.h"
#include "fluxion/nn/layers.h"
#include "fluxion/optim/trainer.h"

using namespace fx;
namespace fs = std::filesystem;

namespace {

Tensor uniform(Shape s, uint64_t seed, DType d, double lo = -2.0, double hi = 2.0) {
  std::vector<double> v(numel(s));
  uint64_t x = seed * 0x9e3779b97f4a7c15ull + 7;
  for (double& e : v) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    e = lo + (hi - lo) * ((x >> 11) * (1.0 / 9007199254740992.0));
  }
  return Tensor::from(v, s, d);
}

::testing::AssertionResult bit_equal(const Tensor& got, const Tensor& want) {
  if (got.shape() != want.shape() || got.dtype() != want.dtype())
    return ::testing::AssertionFailure()
           << "got " << dtype_name(got.dtype()) << shape_str(got.shape()) << ", want "
           << dtype_name(want.dtype()) << shape_str(want.shape());
  if (std::memcmp(got.raw(), want.raw(), got.nbytes()) == 0) return ::testing::AssertionSuccess();
  auto g = got.to_vector(), w = want.to_vector();
  for (size_t i = 0; i < g.size(); ++i)
    if (std::memcmp(&g[i], &w[i], sizeof(double)) != 0)
      return ::testing::AssertionFailure()
             << "first difference at [" << i << "]: got " << g[i] << ", want " << w[i];
  return ::testing::AssertionFailure() << "bytes differ";
}

// One case: named float inputs (shapes), a function of them; gradients of sum(f * c) with
// respect to every input are checked too when the output is floating.
struct Case {
  std::string name;
  std::vector<Shape> shapes;
  std::function<Var(const std::vector<Var>&)> f;
  bool grads = true;
};

std::vector<Case> cases() {
  using V = const std::vector<Var>&;
  auto pos = [](Var x) { return abs(x) + 0.25; };
  return {
      {"neg", {{4, 5}}, [](V x) { return neg(x[0]); }},
      {"exp", {{4, 5}}, [](V x) { return exp(x[0]); }},
      {"log", {{4, 5}}, [=](V x) { return log(pos(x[0])); }},
      {"sin_cos", {{4, 5}}, [](V x) { return sin(x[0]) * cos(x[0]); }},
      {"tanh", {{300}}, [](V x) { return tanh(x[0]); }},
      {"sqrt_rsqrt", {{4, 5}}, [=](V x) { return sqrt(pos(x[0])) + rsqrt(pos(x[0])); }},
      {"abs_sign", {{4, 5}}, [](V x) { return abs(x[0]) * sign(x[0]); }},
      {"sigmoid", {{4, 5}}, [](V x) { return sigmoid(x[0]); }},
      {"erf", {{4, 5}}, [](V x) { return erf(x[0]); }},
      {"floor", {{4, 5}}, [](V x) { return floor(x[0]) + x[0]; }},
      {"add_row", {{4, 5}, {5}}, [](V x) { return x[0] + x[1]; }},
      {"sub_col", {{4, 5}, {4, 1}}, [](V x) { return x[0] - x[1]; }},
      {"mul_scalar", {{4, 5}, {}}, [](V x) { return x[0] * x[1] * 3.0; }},
      {"negative_literals", {{4, 5}}, [](V x) { return neg(x[0] * -1.5) - (-0.25 - x[0]); }},
      {"div", {{4, 5}, {4, 5}}, [=](V x) { return x[0] / pos(x[1]); }},
      {"pow", {{4, 5}, {4, 5}}, [=](V x) { return pow(pos(x[0]), x[1]); }},
      {"max_min", {{4, 5}, {5}}, [](V x) { return maximum(x[0], x[1]) + minimum(x[0], x[1]); }},
      {"compare_where",
       {{4, 5}, {4, 5}},
       [](V x) {
         Var c = logical_or(logical_and(gt(x[0], x[1]), le(x[0], scalar_like(x[0], 1.0))),
                            eq(x[0], x[1]));
         return where(c, x[0], x[1] * 2.0) + where(logical_not(ne(x[0], x[1])), x[0], x[1]);
       }},
      {"cast_roundtrip",
       {{4, 5}},
       [](V x) {
         DType other = x[0].dtype() == DType::f32 ? DType::f64 : DType::f32;
         return cast(cast(x[0], other) * 1.5, x[0].dtype()) +
                cast(ge(x[0], zeros_like(x[0])), x[0].dtype());
       }},
      {"sum_all", {{6, 7}}, [](V x) { return sum(x[0] * x[0]); }},
      {"sum_axis0", {{64, 9}}, [](V x) { return sum(silu(x[0]), {0}); }},
      {"sum_axis1_keep", {{6, 7}}, [](V x) { return sum(exp(x[0]), {1}, true); }},
      {"max_axis", {{6, 7}}, [](V x) { return max(x[0], {-1}); }},
      {"mean_variance", {{6, 7}}, [](V x) { return mean(x[0], {0}) + variance(x[0], {0}); }},
      {"broadcast_reshape_permute",
       {{3, 1, 4}},
       [](V x) {
         Var b = broadcast_to(x[0], {2, 3, 5, 4});
         return permute(reshape(b * 2.0, {6, 20}), {1, 0});
       }},
      {"slice_pad_concat",
       {{5, 6}},
       [](V x) {
         Var s = slice(x[0], {1, 0}, {5, 6}, {2, 3});
         return concat({pad(s, {1, 0}, {0, 0}, {}, 0.5), exp(s)}, 0);
       }},
      {"dot", {{8, 6}, {6, 5}}, [](V x) { return matmul(x[0], x[1]); }},
      {"dot_transposed_batched",
       {{3, 6, 4}, {5, 6}},
       [](V x) { return dot(x[0], x[1], true, true); }},
      {"linear_silu",
       {{32, 6}, {8, 6}, {8}},
       [](V x) { return silu(dot(x[0], x[1], false, true) + x[2]); }},
      // Products of 1 to 4 contracted values, which the compiler expands into the fused
      // kernel that reads them (expand_small_dots; f32 only): transposed either side, a
      // batch of A times a shared B.
      {"small_k_dots",
       {{32, 3}, {8, 3}, {8}, {2, 32}, {2, 8}, {3, 32, 1}, {1, 8}, {32, 4}, {4, 8}},
       [](V x) {
         Var h = silu(dot(x[0], x[1], false, true) + x[2]);  // K 3, B^T
         Var t = dot(x[3], x[4], true, false);               // K 2, A^T
         Var b = sum(dot(x[5], x[6]), {0});                  // K 1, a batch of A
         return h * t + b + dot(x[7], x[8]);                 // K 4
       }},
      // Sums of -0 products: 0 + -0 + -0 is +0 in the dot kernel, so 1 / C is +inf where a
      // sum without the leading 0 would give -inf.
      {"small_k_negative_zeros",
       {{6, 2}, {2, 5}},
       [](V x) { return div(scalar_like(x[0], 1.0), dot(x[0] * 0.0, x[1])); },
       false},
      // Library convolutions write into planned buffers (blocked copies in between); the
      // U-Net's chain: conv, GroupNorm, SiLU, strided conv, nearest upsampling, grouped conv.
      {"conv_chain",
       {{2, 8, 9, 9}, {8, 8, 3, 3}, {8}, {8}, {16, 8, 3, 3}, {16, 4, 1, 1}},
       [](V x) {
         Var h = conv2d(x[0], x[1], {.padding = {1, 1}});
         h = silu(group_norm(h, 4, x[2], x[3]));
         h = conv2d(h, x[4], {.stride = {2, 2}, .padding = {1, 1}});
         return conv2d(upsample_nearest(h, 2), x[5], {.groups = 4});
       }},
      {"softmax", {{5, 7}}, [](V x) { return softmax(x[0]) * log_softmax(x[0], 0); }},
      {"logsumexp", {{5, 7}}, [](V x) { return logsumexp(x[0], 1); }},
      {"layer_norm", {{6, 8}, {8}, {8}}, [](V x) { return layer_norm(x[0], x[1], x[2]); }},
      {"gelu_both", {{4, 5}}, [](V x) { return gelu(x[0]) + gelu(x[0], true); }},
      {"softplus_relu", {{4, 5}}, [](V x) { return softplus(x[0]) + relu(x[0]); }},
      {"mse", {{10, 2}, {10, 2}}, [](V x) { return mse_loss(x[0], x[1]); }},
      {"cross_entropy",
       {{6, 4}},
       [](V x) {
         Var labels = x[0].graph->constant(Tensor::from({0, 3, 1, 2, 2, 0}, {6}, DType::i64));
         return cross_entropy(x[0], labels);
       }},
      {"gather_scatter",
       {{5, 3}, {4, 3}},
       [](V x) {
         Var idx = x[0].graph->constant(Tensor::from({4, 0, 0, 2}, {4}, DType::i64));
         return scatter_add(x[0], idx, x[1]) + sum(gather(x[0], idx) * x[1]);
       }},
      {"random_iota",
       {{4, 5}},
       [](V x) {
         Var key = x[0].graph->constant(Tensor::from({3, 9}, {2}, DType::i64));
         Var it = cast(iota(*x[0].graph, {4, 5}, 1), x[0].dtype());
         return x[0] * random_normal(key, {4, 5}, x[0].dtype()) +
                random_uniform(key, {4, 5}, x[0].dtype()) + it;
       }},
  };
}

void check_all_ops(DType dt) {
  Graph g;
  Feeds feeds;
  std::vector<Var> outs;
  std::vector<std::string> labels;
  uint64_t seed = 1;
  for (const Case& c : cases()) {
    std::vector<Var> in;
    for (size_t k = 0; k < c.shapes.size(); ++k) {
      std::string name = c.name + "." + std::to_string(k);
      in.push_back(g.input(name, c.shapes[k], dt));
      feeds[name] = uniform(c.shapes[k], seed++, dt);
    }
    Var y = c.f(in);
    outs.push_back(y);
    labels.push_back(c.name);
    if (c.grads && is_float(y.dtype())) {
      Var cot = g.constant(uniform(y.shape(), seed++, y.dtype(), -1.0, 1.0));
      std::vector<Var> gs = grad(sum(y * cot), in);
      for (size_t k = 0; k < gs.size(); ++k) {
        outs.push_back(gs[k]);
        labels.push_back(c.name + " d/dx" + std::to_string(k));
      }
    }
  }
  std::vector<Tensor> want = Interpreter(g, outs).run(feeds);
  auto ex = compiler::compile(g, outs);
  EXPECT_TRUE(ex->stats().codegen_ok) << ex->stats().summary();
  EXPECT_GT(ex->stats().kernels, 20);
  for (int run = 0; run < 2; ++run) {  // twice: planned buffers are reused between runs
    std::vector<Tensor> got = ex->run(feeds);
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_TRUE(bit_equal(got[i], want[i])) << labels[i] << " in " << dtype_name(dt);
  }
}

// Runs fn with an environment variable set, restoring it after.
template <typename F>
void with_env(const char* name, const std::string& value, F fn) {
  const char* old = std::getenv(name);
  std::string saved = old ? old : "";
  setenv(name, value.c_str(), 1);
  try {
    fn();
  } catch (...) {
    old ? setenv(name, saved.c_str(), 1) : unsetenv(name);
    throw;
  }
  old ? setenv(name, saved.c_str(), 1) : unsetenv(name);
}

fs::path temp_dir(const std::string& tag) {
  fs::path d =
      fs::temp_directory_path() / ("fluxion_compiler_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

}  // namespace

TEST(CompilerExec, ManyOpsAndGradientsBitIdenticalF32) { check_all_ops(DType::f32); }
TEST(CompilerExec, ManyOpsAndGradientsBitIdenticalF64) { check_all_ops(DType::f64); }
// bf16 values fuse too (computed in f32, rounded after every op, as the reference kernels
// do): every op and gradient above, run in bf16.
TEST(CompilerExec, ManyOpsAndGradientsBitIdenticalBf16) { check_all_ops(DType::bf16); }

TEST(CompilerExec, Bf16RoundingMatchesTheReferenceOnEdgeValues) {
  // Rounding ties (even and odd), values that round up into Inf, NaNs with payloads (kept,
  // made quiet, never carried into Inf), signed zeros, subnormals: through one fused chain
  // f32 -> bf16 -> ops in bf16 -> f32, and as bf16 inputs and outputs.
  std::vector<uint32_t> bits = {0x3f808000u, 0x3f818000u, 0x3f80ffffu, 0x7f7fffffu, 0x7f7f8000u,
                                0xff7f8000u, 0x7fc00001u, 0x7f800001u, 0xffbfffffu, 0x7f800000u,
                                0xff800000u, 0x00000000u, 0x80000000u, 0x00000001u, 0x807fffffu,
                                0x3effffffu, 0xc0490fdbu, 0x4b000001u};
  std::vector<float> xs;
  for (uint32_t b : bits) {
    float f;
    std::memcpy(&f, &b, 4);
    xs.push_back(f);
  }
  int64_t n = (int64_t)xs.size();
  Graph g;
  Var x = g.input("x", {n}), h = g.input("h", {n}, DType::bf16);
  Var xb = cast(x, DType::bf16);
  Var y = xb * 3.0 + h;  // two roundings in bf16
  std::vector<Var> outs = {xb,
                           y,
                           cast(sigmoid(y) - exp(h), DType::f32),
                           maximum(xb, h) / h,
                           cast(xb, DType::f64) * 1.5,
                           cast(cast(x, DType::f64), DType::bf16)};
  Feeds feeds = {{"x", Tensor::from_f32(xs, {n})},
                 {"h", uniform({n}, 4, DType::bf16, -300.0, 300.0)}};
  std::vector<Tensor> want = Interpreter(g, outs).run(feeds);
  auto ex = compiler::compile(g, outs);
  ASSERT_TRUE(ex->stats().codegen_ok) << ex->stats().summary();
  EXPECT_EQ(ex->fusion().kernels.size(), 1u) << "the whole chain is one kernel";
  std::vector<Tensor> got = ex->run(feeds);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(bit_equal(got[i], want[i])) << i;
}

TEST(CompilerExec, MlpTrainerStepsBitIdentical) {
  auto train = [](bool compiled, const optim::TrainerOptions& base,
                  std::unique_ptr<optim::Optimizer> opt) {
    nn::InitRng rng(5);
    nn::MLP model(3, {32, 32}, 2, rng, "silu");
    optim::TrainerOptions o = base;
    o.compile = compiled;
    optim::Trainer tr(
        model, std::move(opt),
        [&](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
          Var noise = random_normal(key, {64, 2});
          return mse_loss(model(b.at("x")), b.at("y") + noise * 0.1);
        },
        {{"x", {64, 3}}, {"y", {64, 2}}}, o);
    std::vector<double> out;
    for (int s = 0; s < 12; ++s) {
      Tensor x = uniform({64, 3}, 100 + s, DType::f32), y = uniform({64, 2}, 200 + s, DType::f32);
      out.push_back(tr.step({{"x", x}, {"y", y}}));
      out.push_back(tr.last_grad_norm());
    }
    for (auto& [name, p] : model.named_parameters())
      for (double v : p->value.to_vector()) out.push_back(v);
    for (auto& [name, t] : tr.state())
      for (double v : t.to_vector()) out.push_back(v);
    if (compiled) {
      EXPECT_GT(tr.peak_bytes(), 0u);
    }
    return out;
  };
  optim::TrainerOptions plain;
  plain.schedule.base_lr = 3e-3;
  EXPECT_EQ(train(true, plain, optim::adam()), train(false, plain, optim::adam()));
  optim::TrainerOptions clipped = plain;
  clipped.max_grad_norm = 0.5;
  clipped.ema_decay = 0.9;
  clipped.schedule.warmup_steps = 3;
  EXPECT_EQ(train(true, clipped, optim::adamw()), train(false, clipped, optim::adamw()));
  EXPECT_EQ(train(true, clipped, optim::sgd({.momentum = 0.9, .weight_decay = 1e-3})),
            train(false, clipped, optim::sgd({.momentum = 0.9, .weight_decay = 1e-3})));
}

namespace {
// A compiled or interpreted MLP trainer on y = noisy x.
struct SmallTrainer {
  nn::InitRng rng{7};
  nn::MLP model{3, {16}, 2, rng, "silu"};
  std::unique_ptr<optim::Trainer> tr;
  explicit SmallTrainer(bool compiled) {
    optim::TrainerOptions o;
    o.compile = compiled;
    tr = std::make_unique<optim::Trainer>(
        model, optim::adam(),
        [this](Graph&, const std::unordered_map<std::string, Var>& b, Var) {
          return mse_loss(model(b.at("x")), b.at("y"));
        },
        std::vector<optim::BatchInput>{{"x", {8, 3}}, {"y", {8, 2}}}, o);
  }
  double step(uint64_t seed, bool nan = false) {
    Tensor x = uniform({8, 3}, seed, DType::f32);
    if (nan) x.data<float>()[5] = NAN;
    return tr->step({{"x", x}, {"y", uniform({8, 2}, seed + 1, DType::f32)}});
  }
  Tensor& first_param() { return model.named_parameters().begin()->second->value; }
};
}  // namespace

// Donation: compiled, the trainer moves its parameters and Adam states into the feeds and
// the update kernels write the new values into the same buffers; a tensor someone else
// still holds is never written (that step allocates a fresh output instead).
TEST(CompilerExec, TrainerUpdatesParametersInPlaceUnlessSomeoneHoldsThem) {
  SmallTrainer t(true);
  EXPECT_GT(t.tr->executable()->stats().donated, 0);
  t.step(1);
  const void* buffer = t.first_param().raw();
  std::vector<double> before = t.first_param().to_vector();
  t.step(2);
  EXPECT_EQ(t.first_param().raw(), buffer) << "updated in place";
  EXPECT_NE(t.first_param().to_vector(), before);
  Tensor held = t.first_param();  // shares the buffer: must keep its values
  std::vector<double> held_values = held.to_vector();
  t.step(3);
  EXPECT_NE(t.first_param().raw(), held.raw());
  EXPECT_EQ(held.to_vector(), held_values);
  EXPECT_NE(t.first_param().to_vector(), held_values);
}

// A non-finite loss fails the step and leaves every parameter as it was, in both executors
// (compiled, the in-place update kernels write the old values back: the step graph keeps
// them when the loss is not finite); training then goes on.
TEST(CompilerExec, NonFiniteLossLeavesParametersUnchanged) {
  for (bool compiled : {false, true}) {
    SmallTrainer t(compiled);
    t.step(1);
    std::map<std::string, std::vector<double>> before;
    for (auto& [name, p] : t.model.named_parameters()) before[name] = p->value.to_vector();
    EXPECT_THROW(t.step(2, true), Error) << (compiled ? "compiled" : "interpreted");
    for (auto& [name, p] : t.model.named_parameters())
      EXPECT_EQ(p->value.to_vector(), before[name]) << name << (compiled ? " compiled" : "");
    EXPECT_TRUE(std::isfinite(t.step(3)));
  }
}

TEST(CompilerExec, RectifiedFlowStepBitIdenticalAndPeakMemoryNotHigher) {
  struct Run {
    std::vector<double> losses;
    size_t peak = 0;
  };
  auto train = [](bool compiled) {
    nn::InitRng rng(0);
    gen::VelocityConfig cfg;
    cfg.hidden = 64;
    gen::VelocityMLP model(cfg, rng);
    optim::TrainerOptions o;
    o.compile = compiled;
    optim::Trainer tr(
        model, optim::adam(),
        [&](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
          return gen::rectified_flow_loss(model, b.at("x0"), b.at("x1"), key);
        },
        {{"x0", {256, 2}}, {"x1", {256, 2}}}, o);
    Run r;
    for (int s = 0; s < 5; ++s)
      r.losses.push_back(tr.step({{"x0", uniform({256, 2}, 10 + s, DType::f32)},
                                  {"x1", uniform({256, 2}, 20 + s, DType::f32)}}));
    r.peak = tr.peak_bytes();
    return r;
  };
  Run c = train(true), i = train(false);
  EXPECT_EQ(c.losses, i.losses);
  EXPECT_GT(c.peak, 0u);
  EXPECT_LE(c.peak, i.peak) << "compiled peak bytes above the interpreter's";
}

// sample_flow(..., compile = true): the compiled velocity network gives the interpreter's
// points bit for bit (RK45, so the step sizes depend on every value), with a partial chunk.
TEST(CompilerExec, CompiledFlowSamplerGivesTheInterpretersPoints) {
  nn::InitRng rng(4);
  gen::VelocityConfig cfg;
  cfg.hidden = 32;
  gen::VelocityMLP model(cfg, rng);
  Tensor x0 = uniform({300, 2}, 6, DType::f32);
  solvers::OdeOptions o;
  o.method = solvers::Method::rk45;
  auto interpreted = gen::sample_flow(model, x0, o, 128);
  auto compiled = gen::sample_flow(model, x0, o, 128, {}, true);
  EXPECT_EQ(compiled.nfe, interpreted.nfe);
  EXPECT_TRUE(bit_equal(compiled.x, interpreted.x));
}

TEST(CompilerExec, FailedKernelCompileFallsBackWithAWarning) {
  fs::path cache = temp_dir("fallback");
  Graph g;
  Var x = g.input("x", {1000});
  Var y = sigmoid(x) * 3.0 + exp(x);
  Tensor xv = uniform({1000}, 3, DType::f32);
  Tensor want = evaluate(y, {{"x", xv}});
  with_env("FLUXION_CACHE_DIR", cache.string(), [&] {
    with_env("FLUXION_CXX", "false", [&] {
      ::testing::internal::CaptureStderr();
      auto ex = compiler::compile(g, {y});
      std::string err = ::testing::internal::GetCapturedStderr();
      EXPECT_NE(err.find("kernel compilation failed"), std::string::npos) << err;
      EXPECT_FALSE(ex->stats().codegen_ok);
      EXPECT_TRUE(bit_equal(ex->run({{"x", xv}})[0], want));
    });
  });
  fs::remove_all(cache);
}

TEST(CompilerExec, SecondCompileLoadsKernelsFromTheDiskCache) {
  fs::path cache = temp_dir("disk");
  Graph g;
  Var x = g.input("x", {10});
  Var y = tanh(x) - x * 0.5;
  with_env("FLUXION_CACHE_DIR", cache.string(), [&] {
    auto first = compiler::compile(g, {y});
    auto second = compiler::compile(g, {y});
    EXPECT_TRUE(first->stats().codegen_ok);
    EXPECT_FALSE(first->stats().cache_hit);
    EXPECT_GT(first->stats().compile_ms, 0.0);
    EXPECT_TRUE(second->stats().cache_hit);
    EXPECT_EQ(second->stats().compile_ms, 0.0);
    int objects = 0;
    for (auto& e : fs::directory_iterator(cache))
      objects +=
          e.path().extension() == ".so" &&
          e.path().filename().string().find("_" + cpu::detect_target().name) != std::string::npos;
    EXPECT_EQ(objects, 1);
  });
  fs::remove_all(cache);
}

TEST(CompilerExec, CacheCountsAndLogsRecompilationsForNewShapes) {
  compiler::ExecutableCache cache;
  auto trace = [](int64_t batch, Graph& g) {
    Var x = g.input("x", {batch, 4});
    return std::vector<Var>{sum(exp(x), {1})};
  };
  Graph g1, g2, g3;
  auto o1 = trace(8, g1), o2 = trace(8, g2), o3 = trace(16, g3);
  auto a = cache.get(g1, o1);
  auto b = cache.get(g2, o2);  // same trace: a hit
  EXPECT_EQ(a.get(), b.get());
  ::testing::internal::CaptureStderr();
  auto c = cache.get(g3, o3);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(a.get(), c.get());
  EXPECT_EQ(cache.compilations(), 2);
  EXPECT_EQ(cache.hits(), 1);
  EXPECT_EQ(cache.recompilations(), 1);
  EXPECT_NE(err.find("recompiling"), std::string::npos) << err;
  EXPECT_NE(err.find("f32[16, 4]"), std::string::npos) << err;
  // The same graph under other options is another program, compiled without the warning.
  compiler::CompileOptions checkpointed;
  checkpointed.recompute_scans = true;
  ::testing::internal::CaptureStderr();
  auto d = cache.get(g1, o1, checkpointed);
  err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(a.get(), d.get());
  EXPECT_EQ(cache.compilations(), 3);
  EXPECT_EQ(cache.recompilations(), 1);
  EXPECT_EQ(err.find("recompiling"), std::string::npos) << err;
  // Static shapes: a feed of another shape is refused with a clear error.
  try {
    a->run({{"x", Tensor::zeros({16, 4})}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("static shapes"), std::string::npos) << e.what();
  }
}

TEST(CompilerExec, DumpWritesEachPassTheKernelsAndThePlans) {
  fs::path dir = temp_dir("dump");
  Graph g;
  Var x = g.input("x", {16, 8});
  Var b = g.input("b", {8});
  Var y = sum(silu(x + b) * 1.0, {0});
  compiler::CompileOptions o;
  o.dump_dir = dir.string();
  ::testing::internal::CaptureStderr();
  auto ex = compiler::compile(g, {y}, o);
  ::testing::internal::GetCapturedStderr();
  fs::path d = dir / fmt::format("{:016x}", ex->stats().graph_hash);
  for (const char* f :
       {"00-input.txt", "01-after-dce.txt", "03-after-algebraic_simplification.txt",
        "11-after-dce_final.txt", "fusion.txt", "kernels.cpp", "memory_plan.txt", "summary.txt"})
    EXPECT_TRUE(fs::exists(d / f)) << f;
  std::ifstream k(d / "kernels.cpp");
  std::string src((std::istreambuf_iterator<char>(k)), std::istreambuf_iterator<char>());
  EXPECT_NE(src.find("extern \"C\" void fx_k0(int64_t lo, int64_t hi, void* const* buf)"),
            std::string::npos);
  EXPECT_NE(src.find("fast_sigmoid"), std::string::npos);
  std::ifstream in(d / "00-input.txt"), out(d / "11-after-dce_final.txt");
  std::string before((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string after((std::istreambuf_iterator<char>(out)), std::istreambuf_iterator<char>());
  EXPECT_NE(before.find("value=1 "), std::string::npos);  // the * 1.0 ...
  EXPECT_EQ(after.find("value=1 "), std::string::npos);   // ... is gone
  fs::remove_all(dir);
}

// Random graphs: 16 small random DAGs (elementwise ops with broadcasting, matmuls, column
// and full sums, reshapes) side by side in one graph, so fusion meets sibling groups,
// diamonds and paths that leave a group through a matmul and come back. One compile.
TEST(CompilerExec, RandomGraphsBitIdentical) {
  Graph g;
  Feeds feeds;
  std::vector<Var> outs;
  uint64_t state = 12345;
  auto next = [&](uint64_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return (state >> 33) % n;
  };
  for (int c = 0; c < 16; ++c) {
    std::vector<Var> pool;   // values of shape [8, 6] (the domain); others are operands
    std::vector<Var> small;  // [6], [8, 1], [] operands
    for (int k = 0; k < 2; ++k) {
      std::string name = fmt::format("c{}.x{}", c, k);
      pool.push_back(g.input(name, {8, 6}));
      feeds[name] = uniform({8, 6}, 1000 * c + k, DType::f32);
    }
    Shape shapes[3] = {{6}, {8, 1}, {}};
    for (int k = 0; k < 3; ++k) {
      std::string name = fmt::format("c{}.s{}", c, k);
      small.push_back(g.input(name, shapes[k]));
      feeds[name] = uniform(shapes[k], 1000 * c + 10 + k, DType::f32);
    }
    Var w = g.input(fmt::format("c{}.w", c), {6, 6});
    feeds[fmt::format("c{}.w", c)] = uniform({6, 6}, 1000 * c + 20, DType::f32, -0.5, 0.5);
    for (int step = 0; step < 14; ++step) {
      Var a = pool[next(pool.size())], b = pool[next(pool.size())];
      Var s = small[next(small.size())];
      Var v;
      switch (next(10)) {
        case 0:
          v = a + b;
          break;
        case 1:
          v = a * s;
          break;
        case 2:
          v = sigmoid(a) - b;
          break;
        case 3:
          v = matmul(a, w);
          break;
        case 4:
          v = where(gt(a, b), a, s);
          break;
        case 5:
          v = tanh(a) * 0.5 + s;
          break;
        case 6: {
          Var colsum = sum(a * b, {0}, true);  // [1, 6]: a column sum, broadcast back
          v = a - colsum;
          small.push_back(reshape(colsum, {6}));
          break;
        }
        case 7:
          v = exp(minimum(a, scalar_like(a, 3.0))) / (abs(b) + 1.0);
          break;
        case 8:
          small.push_back(sum(a));
          v = maximum(a, b);
          break;
        default:
          v = reshape(transpose(reshape(a, {6, 8})), {8, 6}) + b;
          break;
      }
      pool.push_back(v);
    }
    // Some values are outputs, the rest stay internal (fusion decides what reaches memory).
    outs.push_back(pool.back());
    outs.push_back(pool[pool.size() / 2]);
    outs.push_back(small.back());
  }
  std::vector<Tensor> want = Interpreter(g, outs).run(feeds);
  auto ex = compiler::compile(g, outs);
  ASSERT_TRUE(ex->stats().codegen_ok) << ex->stats().summary();
  for (int run = 0; run < 2; ++run) {
    std::vector<Tensor> got = ex->run(feeds);
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_TRUE(bit_equal(got[i], want[i])) << "output " << i << " run " << run;
  }
}

TEST(CompilerExec, EveryTargetThisCpuRunsGivesTheSameBits) {
  // Kernels built for AVX-512, AVX2 or plain x86-64 (SSE2) must all agree with the
  // interpreter's x86-64-v3/baseline kernels: no FMA contraction (AVX-512F carries FMA of
  // its own, so -mavx512f alone let g++ contract a*b+c), the same polynomials with the same
  // explicit FMA steps (vfmadd, or libm's fmaf on x86-64), the same summation order in row
  // and column sums. Targets this CPU lacks are skipped.
  fs::path cache = temp_dir("targets");
  Graph g;
  Var x = g.input("x", {37, 21});
  Var y = silu(x) * tanh(x) + exp(-x * x) / (log(abs(x) + 1.0) + 1.0) + erf(x * 1.5);
  std::vector<Var> outs = {y, sum(y * x, {0}), sum(sigmoid(x) * 3.0 + x, {1})};
  Feeds feeds = {{"x", uniform({37, 21}, 9, DType::f32)}};
  std::vector<Tensor> want = Interpreter(g, outs).run(feeds);
  int checked = 0;
  for (const char* target : {"avx512", "avx2", "x86-64"}) {
    with_env("FLUXION_CACHE_DIR", cache.string(), [&] {
      with_env("FLUXION_JIT_TARGET", target, [&] {
        auto ex = compiler::compile(g, outs);
        if (ex->stats().target != target) return;  // not on this CPU
        ++checked;
        ASSERT_TRUE(ex->stats().codegen_ok) << target;
        std::vector<Tensor> got = ex->run(feeds);
        for (size_t i = 0; i < got.size(); ++i)
          EXPECT_TRUE(bit_equal(got[i], want[i])) << target << " output " << i;
      });
    });
  }
  EXPECT_GE(checked, 1);  // x86-64 runs everywhere
  fs::remove_all(cache);
}

TEST(CompilerExec, ColumnSumsOfSquareDomainsReadColumnsAndRowsRight) {
  // R == C: a [6, 1] column and a [6] row have the same element count; the fused column
  // sum must still broadcast each along its own axis.
  Graph g;
  Var x = g.input("x", {6, 6}), col = g.input("col", {6, 1}), row = g.input("row", {6});
  Var y = exp(x) * col + row;
  std::vector<Var> outs = {sum(y, {0}), sum(y * row, {0}, true)};
  Feeds f = {{"x", uniform({6, 6}, 1, DType::f32)},
             {"col", uniform({6, 1}, 2, DType::f32)},
             {"row", uniform({6}, 3, DType::f32)}};
  auto ex = compiler::compile(g, outs);
  int with_sums = 0;
  for (const auto& k : ex->fusion().kernels) with_sums += !k.reduces.empty();
  EXPECT_EQ(with_sums, 1);
  std::vector<Tensor> want = Interpreter(g, outs).run(f), got = ex->run(f);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_TRUE(bit_equal(got[i], want[i])) << i;
}

// Column sums over batch and time: reduce_sum over axes 0 and 1 of [A, B, C] is split into
// a sum over B, which joins its producer's kernel (per-segment sums, split over A), then a
// small sum over A: the reference kernel's order (the B-sums rounded, then summed over A),
// with per-row ([A, B, 1]), per-column ([C]) and scalar operands. An operand the row loop
// cannot read ([A, 1, C]), or a single column, leaves the sum to the reference kernel; the
// bits agree either way.
TEST(CompilerExec, BatchAndTimeColumnSumsKeepTheReferenceBits) {
  auto check = [](Shape x_shape, Shape other_shape, int want_kernels_with_sums) {
    Graph g;
    Var x = g.input("x", x_shape), rstd = g.input("rstd", {x_shape[0], x_shape[1], 1});
    Var other = g.input("other", other_shape), gamma = g.input("gamma", {x_shape[2]});
    Var y = sigmoid(x) * rstd * other + gamma * 0.5;
    std::vector<Var> outs = {sum(y, {0, 1}), sum(y * x, {0, 1}, true)};
    Feeds f = {{"x", uniform(x_shape, 1, DType::f32)},
               {"rstd", uniform({x_shape[0], x_shape[1], 1}, 2, DType::f32)},
               {"other", uniform(other_shape, 3, DType::f32)},
               {"gamma", uniform({x_shape[2]}, 4, DType::f32)}};
    auto ex = compiler::compile(g, outs);
    int with_sums = 0;
    for (const auto& k : ex->fusion().kernels) with_sums += !k.reduces.empty();
    EXPECT_EQ(with_sums, want_kernels_with_sums) << shape_str(x_shape) << shape_str(other_shape);
    std::vector<Tensor> want = Interpreter(g, outs).run(f), got = ex->run(f);
    for (size_t i = 0; i < got.size(); ++i)
      EXPECT_TRUE(bit_equal(got[i], want[i])) << i << " " << shape_str(x_shape);
  };
  check({5, 300, 70}, {70}, 1);        // fused: per-column operand
  check({5, 300, 70}, {1, 1, 70}, 1);  // fused
  check({3, 7, 130}, {3, 7, 130}, 1);  // fused: a full-shape operand
  check({5, 300, 70}, {5, 1, 70}, 0);  // [A, 1, C]: not readable row by row
  check({5, 300, 1}, {1}, 0);          // one column: the reference sums rows differently
}

// Fused row sums add their f64 partial sums (4, or 16 from 64 values on) in the reference
// kernel's order (kernels_reduce.cpp) on values whose sum depends on that order (integers
// times 2^40 among values near 1: more than f64's 53 bits), for short rows, rows with a
// tail (17, 65, 2049), and rows longer than the kernel's 2,048-value scratch, f32 and f64.
TEST(CompilerExec, RowSumsKeepTheReferenceOrderOnWideRanges) {
  for (DType dt : {DType::f32, DType::f64})
    for (int64_t C : {5, 17, 63, 64, 65, 100, 2048, 2049, 5000}) {
      const int64_t R = 37;
      Tensor xv = uniform({R, C}, 60 + C, dt, -3.0, 3.0);
      std::vector<double> v = xv.to_vector();
      for (size_t i = 0; i < v.size(); i += 2) v[i] = std::ldexp(std::round(v[i]), 40);
      Graph g;
      Var x = g.input("x", {R, C}, dt), s = g.input("s", {}, dt);
      std::vector<Var> outs = {sum(x * s, {1}, true)};
      Feeds f = {{"x", Tensor::from(v, {R, C}, dt)}, {"s", Tensor::from({1.5}, {}, dt)}};
      auto ex = compiler::compile(g, outs);
      ASSERT_EQ(ex->fusion().kernels.size(), 1u);
      EXPECT_TRUE(ex->fusion().kernels[0].row_sums);
      std::vector<Tensor> want = Interpreter(g, outs).run(f), got = ex->run(f);
      EXPECT_TRUE(bit_equal(got[0], want[0])) << dtype_name(dt) << " rows of " << C;
    }
}
