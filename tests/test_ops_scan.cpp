// linear_scan: PyTorch fixtures (sequential complex128 loop), finite-difference gradient
// checks (first and second order), and the chunked time-parallel kernel against the
// sequential oracle, forward and gradients, with |a| near 1 and lengths that are not
// powers of two.
#include <cmath>

#include "fluxion/api/complex.h"
#include "fluxion/backend/cpu/kernels_scan.h"
#include "op_test_util.h"

// A namespace per file: the unity build (FLUXION_UNITY) compiles several test files as one.
namespace fx::optest::ops_scan {
namespace {

constexpr const char* kFile = "ops_scan.json";

const CaseTable& scan_table() {
  static const CaseTable t = {
      {"per_step_fwd", {[](const Args& a) { return linear_scan(a["a"], a["b"], 1); }}},
      {"per_step_rev", {[](const Args& a) { return linear_scan(a["a"], a["b"], 1, true); }}},
      {"shared_fwd", {[](const Args& a) { return linear_scan(a["a"], a["b"], 1); }}},
      {"shared_rev", {[](const Args& a) { return linear_scan(a["a"], a["b"], 1, true); }}},
      {"time_first_shared", {[](const Args& a) { return linear_scan(a["a"], a["b"], 0); }}},
  };
  return t;
}

FX_OP_FIXTURE_TESTS(OpsScan, kFile, scan_table)

// Complex coefficients with modulus in [lo, hi] and uniform phase, as [shape..., 2].
Tensor ring(Shape shape, double lo, double hi, uint64_t seed, DType d = DType::f64) {
  int64_t n = numel(shape);
  std::vector<double> r = uniform_values(n, seed, lo, hi),
                      th = uniform_values(n, seed + 1, 0, 6.283);
  std::vector<double> v(2 * n);
  for (int64_t i = 0; i < n; ++i)
    v[2 * i] = r[i] * std::cos(th[i]), v[2 * i + 1] = r[i] * std::sin(th[i]);
  shape.push_back(2);
  return make(v, shape, d);
}

// Restores the automatic kernel choice when a test ends, even on failure.
struct ChunkGuard {
  ~ChunkGuard() { cpu::set_scan_chunk(0); }
};

struct ScanCase {
  Shape b;
  int axis;
  bool per_step;
};

const ScanCase kCases[] = {{{3, 37, 5, 2}, 1, true},     {{3, 37, 5, 2}, 1, false},
                           {{101, 4, 2}, 0, false},      {{2, 3, 1, 2}, 1, true},
                           {{1, 257, 300, 2}, 1, false},  // > one 256-channel block
                           {{2, 6, 2, 3, 2}, 1, true}};

Tensor coefficients(const ScanCase& c, double lo, double hi, uint64_t seed, DType d) {
  Shape s = c.per_step ? Shape(c.b.begin(), c.b.end() - 1)
                       : Shape(c.b.begin() + c.axis + 1, c.b.end() - 1);
  return ring(s, lo, hi, seed, d);
}

TEST(OpsScanKernel, ChunkedEqualsSequential) {
  uint64_t seed = 100;
  for (DType d : {DType::f64, DType::f32}) {
    // f32: the state grows to ~1/sqrt(1-|a|^2) ~ 10, so absolute rounding differences of
    // 1e-5..1e-4 between the two summation orders are expected on small entries.
    Tol tol = d == DType::f64 ? Tol{1e-11, 1e-12} : Tol{2e-4, 2e-4};
    for (const ScanCase& c : kCases) {
      for (bool rev : {false, true}) {
        // |a| near 1: the state keeps almost everything, so carries matter over the whole length.
        Tensor a = coefficients(c, 0.99, 0.9999, seed++, d), b = random_tensor(c.b, seed++, d);
        Tensor want = cpu::linear_scan_sequential(a, b, c.axis, rev);
        for (int64_t chunk : {1, 3, 7, 16, 1000}) {
          SCOPED_TRACE(shape_str(c.b) + (rev ? " reverse" : "") + " chunk " +
                       std::to_string(chunk) + " " + std::string(dtype_name(d)));
          EXPECT_TRUE(all_close(cpu::linear_scan_chunked(a, b, c.axis, rev, chunk), want, tol));
        }
      }
    }
  }
}

TEST(OpsScanKernel, SequentialMatchesDefinition) {
  // h_t = a_t h_{t-1} + b_t written out for one channel, so the oracle itself is checked.
  Tensor a = make({0.5, 0.5, 0.0, 1.0, 2.0, 0.0}, {3, 2}), b = make({1, 0, 0, 1, 1, 1}, {3, 2});
  Tensor h = cpu::linear_scan_sequential(a, b, 0, false);
  // a = (0.5+0.5i, i, 2), b = (1, i, 1+i): h0 = 1; h1 = i*1 + i = 2i; h2 = 2*2i + 1+i = 1+5i
  EXPECT_TRUE(all_close(h, make({1, 0, 0, 2, 1, 5}, {3, 2}), kExact));
  Tensor r = cpu::linear_scan_sequential(a, b, 0, true);
  // h2 = 1+i; h1 = i(1+i) + i = -1+2i; h0 = (0.5+0.5i)(-1+2i) + 1 = -0.5+0.5i
  EXPECT_TRUE(all_close(r, make({-0.5, 0.5, -1, 2, 1, 1}, {3, 2}), kExact));
}

// Gradients (a and b, and a second derivative) through the op, computed with the kernel
// pinned to the sequential scan and then to the chunked one.
TEST(OpsScanKernel, ChunkedGradientsEqualSequential) {
  ChunkGuard guard;
  uint64_t seed = 500;
  for (const ScanCase& c : kCases) {
    for (bool rev : {false, true}) {
      SCOPED_TRACE(shape_str(c.b) + (rev ? " reverse" : ""));
      Tensor a = coefficients(c, 0.99, 0.9999, seed++, DType::f64);
      Tensor b = random_tensor(c.b, seed++);
      Graph g;
      Var av = g.input("a", a.shape(), DType::f64), bv = g.input("b", b.shape(), DType::f64);
      Var h = linear_scan(av, bv, c.axis, rev);
      Var loss = sum(h * g.constant(random_tensor(c.b, seed++)));
      std::vector<Var> gr = grad(loss, {av, bv});
      // second order: d/da of sum(dL/db * c2)
      Var gg = grad(sum(gr[1] * g.constant(random_tensor(c.b, seed++))), {av})[0];
      Feeds feeds{{"a", a}, {"b", b}};
      cpu::set_scan_chunk(-1);
      std::vector<Tensor> want = evaluate({h, gr[0], gr[1], gg}, feeds);
      for (int64_t chunk : {1, 5, 32}) {
        cpu::set_scan_chunk(chunk);
        std::vector<Tensor> got = evaluate({h, gr[0], gr[1], gg}, feeds);
        for (size_t i = 0; i < got.size(); ++i)
          EXPECT_TRUE(all_close(got[i], want[i], Tol{1e-10, 1e-11}))
              << "output " << i << " chunk " << chunk;
      }
    }
  }
}

TEST(OpsScanGrad, FiniteDifferences) {
  uint64_t seed = 900;
  const ScanCase small[] = {
      {{2, 5, 3, 2}, 1, true}, {{2, 5, 3, 2}, 1, false}, {{6, 2, 2}, 0, false}};
  for (const ScanCase& c : small) {
    for (bool rev : {false, true}) {
      SCOPED_TRACE(shape_str(c.b) + (rev ? " reverse" : ""));
      Builder f = [c, rev](const Args& x) { return linear_scan(x["a"], x["b"], c.axis, rev); };
      std::vector<std::pair<std::string, Tensor>> in = {
          {"a", coefficients(c, 0.5, 0.999, seed++, DType::f64)},
          {"b", random_tensor(c.b, seed++)}};
      EXPECT_GT(check_grad_fd(f, in, seed++), 0);
      SCOPED_TRACE("second order");
      // One seed per statement: two seed++ in one call's arguments are evaluated in an
      // unspecified order.
      for (const char* wrt : {"a", "b"}) {
        const uint64_t grad_seed = seed++, fd_seed = seed++;
        EXPECT_GT(check_grad_fd(first_grad(f, wrt, grad_seed), in, fd_seed), 0) << wrt;
      }
    }
  }
}

TEST(OpsScanGrad, ComplexHelpers) {
  Builder f = [](const Args& x) {
    return complex_mul(conj(x["x"]), x["y"]) + sum_mul_conj_to(x["x"], x["y"], {2});
  };
  EXPECT_GT(check_grad_fd(f, {{"x", random_tensor({3, 2}, 1)}, {"y", random_tensor({3, 2}, 2)}}, 3),
            0);
}

// scan_coefficient_grad against its definition written out with loops: da = sum over the
// rows (o, t) not in a's shape of d_t * conj(h_prev(t)), h_prev(t) = h_{t-1} (h_{t+1}
// when reverse), zero before the first step.
Tensor coefficient_grad_by_definition(const Tensor& d, const Tensor& h, const Shape& a_shape,
                                      int axis, bool rev) {
  const Shape& s = d.shape();
  int64_t outer = 1, T = s[axis], inner = 1;
  for (int i = 0; i < axis; ++i) outer *= s[i];
  for (int i = axis + 1; i + 1 < (int)s.size(); ++i) inner *= s[i];
  bool per_step = a_shape == s;
  std::vector<double> dv = d.to_vector(), hv = h.to_vector(), out((size_t)numel(a_shape), 0.0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t t = 0; t < T; ++t) {
      int64_t tp = rev ? t + 1 : t - 1;
      if (tp < 0 || tp >= T) continue;
      for (int64_t i = 0; i < inner; ++i) {
        int64_t k = (o * T + t) * inner + i, kp = (o * T + tp) * inner + i;
        double dr = dv[2 * k], di = dv[2 * k + 1], hr = hv[2 * kp], hi = hv[2 * kp + 1];
        int64_t at = per_step ? k : i;
        out[2 * at] += dr * hr + di * hi;
        out[2 * at + 1] += di * hr - dr * hi;
      }
    }
  return make(out, a_shape, d.dtype());
}

TEST(OpsScanCoefficientGrad, MatchesDefinition) {
  uint64_t seed = 1300;
  for (DType dt : {DType::f64, DType::f32}) {
    Tol tol = dt == DType::f64 ? Tol{1e-12, 1e-12} : Tol{1e-5, 1e-5};
    for (const ScanCase& c : kCases) {
      for (bool rev : {false, true}) {
        SCOPED_TRACE(shape_str(c.b) + (rev ? " reverse " : " ") + std::string(dtype_name(dt)));
        Tensor d = random_tensor(c.b, seed++, dt), h = random_tensor(c.b, seed++, dt);
        Shape a_shape = coefficients(c, 0.5, 0.9, seed++, dt).shape();
        Graph g;
        Var dv = g.input("d", c.b, dt), hv = g.input("h", c.b, dt);
        Tensor got =
            evaluate(scan_coefficient_grad(dv, hv, a_shape, c.axis, rev), {{"d", d}, {"h", h}});
        EXPECT_EQ(got.shape(), a_shape);
        EXPECT_TRUE(
            all_close(got, coefficient_grad_by_definition(d, h, a_shape, c.axis, rev), tol));
      }
    }
  }
}

// Its own VJP (grad of grad of linear_scan goes through it) against finite differences.
TEST(OpsScanCoefficientGrad, GradientsMatchFiniteDifferences) {
  uint64_t seed = 1500;
  const ScanCase small[] = {
      {{2, 5, 3, 2}, 1, true}, {{2, 5, 3, 2}, 1, false}, {{7, 2, 2}, 0, false}};
  for (const ScanCase& c : small) {
    for (bool rev : {false, true}) {
      SCOPED_TRACE(shape_str(c.b) + (rev ? " reverse" : ""));
      Shape a_shape = coefficients(c, 0.5, 0.9, seed++, DType::f64).shape();
      Builder f = [c, rev, a_shape](const Args& x) {
        return scan_coefficient_grad(x["d"], x["h"], a_shape, c.axis, rev);
      };
      EXPECT_GT(
          check_grad_fd(f, {{"d", random_tensor(c.b, seed++)}, {"h", random_tensor(c.b, seed++)}},
                        seed++),
          0);
    }
  }
}

TEST(OpsScanErrors, ClearMessages) {
  Graph g;
  Var b = g.input("b", {2, 5, 3, 2});
  EXPECT_THAT(error_of([&] {
                linear_scan(g.input("a1", {3, 2}), g.input("b1", {2, 5, 3}), 1);
              }),
              HasSubstr("trailing"));
  EXPECT_THAT(error_of([&] {
                linear_scan(g.input("a2", {4, 2}), b, 1);
              }),
              HasSubstr("must equal b"));
  EXPECT_THAT(error_of([&] {
                linear_scan(g.input("a3", {3, 2}), b, 3);
              }),
              HasSubstr("out of range"));
  EXPECT_THAT(error_of([&] {
                linear_scan(g.input("a4", {3, 2}, DType::f64), b, 1);
              }),
              HasSubstr("dtypes differ"));
  EXPECT_THAT(error_of([&] {
                scan_coefficient_grad(b, b, {4, 2}, 1, false);
              }),
              HasSubstr("must equal d"));
  EXPECT_THAT(error_of([&] {
                scan_coefficient_grad(b, g.input("h5", {2, 5, 3, 2}, DType::f64), {3, 2}, 1, false);
              }),
              HasSubstr("one shape and dtype"));
}

}  // namespace
}  // namespace fx::optest::ops_scan
