// The self-consuming loop on images: DDPM on Fashion-MNIST at a tiny size (a few training
// steps of a small U-Net), scored per generation by FD-FMNIST and k-NN precision/recall in the
// classifier's feature space, with sample grids; it resumes like the point loops (whose
// resume is checked to give the same numbers in test_loop_study.cpp).
#include <gtest/gtest.h>

#include <filesystem>

#include "error_of.h"
#include "fashion_mnist_test_util.h"
#include "fluxion/core/error.h"
#include "fluxion/data/npy_images.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/loop/image_data.h"
#include "fluxion/loop/loop_command.h"
#include "fluxion/loop/loop_data.h"
#include "temp_dir_test.h"

using namespace fx;
using namespace fx::loop;
namespace fs = std::filesystem;

namespace {

class LoopImages : public TempDirTest {};

LoopConfig image_config(const std::string& out) {
  LoopConfig c;
  c.out = out;
  c.model = "ddpm";
  c.data = "fashion-mnist";
  c.families = "fully-synthetic";
  c.lambdas = "0.5";  // the density filter, in pixel space
  c.generations = 2;
  c.n = 32;
  c.eval_n = 100;
  // Training and DDIM both have `steps`: the sampling options sit apart.
  c.method_config = R"({"steps": 3, "batch": 8, "base": 8, "mult": [1, 2], "attn": [],
      "norm_groups": 4, "timesteps": 20, "grid": 0,
      "sampling": {"sampler": "ddim", "steps": 4, "batch": 50}})";
  return c;
}

}  // namespace

TEST_F(LoopImages, DdpmOnFashionMnistRunsAndResumes) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  LoopConfig c = image_config(path("study"));
  std::vector<LoopResult> r = run_study(c, make_model_factory(c), {.quiet = true, .stop_after = 1});
  EXPECT_EQ(r[0].lines.size(), 1u);
  nlohmann::json first = r[0].lines[0];
  r = run_study(c, make_model_factory(c), {.quiet = true});
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].lines.size(), 2u);
  EXPECT_EQ(r[0].lines[0], first);  // the resume keeps generation 1 and trains generation 2
  const std::string loop = path("study/fully-synthetic-lambda0.5");
  // Generation 2 trains on generation 1's samples: images in [0, 1] like the real ones.
  Tensor train = data::load_npy_images(loop + "/gen-002/train.npy");
  EXPECT_EQ(train.shape(), (Shape{32, 1, 28, 28}));
  for (float v : train.to_f32_vector()) ASSERT_TRUE(v >= 0.0f && v <= 1.0f) << v;
  for (const nlohmann::json& l : r[0].lines) {
    EXPECT_GT(l["fd"].get<double>(), l["fd_floor"].get<double>());
    EXPECT_GE(l["precision"].get<double>(), 0.0);
    EXPECT_FALSE(l.contains("sliced_w2"));
  }
  EXPECT_TRUE(fs::exists(path("study/samples-fully-synthetic-lambda0.5.png")));
  std::string report = io::read_file(path("study/report.md"));
  EXPECT_NE(report.find("FD-FMNIST"), std::string::npos) << report;
}

TEST_F(LoopImages, RealDrawsArePrefixesAndBadOptionsAreNamed) {
  if (!have_fashion_mnist()) GTEST_SKIP() << "dataset-fashion-mnist is not installed";
  FmnistTrainSplit split;
  Tensor a = split.draw(7, 50), b = split.draw(7, 20), other = split.draw(8, 20);
  std::vector<float> av = a.to_f32_vector(), bv = b.to_f32_vector();
  EXPECT_TRUE(std::equal(bv.begin(), bv.end(), av.begin()));  // synthetic augmentation's prefix
  EXPECT_NE(other.to_f32_vector(), bv);
  // DDPM's --data may be an .npy of images; points are refused, naming the file.
  write_points_npy(path("points.npy"), Tensor::zeros({3, 2}));
  EXPECT_NE(error_of([&] {
              data::load_npy_images(path("points.npy"));
            }).find("points.npy: NPY array has shape [3, 2]; images must be [N, C, H, W]"),
            std::string::npos);
  LoopConfig c = image_config(path("bad"));
  c.model = "closed-form";
  c.method_config = "";
  EXPECT_NE(error_of([&] { c.validate(); }).find("--data fashion-mnist: images need a method"),
            std::string::npos);
  c = image_config(path("bad"));
  c.eval_n = 20000;
  EXPECT_NE(error_of([&] { c.validate(); }).find("--eval-n: 20000 held-out images"),
            std::string::npos);
  c = image_config(path("bad"));
  c.method_config = R"({"sampling": {"stpes": 4}})";
  EXPECT_NE(error_of([&] { make_model_factory(c); }).find("stpes"), std::string::npos);
}
