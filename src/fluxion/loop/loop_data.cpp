#include "fluxion/loop/loop_data.h"

#include <algorithm>
#include <cstring>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/samples_file.h"

namespace fx::loop {

int64_t SetPlan::size() const {
  int64_t s = real;
  for (const auto& [g, c] : synthetic) s += c;
  return s;
}

SetPlan plan_training_set(Family f, int64_t t, int64_t n, int64_t n_real, int64_t history) {
  FX_CHECK(t >= 1, "plan_training_set: generation must be >= 1, got {}", t);
  FX_CHECK(n_real >= 0 && n_real <= n, "plan_training_set: {} real points of {}", n_real, n);
  SetPlan p;
  if (t == 1) {
    p.real = n;
    return p;
  }
  if (f != Family::fully_synthetic) {
    p.real = n_real;
    p.real_draw = f == Family::fresh_data ? t : 1;
  }
  const int64_t first = history == 0 ? 1 : std::max<int64_t>(1, t - history);
  const int64_t gens = t - first, syn = n - p.real;
  for (int64_t s = first; s < t; ++s) {
    // The remainder goes to the most recent generations.
    int64_t extra = (t - s) <= syn % gens ? 1 : 0;
    int64_t c = syn / gens + extra;
    if (c > 0) p.synthetic.push_back({s, c});
  }
  return p;
}

Tensor concat_rows(const std::vector<Tensor>& parts) {
  int64_t rows = 0;
  Shape row;  // the shape of one row: [D] for points, [C, H, W] for images
  for (const Tensor& t : parts) {
    FX_CHECK(t.rank() >= 2, "concat_rows: rows must be [N, ...], got {}", shape_str(t.shape()));
    Shape r(t.shape().begin() + 1, t.shape().end());
    FX_CHECK(row.empty() || r == row, "concat_rows: rows of {} after {}", shape_str(r),
             shape_str(row));
    row = r;
    rows += t.dim(0);
  }
  FX_CHECK(!row.empty(), "concat_rows: no points");
  Shape s = row;
  s.insert(s.begin(), rows);
  Tensor out(s, DType::f32);
  float* o = out.data<float>();
  for (const Tensor& t : parts) {
    Tensor f = t.dtype() == DType::f32 ? t : t.to(DType::f32);
    std::memcpy(o, f.data<float>(), f.nbytes());
    o += f.numel();
  }
  return out;
}

Tensor assemble_training_set(const SetPlan& p, const RealFn& real, const SyntheticFn& synthetic) {
  std::vector<Tensor> parts;
  if (p.real > 0) parts.push_back(real(p.real_draw, p.real));
  for (const auto& [g, c] : p.synthetic) {
    Tensor s = synthetic(g, c);
    FX_CHECK(s.rank() >= 2 && s.dim(0) == c, "generation {} gave {} samples, {} were asked for", g,
             shape_str(s.shape()), c);
    parts.push_back(std::move(s));
  }
  return concat_rows(parts);
}

namespace {
uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
}  // namespace

uint64_t draw_seed(uint64_t seed, Draw what, int64_t a, int64_t b) {
  uint64_t h = splitmix64(seed);
  h = splitmix64(h ^ uint64_t(what));
  h = splitmix64(h ^ uint64_t(a));
  return splitmix64(h ^ (uint64_t(b) * 0x632BE59BD9B4E019ull));
}

void write_points_npy(const std::string& path, const Tensor& points) {
  FX_CHECK(points.rank() >= 2, "write_points_npy: {}: rows must be [N, ...], got {}", path,
           shape_str(points.shape()));
  io::write_file_atomic(path, io::npy_bytes(points));
}

}  // namespace fx::loop
