// Moving rectified flow, DDPM and the LRU/RNN onto the shared training spine changed no
// arithmetic: the same commands give the same weights, bit for bit, as the drivers before the
// move (fixtures/parity/README.md says how they were made).
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "cli_test_util.h"
#include "fluxion/io/png.h"
#include "fluxion/io/safetensors.h"
#include "fluxion/train/checkpoint.h"
#include "temp_dir_test.h"

namespace fs = std::filesystem;

namespace {

void expect_weights_match(const std::string& fixture, const std::string& run) {
  auto before = fx::io::load_safetensors(std::string(FLUXION_FIXTURE_DIR) + "/parity/" + fixture);
  auto now = fx::train::load_checkpoint(run).weights;
  EXPECT_EQ(before.tensors.size(), now.size()) << fixture;
  for (auto& [name, t] : before.tensors) {
    ASSERT_TRUE(now.count(name)) << fixture << ": " << name;
    EXPECT_EQ(t.shape(), now.at(name).shape()) << name;
    EXPECT_EQ(t.to_f32_vector(), now.at(name).to_f32_vector()) << fixture << ": " << name;
  }
}

class MethodsParity : public TempDirTest {};

}  // namespace

TEST_F(MethodsParity, RectifiedFlowTrainsTheSameWeights) {
  auto r =
      run_cli("train --data moons --steps 30 --batch 64 --hidden 16 --layers 2 --seed 3 --out " +
              path("rf"));
  ASSERT_EQ(r.code, 0) << r.output;
  expect_weights_match("rf.safetensors", path("rf"));
}

TEST_F(MethodsParity, DdpmTrainsTheSameWeights) {
  fs::create_directories(path("pngs"));
  for (int k = 0; k < 5; ++k) {
    fx::io::Image img(12, 12, 3);
    for (int y = 0; y < 12; ++y)
      for (int x = 0; x < 12; ++x)
        for (int c = 0; c < 3; ++c) img.at(x, y)[c] = (uint8_t)((x * 20 + y * k * 7 + c) % 256);
    fx::io::write_png(path("pngs/img" + std::to_string(k) + ".png"), img);
  }
  // The output convolution (8 -> 3 channels) runs fluxion's direct loops since 2026-12-07,
  // which round differently from oneDNN's: this compares the spine with oneDNN's arithmetic.
  setenv("FLUXION_CONV_DIRECT_LOOPS", "0", 1);
  auto r = run_cli("train --method ddpm --data " + path("pngs") +
                   " --image-size 8 --base 8 --mult 1,2 --attn 4 --timesteps 20 --steps 3 "
                   "--batch 4 --ema 0.9 --seed 2 --grid 0 --out " +
                   path("ddpm"));
  unsetenv("FLUXION_CONV_DIRECT_LOOPS");
  ASSERT_EQ(r.code, 0) << r.output;
  expect_weights_match("ddpm.safetensors", path("ddpm"));
}

TEST_F(MethodsParity, LruAndRnnTrainTheSameWeights) {
  auto r = run_cli(
      "train --method lru --task recall --length 12 --steps 12 --batch 8 --layers 1 --d-model 8 "
      "--d-state 4 --train-size 64 --test-size 16 --eval-every 6 --seed 1 --out " +
      path("lru"));
  ASSERT_EQ(r.code, 0) << r.output;
  expect_weights_match("lru.safetensors", path("lru"));
  r = run_cli(
      "train --method rnn --task recall --length 12 --steps 12 --batch 8 --rnn-hidden 8 "
      "--train-size 64 --test-size 16 --eval-every 6 --seed 1 --out " +
      path("rnn"));
  ASSERT_EQ(r.code, 0) << r.output;
  expect_weights_match("rnn.safetensors", path("rnn"));
}

// The LRU's batches come from one sequential stream; a resumed run replays it.
TEST_F(MethodsParity, AStoppedLruRunResumesToTheSameWeights) {
  const std::string args =
      "train --method lru --task recall --length 12 --steps 12 --batch 8 --layers 1 --d-model 8 "
      "--d-state 4 --train-size 64 --test-size 16 --eval-every 6 --seed 1 --checkpoint-every 5 "
      "--out " +
      path("lru");
  ASSERT_EQ(run_cli(args + " --stop-after 7").code, 0);
  auto r = run_cli(args + " --resume");
  ASSERT_EQ(r.code, 0) << r.output;
  expect_weights_match("lru.safetensors", path("lru"));
}
