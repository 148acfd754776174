// The loop driver on the closed-form Gaussian model: folders, loop.jsonl, resume after an
// interruption, the report, and the errors for bad options and foreign folders.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "error_of.h"
#include "fluxion/core/error.h"
#include "fluxion/data/points_file.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/loop/gaussian_loop_model.h"
#include "fluxion/loop/loop_data.h"
#include "fluxion/loop/loop_report.h"
#include "fluxion/loop/quality_filter.h"
#include "fluxion/loop/self_consuming_loop.h"
#include "loop_test_util.h"

using namespace fx;
using namespace fx::loop;
namespace fs = std::filesystem;

namespace {

std::string study_temp_dir(const std::string& name) {
  std::string d =
      (fs::temp_directory_path() / ("fx_loop_" + name + "_" + std::to_string(::getpid()))).string();
  fs::remove_all(d);
  return d;
}

LoopConfig small_config(const std::string& out) {
  LoopConfig c;
  c.out = out;
  c.model = "closed-form";
  c.data = "25gaussians";
  c.families = "fully-synthetic,fresh-data";
  c.lambdas = "1,0.7";
  c.generations = 4;
  c.n = 200;
  c.eval_n = 300;
  return c;
}

ModelFactory gaussian_factory() {
  return [] { return std::make_unique<GaussianLoopModel>(); };
}

// loop.jsonl without the timings.
}  // namespace

TEST(LoopData, PlansTheThreeFamilies) {
  SetPlan p = plan_training_set(Family::fully_synthetic, 1, 100, 0, 1);
  EXPECT_EQ(p.real, 100);
  EXPECT_TRUE(p.synthetic.empty());
  p = plan_training_set(Family::fully_synthetic, 5, 100, 0, 1);
  EXPECT_EQ(p.real, 0);
  ASSERT_EQ(p.synthetic.size(), 1u);
  EXPECT_EQ(p.synthetic[0], (std::pair<int64_t, int64_t>{4, 100}));
  p = plan_training_set(Family::synthetic_augmentation, 5, 100, 30, 3);
  EXPECT_EQ(p.real, 30);
  EXPECT_EQ(p.real_draw, 1);
  ASSERT_EQ(p.synthetic.size(), 3u);  // generations 2, 3, 4 share 70: 23, 23, 24
  EXPECT_EQ(p.synthetic[0], (std::pair<int64_t, int64_t>{2, 23}));
  EXPECT_EQ(p.synthetic[2], (std::pair<int64_t, int64_t>{4, 24}));
  EXPECT_EQ(p.size(), 100);
  p = plan_training_set(Family::fresh_data, 5, 100, 50, 0);  // history 0: all of 1..4
  EXPECT_EQ(p.real_draw, 5);
  EXPECT_EQ(p.synthetic.size(), 4u);
  EXPECT_EQ(p.size(), 100);
}

TEST(LoopData, NpyRoundTrip) {
  std::string d = study_temp_dir("npy");
  fs::create_directories(d);
  Tensor x = Tensor::from({1.5, -2, 3, 4.25, 5, 6}, {3, 2});
  write_points_npy(d + "/x.npy", x);
  Tensor y = data::load_points(d + "/x.npy");
  EXPECT_EQ(y.shape(), x.shape());
  EXPECT_EQ(y.to_vector(), x.to_vector());
  fs::remove_all(d);
}

TEST(LoopConfigCheck, BadOptionsNameTheOption) {
  LoopConfig c = small_config("unused");
  c.real_fraction = 1.5;
  EXPECT_NE(error_of([&] { c.validate(); }).find("--real-fraction"), std::string::npos);
  c.real_fraction = -0.1;
  EXPECT_NE(error_of([&] { c.validate(); }).find("--real-fraction"), std::string::npos);
  c = small_config("unused");
  c.lambdas = "1,1.2";
  EXPECT_NE(error_of([&] { c.validate(); }).find("--lambdas: 1.2"), std::string::npos);
  c.lambdas = "0";
  EXPECT_NE(error_of([&] { c.validate(); }).find("--lambdas: 0"), std::string::npos);
  c = small_config("unused");
  c.generations = 0;
  EXPECT_NE(error_of([&] { c.validate(); }).find("--generations"), std::string::npos);
  c = small_config("unused");
  c.families = "fully-synthetic,mad";
  EXPECT_NE(error_of([&] { c.validate(); }).find("'mad'"), std::string::npos);
  c = small_config("unused");
  c.model = "rectified-flow";
  c.method_config = "{\"steps\": ";
  EXPECT_NE(error_of([&] { c.validate(); }).find("--method-config"), std::string::npos);
  c.method_config = "[1]";
  EXPECT_NE(error_of([&] { c.validate(); }).find("--method-config: not a JSON object"),
            std::string::npos);
  c = small_config("unused");
  c.data = "nope";
  EXPECT_NE(error_of([&] { c.validate(); }).find("--data"), std::string::npos);
}

