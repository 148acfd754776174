// Group sums (compiler/group_sums.h): a GroupNorm's mean over a convolution's result,
// computed by the blocked kernel that adds the convolution's bias, from the rows it has just
// stored, instead of by a library reduction. The sums are the library's, in its order, so
// the compiled results keep the interpreter's bits, in training graphs too.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "fluxion/api/fx.h"
#include "fluxion/autodiff/grad.h"
#include "fluxion/compiler/compiler.h"
#include "op_test_util.h"

using namespace fx;

namespace group_sums_test {

struct Case {
  Graph g;
  Feeds feeds;
  std::vector<Var> outs;
};

// conv(x) + bias -> GroupNorm(groups) -> SiLU -> conv, and the gradients of a weighted sum
// with respect to x, the first weight and gamma.
void build(Case& c, const Shape& x_shape, int64_t channels, int64_t groups, DType dt) {
  Graph& g = c.g;
  Var x = g.input("x", x_shape, dt);
  Var w0 = g.input("w0", {channels, x_shape[1], 3, 3}, dt);
  Var bias = g.input("bias", {1, channels, 1, 1}, dt);
  Var gamma = g.input("gamma", {channels}, dt), beta = g.input("beta", {channels}, dt);
  Var w1 = g.input("w1", {16, channels, 3, 3}, dt);
  uint64_t seed = 31;
  for (const Var& v : {x, w0, bias, gamma, beta, w1})
    c.feeds[v.node().attrs.name] = optest::random_tensor(v.shape(), seed++, dt);
  Var h = conv2d(x, w0, {.padding = {1, 1}}) + bias;
  Var y = conv2d(silu(group_norm(h, groups, gamma, beta, 1e-5)), w1, {.padding = {1, 1}});
  Var cot = g.constant(optest::random_tensor(y.shape(), seed++, dt));
  c.outs = {y};
  for (const Var& d : grad(sum(y * cot), {x, w0, gamma})) c.outs.push_back(d);
}

// Compiles, checks every output bit for bit against the interpreter (twice: the planned
// buffers are reused) and returns the number of sums the kernels took; *variances: how many
// of those were variance sums.
int expect_interpreters_bits(const Case& c, bool expect_codegen = true, int* variances = nullptr) {
  std::vector<Tensor> want = Interpreter(c.g, c.outs).run(c.feeds);
  auto ex = compiler::compile(c.g, c.outs);
  if (variances) {
    *variances = 0;
    for (const compiler::FusedKernel& k : ex->fusion().kernels)
      for (const compiler::FusedKernel::GroupSum& s : k.group_sums) *variances += s.squares >= 0;
  }
  EXPECT_EQ(ex->stats().codegen_ok, expect_codegen) << ex->stats().summary();
  for (int run = 0; run < 2; ++run) {
    std::vector<Tensor> got = ex->run(c.feeds);
    EXPECT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size() && i < want.size(); ++i) {
      EXPECT_EQ(got[i].shape(), want[i].shape());
      EXPECT_EQ(std::memcmp(got[i].raw(), want[i].raw(), want[i].nbytes()), 0)
          << "output " << i << " differs, run " << run;
    }
  }
  return ex->stats().group_sums;
}

bool onednn_blocks() { return __builtin_cpu_supports("avx2"); }

TEST(CompilerGroupSums, KeepTheInterpretersBits) {
  // 20x20: a unit of 16 channels holds 4 groups of 4 (rows of 1,600); 5x7 with 3 images:
  // rows of 140, not a multiple of 16 (the padded last lanes); 40x40: two tile pieces per
  // unit; 64 channels in 8 groups at 7x7: rows of 392 (the DDIM U-Net's smallest).
  struct Shapes {
    Shape x;
    int64_t channels, groups;
  };
  for (const Shapes& s : {Shapes{{2, 16, 20, 20}, 32, 8}, Shapes{{3, 16, 5, 7}, 32, 8},
                          Shapes{{1, 16, 40, 40}, 16, 8}, Shapes{{2, 16, 7, 7}, 64, 8}}) {
    Case c;
    build(c, s.x, s.channels, s.groups, DType::f32);
    int variances = 0;
    const int sums = expect_interpreters_bits(c, true, &variances);
    if (onednn_blocks()) {  // the forward GroupNorm's mean and variance at least
      EXPECT_GE(sums, 2) << shape_str(s.x);
      EXPECT_GE(variances, 1) << shape_str(s.x);
    }
  }
}

TEST(CompilerGroupSums, LeaveRowsThatCrossUnitsToTheLibrary) {
  // 64 channels in 2 groups: a row is 32 channels, two units of 16; and bf16 stays out.
  for (DType dt : {DType::f32, DType::bf16}) {
    Case c;
    build(c, {2, 16, 8, 8}, 64, dt == DType::f32 ? 2 : 8, dt);
    EXPECT_EQ(expect_interpreters_bits(c), 0) << dtype_name(dt);
  }
}

TEST(CompilerGroupSums, SwitchedOffWithAnEnvironmentVariable) {
  setenv("FLUXION_NO_GROUP_SUMS", "1", 1);
  Case c;
  build(c, {2, 16, 20, 20}, 32, 8, DType::f32);
  const int sums = expect_interpreters_bits(c);
  const double bytes_off = compiler::compile(c.g, c.outs)->stats().cost.bytes;
  unsetenv("FLUXION_NO_GROUP_SUMS");
  EXPECT_EQ(sums, 0);
  // The cost model counts no bytes for the absorbed steps: the sums read the rows from cache.
  const double bytes_on = compiler::compile(c.g, c.outs)->stats().cost.bytes;
  if (onednn_blocks()) {
    EXPECT_LT(bytes_on, bytes_off);
  }
}

TEST(CompilerGroupSums, TheReferenceFallbackComputesThemToo) {
  // No compiler: the kernels run member by member, and the sums they took with them.
  namespace fs = std::filesystem;
  const fs::path cache = fs::temp_directory_path() / "fluxion_group_sums_fallback";
  fs::remove_all(cache);
  const char* old_cache = std::getenv("FLUXION_CACHE_DIR");
  const std::string saved = old_cache ? old_cache : "";
  setenv("FLUXION_CACHE_DIR", cache.c_str(), 1);
  setenv("FLUXION_CXX", "false", 1);
  Case c;
  build(c, {2, 16, 20, 20}, 32, 8, DType::f32);
  ::testing::internal::CaptureStderr();
  int variances = 0;
  const int sums = expect_interpreters_bits(c, false, &variances);
  ::testing::internal::GetCapturedStderr();
  if (onednn_blocks()) {
    EXPECT_GE(sums, 2);
    EXPECT_GE(variances, 1);
  }
  unsetenv("FLUXION_CXX");
  if (old_cache)
    setenv("FLUXION_CACHE_DIR", saved.c_str(), 1);
  else
    unsetenv("FLUXION_CACHE_DIR");
  fs::remove_all(cache);
}

}  // namespace group_sums_test
