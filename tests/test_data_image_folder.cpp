// PNG-folder image sets: resizing (area average down, bilinear up), grey conversion, the
// errors, and ImageBatches' [-1, 1] scaling, determinism and horizontal flips.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/data/image_folder.h"
#include "fluxion/io/png.h"
#include "temp_dir_test.h"

namespace fs = std::filesystem;
using ::testing::HasSubstr;

namespace {

// A folder per test and process (TempDirTest): a fixed name raced under ctest -j2.
class ImageFolder : public TempDirTest {
 protected:
  std::string err(const std::function<void()>& f) {
    try {
      f();
    } catch (const fx::Error& e) {
      return e.what();
    }
    return "";
  }
};

TEST_F(ImageFolder, ResizesAndConvertsToGrey) {
  fx::io::Image a(4, 4, 1);
  for (int y = 0; y < 4; ++y)
    for (int x = 0; x < 4; ++x) a.at(x, y)[0] = (uint8_t)(16 * (4 * y + x));
  fx::io::write_png((dir_ / "a.png").string(), a);
  fx::io::Image b(2, 2, 3);  // RGB: pure red and pure green pixels
  for (int y = 0; y < 2; ++y)
    for (int x = 0; x < 2; ++x) b.at(x, y)[x] = 255;
  fx::io::write_png((dir_ / "b.png").string(), b);

  fx::Tensor t = fx::data::load_png_folder(dir_.string(), 2, 1);
  ASSERT_EQ(t.shape(), (fx::Shape{2, 1, 2, 2}));
  // a: 2x2 block means of 16*(4y+x) / 255; b: BT.601 luma of red and green, unchanged.
  std::vector<double> want = {16 * 2.5, 16 * 4.5, 16 * 10.5, 16 * 12.5};
  auto v = t.to_vector();
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(v[i], want[i] / 255, 1e-6) << i;
  EXPECT_NEAR(v[4], 0.299, 1e-6);
  EXPECT_NEAR(v[5], 0.587, 1e-6);

  // Up-sizing 2x2 -> 4x4 is bilinear on pixel centres: corners keep their values, the
  // inner samples interpolate (red channel of b: 1 at x = 0, 0 at x = 1).
  fx::Tensor up = fx::data::load_png_folder(dir_.string(), 4, 3);
  ASSERT_EQ(up.shape(), (fx::Shape{2, 3, 4, 4}));
  const float* r = up.data<float>() + 48;  // image b, channel 0, row 0
  EXPECT_FLOAT_EQ(r[0], 1.0f);
  EXPECT_FLOAT_EQ(r[1], 0.75f);
  EXPECT_FLOAT_EQ(r[2], 0.25f);
  EXPECT_FLOAT_EQ(r[3], 0.0f);
}

TEST_F(ImageFolder, BadFoldersAndImagesAreClearErrors) {
  EXPECT_THAT(err([&] { fx::data::load_png_folder(dir_.string(), 8, 1); }),
              HasSubstr("holds no .png files"));
  EXPECT_THAT(err([&] { fx::data::load_png_folder((dir_ / "none").string(), 8, 1); }),
              HasSubstr("does not exist"));
  fx::io::write_png((dir_ / "wide.png").string(), fx::io::Image(6, 3, 1));
  EXPECT_THAT(err([&] { fx::data::load_png_folder(dir_.string(), 8, 1); }),
              HasSubstr("wide.png' is 6x3, not square"));
  EXPECT_EQ(fx::data::load_png_folder(dir_.string(), 3, 1, true).shape(), (fx::Shape{1, 1, 3, 3}));
  fx::io::write_png((dir_ / "wide.png").string(), fx::io::Image(3, 3, 1));
  EXPECT_THAT(err([&] { fx::data::load_png_folder(dir_.string(), 8, 2); }),
              HasSubstr("channels 2"));
  std::FILE* f = std::fopen((dir_ / "broken.png").string().c_str(), "wb");
  std::fputs("not a png", f);
  std::fclose(f);
  EXPECT_THAT(err([&] { fx::data::load_png_folder(dir_.string(), 8, 1); }),
              HasSubstr("broken.png"));
}

TEST(ImageBatches, ScalesDrawsDeterministicallyAndFlips) {
  fx::Tensor img({1, 1, 1, 3}, fx::DType::f32);
  float* p = img.data<float>();
  p[0] = 0.0f;
  p[1] = 0.5f;
  p[2] = 1.0f;
  fx::data::ImageBatches b(img);
  fx::Tensor x = b.batch(64, 3, 7, false);
  for (int64_t i = 0; i < 64; ++i) {
    EXPECT_EQ(x.data<float>()[3 * i], -1.0f);
    EXPECT_EQ(x.data<float>()[3 * i + 2], 1.0f);
  }
  fx::Tensor f = b.batch(64, 3, 7, true);
  EXPECT_EQ(f.to_vector(), b.batch(64, 3, 7, true).to_vector());
  int flipped = 0;
  for (int64_t i = 0; i < 64; ++i) {
    float first = f.data<float>()[3 * i];
    EXPECT_EQ(f.data<float>()[3 * i + 1], 0.0f);
    EXPECT_EQ(f.data<float>()[3 * i + 2], -first);
    flipped += first == 1.0f;
  }
  EXPECT_GT(flipped, 16);
  EXPECT_LT(flipped, 48);
}

}  // namespace
