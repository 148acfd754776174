// Shared helpers for the op test suite (tests/test_ops_*.cpp):
//  * fixtures recorded from PyTorch by tests/fixtures/make_op_fixtures.py, read as JSON;
//    each case is rebuilt in C++ by a Builder found by the case's name, run in f64 (tight
//    tolerance) and in f32 (loose), and its output and gradients compared;
//  * check_grad_fd: fx::grad of L = sum(f(x) * c) against central finite differences in f64;
//  * all_close with NaN/inf handling and a readable failure message.
#pragma once
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "fluxion/api/fx.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/compiler/compiler.h"
#include "fluxion/core/error.h"
#include "fluxion/exec/interpreter.h"

namespace fx::optest {

using json = nlohmann::json;
using ::testing::HasSubstr;

// |got - want| <= atol + rtol * |want| elementwise; NaN matches NaN, inf matches same inf.
struct Tol {
  double rtol = 0.0;
  double atol = 0.0;
};

// Tolerances of the suite, in one place so the report and the code agree.
inline constexpr Tol kF64Tol{1e-10, 1e-12};  // f64 run vs PyTorch float64
inline constexpr Tol kF32Tol{1e-5, 1e-6};    // f32 run vs the same float64 fixture
inline constexpr Tol kFdTol{1e-5, 1e-6};     // analytic vs central differences (f64)
inline constexpr double kFdEps = 1e-6;       // central difference step
inline constexpr Tol kHalfTol{1e-2, 1e-3};   // bf16/f16 vs f32 rounded to bf16/f16
inline constexpr Tol kExact{0.0, 0.0};

// ---- tensors ----

inline Tensor make(const std::vector<double>& v, Shape s, DType d = DType::f64) {
  return Tensor::from(v, std::move(s), d);
}

// Deterministic uniform values in [lo, hi).
inline std::vector<double> uniform_values(int64_t n, uint64_t seed, double lo = -1.0,
                                          double hi = 1.0) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<double> v(n);
  for (double& x : v) x = u(rng);
  return v;
}

inline Tensor random_tensor(const Shape& s, uint64_t seed, DType d = DType::f64, double lo = -1.0,
                            double hi = 1.0) {
  return make(uniform_values(numel(s), seed, lo, hi), s, d);
}

inline bool close_value(double got, double want, Tol tol) {
  if (std::isnan(want)) return std::isnan(got);
  if (std::isinf(want)) return got == want;
  if (!std::isfinite(got)) return false;
  return std::fabs(got - want) <= tol.atol + tol.rtol * std::fabs(want);
}

