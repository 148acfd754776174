// The data-parallel pieces that need no second process: the split training step (gradients,
// then the update) against the fused one, random draws of a rank's rows, row splitting and
// the consistency checks, all over the single-process communicator. Runs with several MPI
// ranks are in tests/mpi/.
#include <gtest/gtest.h>

#include <fstream>

#include "fluxion/api/fx.h"
#include "fluxion/api/row_shard.h"
#include "fluxion/core/philox.h"
#include "fluxion/dist/consistency.h"
#include "fluxion/dist/split_rows.h"
#include "fluxion/nn/layers.h"
#include "fluxion/optim/trainer.h"
#include "fluxion/runtime/executor.h"
#include "temp_dir_test.h"

using namespace fx;

namespace {

Tensor random_tensor(Shape s, uint64_t seed) {
  Tensor t(s, DType::f32);
  philox_normal(seed, 0, t.data<float>(), t.numel());
  return t;
}

// An MLP on y = f(x) whose loss also draws noise per row (as rectified flow's t and DDPM's
// eps do), trained fused or split (comm set: gradients, allreduce, update).
struct NoisyTrainer {
  nn::InitRng rng{3};
  nn::MLP model{3, {16}, 2, rng, "silu"};
  std::unique_ptr<optim::Trainer> tr;
  NoisyTrainer(dist::Communicator* comm, bool compiled, double clip = 0, double ema = 0,
               amp::LossScaling scaling = {}) {
    optim::TrainerOptions o;
    o.loss_scaling = scaling;
    o.compile = compiled;
    o.comm = comm;
    o.max_grad_norm = clip;
    o.ema_decay = ema;
    o.seed = 11;
    tr = std::make_unique<optim::Trainer>(
        model, optim::adam(),
        [this](Graph&, const std::unordered_map<std::string, Var>& b, Var key) {
          Var noise = random_normal(key, {8, 3});
          return mse_loss(model(b.at("x") + noise * 0.1), b.at("y"));
        },
        std::vector<optim::BatchInput>{{"x", {8, 3}}, {"y", {8, 2}}}, o);
  }
  double step(uint64_t s) {
    return tr->step({{"x", random_tensor({8, 3}, s)}, {"y", random_tensor({8, 2}, s + 100)}});
  }
  std::vector<float> weights() {
    std::vector<float> w;
    for (auto& [n, p] : model.named_parameters()) {
      auto v = p->value.to_f32_vector();
      w.insert(w.end(), v.begin(), v.end());
    }
    for (auto& [n, t] : tr->state()) {
      auto v = t.to_f32_vector();
      w.insert(w.end(), v.begin(), v.end());
    }
    return w;
  }
};

}  // namespace

// One rank, split: the same numbers as the fused step, bit for bit when interpreted (the
// same kernels in the same order; the mean over one rank multiplies by 1).
TEST(DistTrainer, SplitStepEqualsFusedStepInterpreted) {
  dist::LocalCommunicator local;
  for (double clip : {0.0, 0.5}) {
    NoisyTrainer fused(nullptr, false, clip, 0.9), split(&local, false, clip, 0.9);
    for (int s = 1; s <= 6; ++s) EXPECT_EQ(fused.step(s), split.step(s)) << "step " << s;
    EXPECT_EQ(fused.weights(), split.weights()) << "clip " << clip;
    EXPECT_EQ(fused.tr->last_grad_norm(), split.tr->last_grad_norm());
    EXPECT_EQ(split.tr->data_parallel_stats().steps, 6);
    EXPECT_EQ(split.tr->data_parallel_stats().floats_per_step, 3 * 16 + 16 + 16 * 2 + 2 + 2);
  }
}

// Loss scaling: the overflow count travels in the allreduce and a step that overflowed is
// skipped (weights and state kept, scale backed off) exactly as in the fused step.
TEST(DistTrainer, OverflowSkipsTheStepAsTheFusedStepDoes) {
  dist::LocalCommunicator local;
  // An infinite scale overflows every gradient: every step is skipped.
  amp::LossScaling inf{amp::LossScaling::Mode::dynamic, INFINITY, 2.0, 0.5, 2000};
  NoisyTrainer fused(nullptr, false, 0, 0, inf), split(&local, false, 0, 0, inf);
  auto first_param = [&] {
    return split.model.named_parameters().begin()->second->value.to_f32_vector();
  };
  std::vector<float> before = first_param();
  for (int s = 1; s <= 4; ++s) fused.step(s), split.step(s);
  EXPECT_TRUE(split.tr->last_step_skipped());
  EXPECT_EQ(first_param(), before);
  EXPECT_EQ(split.tr->loss_scaler().skipped_steps(), 4);
  EXPECT_EQ(fused.tr->loss_scaler().skipped_steps(), split.tr->loss_scaler().skipped_steps());
  EXPECT_EQ(fused.tr->loss_scaler().scale(), split.tr->loss_scaler().scale());
  EXPECT_EQ(fused.weights(), split.weights());
}

