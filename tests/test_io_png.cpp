// PNG encoding: signature, dimensions, a pixel-exact round trip through libpng, atomic writes
// and clear errors.
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/png.h"

namespace {

using fx::io::Image;

uint32_t be32(const std::string& s, size_t at) {
  return (uint32_t)(uint8_t)s[at] << 24 | (uint32_t)(uint8_t)s[at + 1] << 16 |
         (uint32_t)(uint8_t)s[at + 2] << 8 | (uint8_t)s[at + 3];
}

TEST(Png, SignatureDimensionsAndRoundTrip) {
  for (int channels : {1, 3}) {
    Image img(37, 11, channels);
    for (size_t i = 0; i < img.pixels.size(); ++i) img.pixels[i] = (uint8_t)(i * 7 + 3);
    std::string png = fx::io::encode_png(img);
    ASSERT_GT(png.size(), 33u);
    EXPECT_EQ(png.substr(0, 8), "\x89PNG\r\n\x1a\n");
    EXPECT_EQ(png.substr(12, 4), "IHDR");
    EXPECT_EQ(be32(png, 16), 37u);
    EXPECT_EQ(be32(png, 20), 11u);
    EXPECT_EQ((int)png[24], 8);                      // bit depth
    EXPECT_EQ((int)png[25], channels == 1 ? 0 : 2);  // grey / RGB
    Image back = fx::io::decode_png({(const uint8_t*)png.data(), png.size()}, "mem");
    EXPECT_EQ(back.width, 37);
    EXPECT_EQ(back.height, 11);
    EXPECT_EQ(back.channels, channels);
    EXPECT_EQ(back.pixels, img.pixels);
  }
}

TEST(Png, HeaderClaimingMorePixelsThanTheFileHoldsIsRefused) {
  // A valid 1x1 PNG whose IHDR is patched to 32768x32768 (CRC fixed): 3 GB of pixels from a
  // 70-byte file used to be allocated before libpng noticed the data was missing.
  std::string png = fx::io::encode_png(Image(1, 1, 3, 9));
  for (size_t at : {16u, 20u}) {
    png[at] = 0, png[at + 1] = 0, png[at + 2] = (char)0x80, png[at + 3] = 0;
  }
  uint32_t crc = (uint32_t)crc32(0, (const Bytef*)png.data() + 12, 17);  // type + IHDR data
  for (int k = 0; k < 4; ++k) png[29 + k] = (char)(crc >> (24 - 8 * k));
  try {
    fx::io::decode_png({(const uint8_t*)png.data(), png.size()}, "bomb.png");
    FAIL() << "no error";
  } catch (const fx::Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("bomb.png: cannot decode PNG: header claims 32768x32768 pixels"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("-byte file can hold"), std::string::npos) << m;
  }
}

TEST(Png, WriteIsAtomicAndErrorsAreClear) {
  char tmpl[] = "/tmp/fluxion-png-XXXXXX";
  std::string dir = ::mkdtemp(tmpl);
  Image img(4, 3, 3, 200);
  fx::io::write_png(dir + "/a.png", img);
  EXPECT_EQ(fx::io::read_png(dir + "/a.png").pixels, img.pixels);
  try {
    fx::io::write_png(dir + "/missing/a.png", img);
    FAIL() << "no error";
  } catch (const fx::Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("missing/a.png"), std::string::npos) << m;
    EXPECT_NE(m.find("No such file or directory"), std::string::npos) << m;
  }
  EXPECT_THROW(fx::io::encode_png(Image(0, 5, 3)), fx::Error);
  EXPECT_THROW(Image(5, 5, 2), fx::Error);
  EXPECT_THROW(Image(-1, 5, 3), fx::Error);
  std::string junk = "not a png at all";
  EXPECT_THROW(fx::io::decode_png({(const uint8_t*)junk.data(), junk.size()}, "junk"), fx::Error);
  std::string cut = fx::io::encode_png(img).substr(0, 40);
  EXPECT_THROW(fx::io::decode_png({(const uint8_t*)cut.data(), cut.size()}, "cut"), fx::Error);
  std::filesystem::remove_all(dir);
}

}  // namespace