TEST(LoopStudy, ResumesAfterAnInterruptionWithTheSameResults) {
  std::string a = study_temp_dir("whole"), b = study_temp_dir("interrupted");
  run_study(small_config(a), gaussian_factory(), {.quiet = true});
  // Interrupted after 6 of 16 generations (the second loop half done), with a half-written
  // generation left behind; the rerun goes on from there.
  std::vector<LoopResult> part =
      run_study(small_config(b), gaussian_factory(), {.quiet = true, .stop_after = 6});
  ASSERT_EQ(part.size(), 2u);
  EXPECT_FALSE(part.back().finished);
  EXPECT_EQ(part.back().lines.size(), 2u);
  fs::create_directories(b + "/fully-synthetic-lambda0.7/gen-003");
  io::write_file_atomic(b + "/fully-synthetic-lambda0.7/gen-003/junk", "x");
  std::vector<LoopResult> rest = run_study(small_config(b), gaussian_factory(), {.quiet = true});
  ASSERT_EQ(rest.size(), 4u);
  for (const LoopResult& r : rest) {
    EXPECT_TRUE(r.finished);
    EXPECT_EQ(jsonl_without_seconds(a + "/" + r.name + "/loop.jsonl"),
              jsonl_without_seconds(b + "/" + r.name + "/loop.jsonl"))
        << r.name;
  }
  EXPECT_FALSE(fs::exists(b + "/fully-synthetic-lambda0.7/gen-003/junk"));
  for (const char* f : {"report.md", "curves.png", "samples-fresh-data-lambda0.7.png"})
    EXPECT_TRUE(fs::exists(b + "/" + f)) << f;
  // The Gaussian's own metrics are in each line.
  nlohmann::json last = rest[0].lines.back();
  EXPECT_TRUE(last.contains("trace_cov") && last.contains("mean_shift2") &&
              last.contains("precision") && last.contains("sliced_w2_floor"));
  // A finished study may be extended by more generations.
  LoopConfig more = small_config(b);
  more.generations = 5;
  more.families = "fully-synthetic,fresh-data";
  std::vector<LoopResult> longer =
      run_study(more, gaussian_factory(), {.quiet = true, .stop_after = 1});
  EXPECT_EQ(longer[0].lines.size(), 5u);
  fs::remove_all(a);
  fs::remove_all(b);
}

TEST(LoopStudy, RefusesAFolderOfAnotherStudy) {
  std::string d = study_temp_dir("other");
  LoopConfig c = small_config(d);
  c.generations = 1;
  c.families = "fully-synthetic";
  c.lambdas = "1";
  run_study(c, gaussian_factory(), {.quiet = true});
  LoopConfig other = c;
  other.lambdas = "0.7";
  std::string e = error_of([&] { run_study(other, gaussian_factory(), {.quiet = true}); });
  EXPECT_NE(e.find("study.json holds another study: lambdas (\"1\" there, \"0.7\" here)"),
            std::string::npos)
      << e;
  // A finished generation whose metrics.json was damaged: the error names the file.
  io::write_file_atomic(d + "/fully-synthetic-lambda1/gen-001/metrics.json", "{\"generation\": ");
  e = error_of([&] { run_study(c, gaussian_factory(), {.quiet = true}); });
  EXPECT_NE(e.find("gen-001/metrics.json"), std::string::npos) << e;
  // A folder with other files and no study.json.
  std::string f = study_temp_dir("foreign");
  fs::create_directories(f);
  io::write_file_atomic(f + "/config.json", "{}");
  LoopConfig g = c;
  g.out = f;
  e = error_of([&] { run_study(g, gaussian_factory(), {.quiet = true}); });
  EXPECT_NE(e.find("has no study.json"), std::string::npos) << e;
  fs::remove_all(d);
  fs::remove_all(f);
}

TEST(LoopReport, ScatterGenerations) {
  EXPECT_EQ(scatter_generations(1), (std::vector<int64_t>{1}));
  EXPECT_EQ(scatter_generations(10), (std::vector<int64_t>{1, 3, 5, 7, 9, 10}));
  EXPECT_EQ(scatter_generations(9), (std::vector<int64_t>{1, 3, 5, 7, 9}));
  EXPECT_EQ(scatter_generations(50).size(), 6u);
}

TEST(LoopQualityFilter, KeepsTheDensestPoints) {
  // 90 points in a tight cluster, 10 far apart: keeping 90 drops exactly the outliers.
  std::vector<double> v;
  for (int i = 0; i < 100; ++i) {
    double s = i < 90 ? 0.01 : 10.0;
    v.push_back(s * (i % 10)), v.push_back(s * (i / 10));
  }
  Tensor kept = keep_densest(Tensor::from(v, {100, 2}), 90);
  ASSERT_EQ(kept.dim(0), 90);
  for (double x : kept.to_vector()) EXPECT_LT(x, 0.1);
  EXPECT_EQ(filter_pool_size(700, 0.7), 1000);
  EXPECT_EQ(filter_pool_size(100, 1.0), 100);
}
