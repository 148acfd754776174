// io/gif.h: animated GIFs through giflib — frames, size and (palette-exact) colours survive a
// round trip, plots' anti-aliased greys map to the grey ramp, and bad frames are refused.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fluxion/core/error.h"
#include "fluxion/io/gif.h"
#include "fluxion/io/raster.h"

using namespace fx;
using ::testing::HasSubstr;

namespace {

std::vector<uint8_t> gif_bytes_of(const std::string& s) { return {s.begin(), s.end()}; }

TEST(GifEncoder, RoundTripsFramesSizeAndPaletteColours) {
  std::vector<io::Image> frames;
  const io::Color colours[3] = {{255, 255, 255}, {0, 102, 204}, {170, 170, 170}};
  for (int f = 0; f < 3; ++f) {
    io::Image img(13, 7, 3, 255);
    for (int y = 0; y < 7; ++y)
      for (int x = 0; x < 13; ++x) {
        io::Color c = colours[(x + f) % 3];
        std::copy(c.begin(), c.end(), img.at(x, y));
      }
    frames.push_back(img);
  }
  std::string gif = io::encode_gif(frames, 5);
  ASSERT_EQ(gif.substr(0, 6), "GIF89a");
  auto back = io::decode_gif(gif_bytes_of(gif), "test.gif");
  ASSERT_EQ(back.size(), 3u);
  for (int f = 0; f < 3; ++f) {
    EXPECT_EQ(back[f].width, 13);
    EXPECT_EQ(back[f].height, 7);
    for (int x = 0; x < 13; ++x) {
      io::Color want = colours[(x + f) % 3];
      const uint8_t* p = back[f].at(x, 3);
      for (int c = 0; c < 3; ++c) EXPECT_NEAR(p[c], want[c], 3) << "frame " << f << " x " << x;
    }
  }
}

TEST(GifEncoder, GreyImagesKeepTheirLevelsWithinTheRamp) {
  io::Image img(256, 1, 1, 0);
  for (int x = 0; x < 256; ++x) img.at(x, 0)[0] = (uint8_t)x;
  auto back = io::decode_gif(gif_bytes_of(io::encode_gif({img})), "grey.gif");
  ASSERT_EQ(back.size(), 1u);
  for (int x = 0; x < 256; ++x) EXPECT_NEAR(back[0].at(x, 0)[0], x, 4) << x;
}

TEST(GifEncoder, RefusesNoFramesAndUnequalSizes) {
  EXPECT_THAT([] { io::encode_gif({}); }, ::testing::ThrowsMessage<Error>(HasSubstr("no frames")));
  EXPECT_THAT(
      [] {
        io::encode_gif({io::Image(4, 4), io::Image(5, 4)});
      },
      ::testing::ThrowsMessage<Error>(HasSubstr("frame 1 is 5x4, frame 0 is 4x4")));
  std::vector<uint8_t> junk{'n', 'o', 't'};
  EXPECT_THAT([&] { io::decode_gif(junk, "junk.gif"); },
              ::testing::ThrowsMessage<Error>(HasSubstr("junk.gif")));
}

}  // namespace