// Compiled, the split changes where kernels are fused, so the last bits may differ.
TEST(DistTrainer, SplitStepMatchesFusedStepCompiled) {
  dist::LocalCommunicator local;
  NoisyTrainer fused(nullptr, true), split(&local, true);
  for (int s = 1; s <= 6; ++s) EXPECT_NEAR(fused.step(s), split.step(s), 1e-5) << "step " << s;
  auto a = fused.weights(), b = split.weights();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5) << i;
}

TEST(DistTrainer, WrongBatchRowsNameTheInput) {
  dist::LocalCommunicator local;
  NoisyTrainer split(&local, false);
  try {
    split.tr->step({{"x", random_tensor({4, 3}, 1)}, {"y", random_tensor({8, 2}, 2)}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'x' has shape [4, 3], expected 8 rows"),
              std::string::npos)
        << e.what();
  }
}

// Rank r of n draws exactly rows [r*b, (r+1)*b) of the one-process draw; draws whose
// leading dimension is not the rank's rows are not sharded.
TEST(DistRowShard, RanksDrawTheirRowsOfTheGlobalDraw) {
  auto draw = [](Shape shape, std::optional<RowShard> shard) {
    Graph g;
    Var key = g.input("key", {2}, DType::i64);
    std::optional<ScopedRowShard> scope;
    if (shard) scope.emplace(g, *shard);
    Var u = random_normal(key, shape);
    scope.reset();
    auto e = runtime::make_executor(g, {u});
    return e.run({{"key", Tensor::from({5, 7}, {2}, DType::i64)}})[0].to_vector();
  };
  std::vector<double> all = draw({6, 3}, std::nullopt);
  std::vector<double> r1 = draw({2, 3}, RowShard{2, 2, 6});
  EXPECT_EQ(r1, std::vector<double>(all.begin() + 6, all.begin() + 12));
  std::vector<double> r2 = draw({2, 3}, RowShard{2, 4, 6});
  EXPECT_EQ(r2, std::vector<double>(all.begin() + 12, all.end()));
  EXPECT_EQ(draw({5}, RowShard{2, 2, 6}), draw({5}, std::nullopt));
}

TEST(DistSplitRows, SharesCoverNAndRankZeroKeepsTheSeed) {
  for (int size : {1, 2, 3, 8})
    for (int64_t n : {8, 9, 10, 101}) {
      int64_t sum = 0;
      for (int r = 0; r < size; ++r) sum += dist::rows_of_rank(n, r, size);
      EXPECT_EQ(sum, n);
      EXPECT_LE(dist::rows_of_rank(n, size - 1, size), dist::rows_of_rank(n, 0, size));
    }
  EXPECT_EQ(dist::seed_of_rank(42, 0), 42u);
  EXPECT_NE(dist::seed_of_rank(42, 1), dist::seed_of_rank(42, 2));
  dist::LocalCommunicator local;
  Tensor x = random_tensor({3, 2}, 9);
  EXPECT_EQ(dist::gather_rows(local, x).to_vector(), x.to_vector());
}

using DistConsistency = TempDirTest;

// The start-up identity names every data file by size and content hash, so ranks that read
// different files under the same path are told apart.
TEST_F(DistConsistency, IdentityHashesTheDataFiles) {
  std::ofstream(path("a.csv")) << "1,2\n3,4\n";
  nlohmann::json config{{"data", path("a.csv")}, {"lr", 0.001}, {"source", "gaussian"}};
  nlohmann::json id1 = dist::run_identity(config);
  ASSERT_TRUE(id1["files"].contains(path("a.csv"))) << id1.dump();
  EXPECT_EQ(id1["files"].size(), 1u);  // "gaussian" is a built-in set, not a file
  std::ofstream(path("a.csv")) << "1,2\n3,5\n";
  nlohmann::json id2 = dist::run_identity(config);
  EXPECT_NE(id1["files"], id2["files"]);
  dist::LocalCommunicator local;
  EXPECT_NO_THROW(dist::check_same_run(local, id1));
}

TEST(DistReplicaHash, SeesOneChangedBit) {
  Tensor a = random_tensor({4, 4}, 1), b = a.clone();
  EXPECT_EQ(dist::tensors_hash({&a}), dist::tensors_hash({&b}));
  b.data<float>()[7] = std::nextafter(b.data<float>()[7], 10.0f);
  EXPECT_NE(dist::tensors_hash({&a}), dist::tensors_hash({&b}));
  dist::LocalCommunicator local;
  EXPECT_NO_THROW(dist::check_replicas_agree(local, dist::tensors_hash({&a}), 3));
}
