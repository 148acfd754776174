#include "fluxion/loop/loop_data.h"

#include <algorithm>
#include <cstring>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"

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
  int64_t rows = 0, d = -1;
  for (const Tensor& t : parts) {
    FX_CHECK(t.rank() == 2, "concat_rows: points must be [N, D], got {}", shape_str(t.shape()));
    FX_CHECK(d < 0 || t.dim(1) == d, "concat_rows: {} columns after {}", t.dim(1), d);
    d = t.dim(1);
    rows += t.dim(0);
  }
  FX_CHECK(d > 0, "concat_rows: no points");
  Tensor out({rows, d}, DType::f32);
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
    FX_CHECK(s.rank() == 2 && s.dim(0) == c, "generation {} gave {} samples, {} were asked for", g,
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
  FX_CHECK(points.rank() == 2, "write_points_npy: {}: points must be [N, D], got {}", path,
           shape_str(points.shape()));
  Tensor f = points.dtype() == DType::f32 ? points : points.to(DType::f32);
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                       std::to_string(f.dim(0)) + ", " + std::to_string(f.dim(1)) + "), }";
  // Magic (6) + version (2) + length (2) + header + '\n' is padded to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header.push_back('\n');
  std::string bytes = "\x93NUMPY";
  bytes.push_back('\x01');
  bytes.push_back('\x00');
  bytes.push_back(char(header.size() & 0xff));
  bytes.push_back(char(header.size() >> 8));
  bytes += header;
  bytes.append(static_cast<const char*>(f.raw()), f.nbytes());
  io::write_file_atomic(path, bytes);
}

}  // namespace fx::loop
