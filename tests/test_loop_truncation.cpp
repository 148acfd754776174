// Truncation of the source noise as the sampling bias λ of a learned model: rectified flow's
// x0 (and DDPM's x_T) scaled by √λ. On a quick 2-D case it must trade diversity for quality as
// the closed form's N(μ, λΣ) does: recall and covered modes fall, precision does not.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "error_of.h"
#include "fluxion/core/error.h"
#include "fluxion/data/toy2d.h"
#include "fluxion/gen/flow_metrics.h"
#include "fluxion/loop/loop_command.h"
#include "fluxion/loop/loop_data.h"
#include "fluxion/loop/method_loop_model.h"
#include "fluxion/methods/registry.h"
#include "fluxion/metrics/knn_precision_recall.h"
#include "temp_dir_test.h"

using namespace fx;
using namespace fx::loop;
namespace fs = std::filesystem;

namespace {

class LoopTruncation : public TempDirTest {};

double trace_cov(const Tensor& x) {
  metrics::GaussianFit g = metrics::fit_gaussian(x);
  return g.cov[0] + g.cov[3];
}

}  // namespace

TEST_F(LoopTruncation, ScalingTheSourceTradesRecallForPrecision) {
  // 8 Gaussians, where this small flow separates the modes (precision 0.93 at λ = 1); on 25
  // Gaussians and moons it does not, and truncation there does not raise precision either
  // (docs/self_consuming_loops.md).
  const std::string cfg = R"({"steps": 1500, "batch": 256, "hidden": 128, "solver": "euler",
                              "ode_steps": 20})";
  MethodLoopModel m([] { return methods::make_method("rectified-flow"); },
                    nlohmann::json::parse(cfg), /*quiet=*/true, /*truncation=*/true);
  Tensor train = data::sample_toy("8gaussians", 2000, 11);
  fs::create_directories(path("gen"));
  write_points_npy(path("gen/train.npy"), train);
  m.fit(train, 3, path("gen"));
  Tensor real = data::sample_toy("8gaussians", 1000, 12);
  gen::GaussianMixture target = gen::GaussianMixture::by_name("8gaussians");

  Tensor full = m.sample(1000, 5, 1.0), biased = m.sample(1000, 5, 0.25);
  metrics::PrecisionRecall a = metrics::knn_precision_recall(real, full, 3);
  metrics::PrecisionRecall b = metrics::knn_precision_recall(real, biased, 3);
  gen::ModeCoverage ma = gen::mode_coverage(full, target), mb = gen::mode_coverage(biased, target);
  // x0 ~ N(0, I/4): the flow maps the inner part of the source, the modes' inner sides.
  EXPECT_LT(trace_cov(biased), 0.9 * trace_cov(full));
  EXPECT_GT(a.precision, 0.85) << "the flow does not separate the modes";
  EXPECT_LT(b.recall, a.recall - 0.15) << "recall " << a.recall << " -> " << b.recall;
  EXPECT_GE(b.precision, a.precision - 0.02)
      << "precision " << a.precision << " -> " << b.precision;
  EXPECT_LE(mb.covered, ma.covered);
  // λ = 1 is the model as trained: the same points as without truncation.
  MethodLoopModel plain([] { return methods::make_method("rectified-flow"); },
                        nlohmann::json::parse(cfg), true, false);
  plain.load(path("gen"));
  EXPECT_EQ(plain.sample(500, 5, 1.0).to_vector(), m.sample(500, 5, 1.0).to_vector());
}

TEST_F(LoopTruncation, AMethodWithoutSourceNoiseIsNamed) {
  LoopConfig c;
  c.model = "pfgm";
  c.truncation = true;
  std::string e = error_of([&] { make_model_factory(c); });
  EXPECT_NE(e.find("--truncation: method 'pfgm' has no source noise to scale"), std::string::npos)
      << e;
  c.model = "rectified-flow";
  c.method_config = R"({"source_scale": 0.5})";
  e = error_of([&] { make_model_factory(c); });
  EXPECT_NE(e.find("`source_scale` is set by the loop"), std::string::npos) << e;
}