inline ::testing::AssertionResult all_close(const std::vector<double>& got,
                                            const std::vector<double>& want, Tol tol) {
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << "size " << got.size() << " vs expected " << want.size();
  int bad = 0;
  double worst = 0.0;
  std::ostringstream os;
  os.precision(17);
  for (size_t i = 0; i < got.size(); ++i) {
    if (close_value(got[i], want[i], tol)) continue;
    double err = std::fabs(got[i] - want[i]) / (tol.atol + tol.rtol * std::fabs(want[i]));
    worst = std::max(worst, std::isnan(err) ? std::numeric_limits<double>::infinity() : err);
    if (bad++ < 6) os << "\n  [" << i << "] got " << got[i] << ", want " << want[i];
  }
  if (bad == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << bad << " of " << got.size() << " elements outside rtol " << tol.rtol << " atol "
         << tol.atol << " (worst " << worst << "x the tolerance):" << os.str();
}

inline ::testing::AssertionResult all_close(const Tensor& got, const Tensor& want, Tol tol) {
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure()
           << "shape " << shape_str(got.shape()) << " vs expected " << shape_str(want.shape());
  return all_close(got.to_vector(), want.to_vector(), tol);
}

// Evaluates fn with the message of the fx::Error it throws ("" if it does not throw).
template <typename F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// FLUXION_TEST_EXECUTOR=compiled runs the fixture cases through the compiler (passes,
// fusion, generated kernels) instead of the interpreter, against the same PyTorch values
// and tolerances: `FLUXION_TEST_EXECUTOR=compiled build/tests/fluxion_tests
// --gtest_filter='*Torch*'`. CTest runs them so as the `compiled/...` entries
// (tests/CMakeLists.txt); every case compiles its own kernels, cached on disk.
inline std::vector<Tensor> run_outputs(const std::vector<Var>& outs, const Feeds& feeds) {
  static const bool compiled = [] {
    const char* e = std::getenv("FLUXION_TEST_EXECUTOR");
    return e && std::string(e) == "compiled";
  }();
  if (compiled) return compiler::compile(*outs[0].graph, outs)->run(feeds);
  return evaluate(outs, feeds);
}

// ---- builders: the C++ side of a fixture case ----

// Named graph inputs of one case, and the floating dtype of the run (f64 or f32).
struct Args {
  Graph* g = nullptr;
  DType ft = DType::f64;
  std::map<std::string, Var> vars;
  Var operator[](const std::string& name) const {
    auto it = vars.find(name);
    if (it == vars.end()) throw Error("test: case has no input named '" + name + "'");
    return it->second;
  }
};
using Builder = std::function<Var(const Args&)>;

struct CaseDef {
  Builder build;
  // Finite differences in f64 are meaningless for a few cases (e.g. a cast through f32).
  bool finite_differences = true;
};
using CaseTable = std::map<std::string, CaseDef>;

// ---- fixtures ----

inline double json_value(const json& v) {
  if (v.is_string()) {
    std::string s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    throw Error("fixture: bad number '" + s + "'");
  }
  return v.get<double>();
}

inline std::vector<double> json_values(const json& data) {
  std::vector<double> v;
  v.reserve(data.size());
  for (const json& x : data) v.push_back(json_value(x));
  return v;
}

// A fixture tensor; floating tensors (recorded in f64) are converted to the run's dtype.
inline DType json_dtype(const json& t, DType ft) {
  DType d = dtype_from_name(t.at("dtype").get<std::string>());
  return is_float(d) ? ft : d;
}
inline Tensor json_tensor(const json& t, DType ft) {
  return make(json_values(t.at("data")), t.at("shape").get<Shape>(), json_dtype(t, ft));
}

inline const json& load_fixture(const std::string& file) {
  static std::map<std::string, json> cache;
  auto it = cache.find(file);
  if (it != cache.end()) return it->second;
  std::string path = std::string(FLUXION_FIXTURE_DIR) + "/" + file;
  std::ifstream in(path);
  if (!in) throw Error("cannot open fixture " + path + " (run tests/fixtures/make_op_fixtures.py)");
  return cache[file] = json::parse(in);
}

inline const json& fixture_case(const std::string& file, const std::string& name) {
  for (const json& c : load_fixture(file).at("cases"))
    if (c.at("name") == name) return c;
  throw Error("fixture " + file + " has no case '" + name + "'");
}

// Feeds a case's inputs as named graph inputs.
inline Args make_args(Graph& g, const json& c, DType ft, Feeds& feeds) {
  Args a{&g, ft, {}};
  for (const json& in : c.at("inputs")) {
    std::string name = in.at("name");
    Tensor t = json_tensor(in, ft);
    a.vars[name] = g.input(name, t.shape(), t.dtype());
    feeds[name] = t;
  }
  return a;
}

// Runs one fixture case in dtype ft and compares output and gradients with PyTorch's.
inline void run_fixture_case(const std::string& file, const std::string& name, const CaseDef& def,
                             DType ft, Tol tol) {
  const json& c = fixture_case(file, name);
  Graph g;
  Feeds feeds;
  Args a = make_args(g, c, ft, feeds);
  Var out = def.build(a);
  std::vector<Var> outs{out};
  std::vector<std::string> grad_names;
  if (c.contains("grads")) {
    std::vector<Var> wrt;
    for (const auto& [k, v] : c.at("grads").items()) {
      grad_names.push_back(k);
      wrt.push_back(a[k]);
    }
    Tensor cot = json_tensor(c.at("cotangent"), ft);
    Var cv = g.input("__cotangent", cot.shape(), cot.dtype());
    feeds["__cotangent"] = cot;
    for (Var gv : grad(sum(out * cv), wrt)) outs.push_back(gv);
  }
  std::vector<Tensor> res = run_outputs(outs, feeds);

  const json& want = c.at("output");
  DType want_dtype = json_dtype(want, ft);
  EXPECT_EQ(dtype_name(res[0].dtype()), dtype_name(want_dtype)) << "output dtype";
  EXPECT_EQ(shape_str(res[0].shape()), shape_str(want.at("shape").get<Shape>())) << "output shape";
  EXPECT_TRUE(all_close(res[0].to_vector(), json_values(want.at("data")),
                        is_float(want_dtype) ? tol : kExact))
      << "output of " << name;
  for (size_t i = 0; i < grad_names.size(); ++i) {
    const std::string& k = grad_names[i];
    EXPECT_EQ(res[i + 1].shape(), a[k].shape()) << "gradient shape for " << k;
    EXPECT_TRUE(all_close(res[i + 1].to_vector(), json_values(c.at("grads").at(k)), tol))
        << "d/d" << k << " of sum(" << name << " * cotangent)";
  }
}

// ---- finite differences ----

// Checks fx::grad of L = sum(f(inputs) * c), c a fixed random cotangent, against central
// differences (L(x + eps e_i) - L(x - eps e_i)) / 2 eps for every element of every floating
// input. Inputs must be f64. Returns the number of derivatives compared.
inline int check_grad_fd(const Builder& f,
                         const std::vector<std::pair<std::string, Tensor>>& inputs, uint64_t seed,
                         Tol tol = kFdTol, double eps = kFdEps) {
  Graph g;
  Args a{&g, DType::f64, {}};
  Feeds feeds;
  std::vector<Var> wrt;
  std::vector<std::string> names;
  for (const auto& [name, t] : inputs) {
    a.vars[name] = g.input(name, t.shape(), t.dtype());
    feeds[name] = t;
    if (is_float(t.dtype())) {
      EXPECT_EQ(t.dtype(), DType::f64) << "finite differences need f64 inputs";
      wrt.push_back(a.vars[name]);
      names.push_back(name);
    }
  }
  Var y = f(a);
  if (!is_float(y.dtype()) || wrt.empty()) return 0;
  Var c = g.constant(random_tensor(y.shape(), seed, y.dtype()));
  Var loss = sum(y * c);
  std::vector<Var> grads = grad(loss, wrt);
  std::vector<Tensor> analytic = Interpreter(g, grads).run(feeds);
  Interpreter value(g, {loss});
  auto eval = [&](const Feeds& fd) { return value.run(fd)[0].item(); };

  int compared = 0;
  for (size_t k = 0; k < wrt.size(); ++k) {
    const Tensor& x0 = feeds.at(names[k]);
    std::vector<double> want(x0.numel()), got = analytic[k].to_vector();
    for (int64_t i = 0; i < x0.numel(); ++i) {
      Feeds fd = feeds;
      Tensor xp = x0.clone(), xm = x0.clone();
      xp.data<double>()[i] += eps;
      xm.data<double>()[i] -= eps;
      fd[names[k]] = xp;
      double lp = eval(fd);
      fd[names[k]] = xm;
      double lm = eval(fd);
      want[i] = (lp - lm) / (2 * eps);
      ++compared;
    }
    EXPECT_TRUE(all_close(got, want, tol))
        << "analytic (got) vs central differences (want) for input " << names[k];
  }
  return compared;
}

// The first gradient as a function: x -> d/d(wrt) sum(f(x) * c1). Checking it with
// check_grad_fd checks grad-of-grad against differences of the first gradient.
inline Builder first_grad(Builder f, std::string wrt, uint64_t seed) {
  return [f, wrt, seed](const Args& a) {
    Var y = f(a);
    Var c = a.g->constant(random_tensor(y.shape(), seed, y.dtype()));
    return grad(sum(y * c), {a[wrt]})[0];
  };
}

// ---- parameterised fixture tests ----

struct FixtureParam {
  std::string name;
  DType ft;
};

inline void PrintTo(const FixtureParam& p, std::ostream* os) {
  *os << p.name << " in " << dtype_name(p.ft);
}

inline std::vector<FixtureParam> fixture_params(const CaseTable& t, std::vector<DType> dts) {
  std::vector<FixtureParam> p;
  for (const auto& [name, def] : t)
    for (DType d : dts) p.push_back({name, d});
  return p;
}

inline std::string param_name(const ::testing::TestParamInfo<FixtureParam>& info) {
  return info.param.name + "_" + std::string(dtype_name(info.param.ft));
}

inline std::vector<std::string> case_names(const CaseTable& t) {
  std::vector<std::string> v;
  for (const auto& [name, def] : t) v.push_back(name);
  return v;
}

inline std::string case_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

// Every case in the file has a builder and every builder has a case.
inline void expect_table_matches_fixture(const std::string& file, const CaseTable& t) {
  std::vector<std::string> in_file;
  for (const json& c : load_fixture(file).at("cases")) in_file.push_back(c.at("name"));
  std::vector<std::string> in_table = case_names(t);  // sorted: a std::map's keys
  std::sort(in_file.begin(), in_file.end());
  EXPECT_EQ(in_file, in_table) << file << ": fixture cases vs C++ builders";
}

// A fixture case's inputs as f64, floating ones moved off the 1/256 grid by a small
// deterministic jitter so that finite differences never straddle a kink or a tie
// (abs and relu at 0, floor at integers, max ties).
inline std::vector<std::pair<std::string, Tensor>> fd_inputs(const std::string& file,
                                                             const std::string& name) {
  const json& c = fixture_case(file, name);
  std::vector<std::pair<std::string, Tensor>> v;
  uint64_t seed = 1469598103934665603ull;
  for (char ch : name) seed = (seed ^ (uint8_t)ch) * 1099511628211ull;
  for (const json& in : c.at("inputs")) {
    Tensor t = json_tensor(in, DType::f64);
    if (is_float(t.dtype())) {
      std::vector<double> x = t.to_vector(), j = uniform_values(t.numel(), seed++, -1e-3, 1e-3);
      for (size_t i = 0; i < x.size(); ++i) x[i] += j[i];
      t = make(x, t.shape());
    }
    v.emplace_back(in.at("name").get<std::string>(), t);
  }
  return v;
}

// Declares the fixture tests of one family: Suite/SuiteTorch.Matches/<case>_<dtype> (f64
// against kF64Tol, f32 against kF32Tol), Suite/SuiteFd.MatchesFiniteDifferences/<case>, and
// SuiteCoverage.TableMatchesFixture.
#define FX_OP_FIXTURE_TESTS(Suite, file, table)                                                    \
  class Suite##Torch : public ::testing::TestWithParam<::fx::optest::FixtureParam> {};             \
  TEST_P(Suite##Torch, Matches) {                                                                  \
    const auto& p = GetParam();                                                                    \
    ::fx::optest::run_fixture_case(                                                                \
        file, p.name, table().at(p.name), p.ft,                                                    \
        p.ft == ::fx::DType::f64 ? ::fx::optest::kF64Tol : ::fx::optest::kF32Tol);                 \
  }                                                                                                \
  INSTANTIATE_TEST_SUITE_P(Suite, Suite##Torch,                                                    \
                           ::testing::ValuesIn(::fx::optest::fixture_params(                       \
                               table(), {::fx::DType::f64, ::fx::DType::f32})),                    \
                           ::fx::optest::param_name);                                              \
  class Suite##Fd : public ::testing::TestWithParam<std::string> {};                               \
  TEST_P(Suite##Fd, MatchesFiniteDifferences) {                                                    \
    const ::fx::optest::CaseDef& def = table().at(GetParam());                                     \
    if (!def.finite_differences) GTEST_SKIP() << "not meaningful in f64 for this case";            \
    if (::fx::optest::check_grad_fd(def.build, ::fx::optest::fd_inputs(file, GetParam()), 7) == 0) \
      GTEST_SKIP() << "not differentiable: no floating input or output";                           \
  }                                                                                                \
  INSTANTIATE_TEST_SUITE_P(Suite, Suite##Fd,                                                       \
                           ::testing::ValuesIn(::fx::optest::case_names(table())),                 \
                           ::fx::optest::case_name);                                               \
  TEST(Suite##Coverage, TableMatchesFixture) {                                                     \
    ::fx::optest::expect_table_matches_fixture(file, table());                                     \
  }

}  // namespace fx::optest
