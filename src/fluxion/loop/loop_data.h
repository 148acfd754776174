// Each generation's training set: how many real points (and from which real draw), and how
// many synthetic points from which earlier generations, for the three loop families; the
// seeds of every random draw of a loop; and the .npy file a method reads its data from.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "fluxion/core/tensor.h"
#include "fluxion/loop/loop_config.h"

namespace fx::loop {

struct SetPlan {
  int64_t real = 0;
  int64_t real_draw = 1;  // which real draw: 1 is generation 1's (the fixed set), t a fresh one
  std::vector<std::pair<int64_t, int64_t>> synthetic;  // (generation s < t, count), s ascending
  int64_t size() const;
};

// Generation 1 trains on n real points (draw 1) in every family. From t = 2 on:
//   fully-synthetic         n synthetic
//   synthetic-augmentation  n_real points of draw 1 (a prefix of generation 1's set) + rest
//   fresh-data              n_real points of draw t + rest
// The synthetic points come from generations max(1, t − history) .. t − 1 (history 0: all),
// split evenly, the remainder going to the most recent ones.
SetPlan plan_training_set(Family f, int64_t t, int64_t n, int64_t n_real, int64_t history);

// real(draw, count): real points; synthetic(s, count): samples of generation s's model.
using RealFn = std::function<Tensor(int64_t draw, int64_t count)>;
using SyntheticFn = std::function<Tensor(int64_t generation, int64_t count)>;
// The rows of the real points, then each generation's samples in plan order, as f32 [N, ...].
Tensor assemble_training_set(const SetPlan& p, const RealFn& real, const SyntheticFn& synthetic);

// Independent seeds for every draw of a loop: splitmix64 of (seed, what, a, b).
enum class Draw : uint64_t { real = 1, heldout = 2, synthetic = 3, fit = 4, eval = 5, floor = 6 };
uint64_t draw_seed(uint64_t seed, Draw what, int64_t a = 0, int64_t b = 0);

// Rows of tensors with the same row shape ([D] points or [C, H, W] images), as one f32
// [sum N, ...].
Tensor concat_rows(const std::vector<Tensor>& parts);

// A NumPy .npy (v1.0, '<f4', C order) of f32 [N, D] points or [N, C, H, W] images, written
// atomically.
void write_points_npy(const std::string& path, const Tensor& points);

}  // namespace fx::loop
