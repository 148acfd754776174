// The loop over registered methods (MethodLoopModel through the spine) and `fluxion loop`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "cli_test_util.h"
#include "error_of.h"
#include "fluxion/core/error.h"
#include "fluxion/loop/loop_command.h"
#include "fluxion/loop/method_loop_model.h"
#include "fluxion/methods/registry.h"

using namespace fx;
using namespace fx::loop;
namespace fs = std::filesystem;

namespace {

std::string method_temp_dir(const std::string& name) {
  std::string d =
      (fs::temp_directory_path() / ("fx_loopm_" + name + "_" + std::to_string(::getpid())))
          .string();
  fs::remove_all(d);
  return d;
}

}  // namespace

TEST(LoopMethod, AMethodThatCannotSampleIsRefused) {
  LoopConfig c;
  c.model = "lru";
  std::string e = error_of([&] { make_model_factory(c); });
  EXPECT_NE(e.find("--model: method 'lru' cannot sample"), std::string::npos) << e;
  c.model = "nope";
  e = error_of([&] { make_model_factory(c); });
  EXPECT_NE(e.find("--model: unknown model 'nope'"), std::string::npos) << e;
}

TEST(LoopMethod, MethodConfigMustNameTheMethodsOptions) {
  LoopConfig c;
  c.model = "gaussian";
  c.method_config = R"({"stpes": 10})";
  std::string e = error_of([&] { make_model_factory(c); });
  EXPECT_NE(e.find("--method-config"), std::string::npos) << e;
  EXPECT_NE(e.find("stpes"), std::string::npos) << e;
  c.method_config = R"({"data": "moons"})";
  e = error_of([&] { make_model_factory(c); });
  EXPECT_NE(e.find("`data` is set by the loop"), std::string::npos) << e;
}

// The registry's Gaussian (fitted by Adam) as each generation's model: trained by the spine
// into gen-00t/run, reloaded for the next generation, λ < 1 through the density filter.
TEST(LoopMethod, RegisteredMethodRunsAStudyAndResumes) {
  std::string d = method_temp_dir("gauss");
  LoopConfig c;
  c.out = d;
  c.model = "gaussian";
  c.method_config = R"({"steps": 60, "batch": 128})";
  c.families = "fully-synthetic";
  c.lambdas = "1,0.7";
  c.generations = 3;
  c.n = 256;
  c.eval_n = 300;
  std::vector<LoopResult> r = run_study(c, make_model_factory(c), {.quiet = true, .stop_after = 4});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[1].lines.size(), 1u);
  EXPECT_TRUE(fs::exists(d + "/fully-synthetic-lambda1/gen-003/run/model.safetensors"));
  r = run_study(c, make_model_factory(c), {.quiet = true});
  ASSERT_EQ(r[1].lines.size(), 3u);
  // The filter keeps the densest 70%: less spread than the unbiased loop's samples.
  EXPECT_LT(r[1].lines[2]["sample_trace_cov"].get<double>(),
            r[0].lines[2]["sample_trace_cov"].get<double>());
  fs::remove_all(d);
}

TEST(LoopCli, RunsAStudyAndNamesBadOptions) {
  std::string d = method_temp_dir("cli");
  CliResult ok = run_cli("loop --out " + d +
                         " --generations 2 --families fresh-data --lambdas 1 --n 200 --eval-n 300");
  EXPECT_EQ(ok.code, 0) << ok.output;
  EXPECT_NE(ok.output.find("fresh-data-lambda1 generation 2/2"), std::string::npos) << ok.output;
  EXPECT_TRUE(fs::exists(d + "/report.md"));
  CliResult other =
      run_cli("loop --out " + d + " --generations 2 --families fresh-data --lambdas 1 --n 300");
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(
      other.output.find(
          "study.json holds another study: eval_n (300 there, 2000 here), n (200 there, 300 here)"),
      std::string::npos)
      << other.output;
  CliResult bad = run_cli("loop --out " + d + "-x --real-fraction 1.5");
  EXPECT_EQ(bad.code, 1);
  EXPECT_NE(bad.output.find("--real-fraction must be in [0, 1], got 1.5"), std::string::npos)
      << bad.output;
  CliResult zero = run_cli("loop --out " + d + "-x --generations 0");
  EXPECT_NE(zero.output.find("--generations must be >= 1, got 0"), std::string::npos)
      << zero.output;
  EXPECT_FALSE(fs::exists(d + "-x"));
  fs::remove_all(d);
}
