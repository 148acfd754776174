#include "fluxion/io/gif.h"

#include <gif_lib.h>

#include <algorithm>
#include <cstring>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"

namespace fx::io {

namespace {

constexpr int kCube = 6, kGreys = 256 - kCube * kCube * kCube;  // 216 + 40 colours

std::vector<GifColorType> palette() {
  std::vector<GifColorType> p;
  for (int r = 0; r < kCube; ++r)
    for (int g = 0; g < kCube; ++g)
      for (int b = 0; b < kCube; ++b)
        p.push_back({(GifByteType)(r * 51), (GifByteType)(g * 51), (GifByteType)(b * 51)});
  for (int i = 0; i < kGreys; ++i) {
    auto v = (GifByteType)((i * 255 + (kGreys - 1) / 2) / (kGreys - 1));
    p.push_back({v, v, v});
  }
  return p;
}

// The palette index of an RGB pixel: the nearest grey for (near-)grey pixels, where a plot's
// anti-aliased edges and text live, else the nearest cube colour.
GifByteType index_of(int r, int g, int b) {
  int hi = std::max({r, g, b}), lo = std::min({r, g, b});
  if (hi - lo <= 12)
    return (GifByteType)(kCube * kCube * kCube + ((r + g + b) * (kGreys - 1) + 382) / 765);
  auto q = [](int v) { return (v + 25) / 51; };
  return (GifByteType)((q(r) * kCube + q(g)) * kCube + q(b));
}

int write_to_string(GifFileType* gif, const GifByteType* data, int n) {
  static_cast<std::string*>(gif->UserData)->append(reinterpret_cast<const char*>(data), n);
  return n;
}

struct ReadCursor {
  std::span<const uint8_t> bytes;
  size_t at = 0;
};

int read_from_span(GifFileType* gif, GifByteType* out, int n) {
  auto* c = static_cast<ReadCursor*>(gif->UserData);
  size_t k = std::min<size_t>(n, c->bytes.size() - c->at);
  std::memcpy(out, c->bytes.data() + c->at, k);
  c->at += k;
  return (int)k;
}

void check_gif(int rc, GifFileType* gif, const char* what) {
  if (rc != GIF_OK) fail("GIF encoder: {} failed: {}", what, GifErrorString(gif->Error));
}

}  // namespace

std::string encode_gif(const std::vector<Image>& frames, int delay_cs) {
  FX_CHECK(!frames.empty(), "GIF encoder: no frames");
  int w = frames[0].width, h = frames[0].height;
  for (size_t i = 0; i < frames.size(); ++i)
    FX_CHECK(frames[i].width == w && frames[i].height == h && w > 0 && h > 0,
             "GIF encoder: frame {} is {}x{}, frame 0 is {}x{}", i, frames[i].width,
             frames[i].height, w, h);
  FX_CHECK(delay_cs >= 0 && delay_cs <= 65535, "GIF encoder: delay {} outside 0..65535", delay_cs);
  std::string out;
  int err = 0;
  GifFileType* gif = EGifOpen(&out, write_to_string, &err);
  FX_CHECK(gif, "GIF encoder: EGifOpen failed: {}", GifErrorString(err));
  std::vector<GifColorType> pal = palette();
  ColorMapObject* cmap = GifMakeMapObject(256, pal.data());
  EGifSetGifVersion(gif, true);  // GIF89a: needed for the delay and loop extensions
  int rc = EGifPutScreenDesc(gif, w, h, 8, 0, cmap);
  GifFreeMapObject(cmap);
  try {
    check_gif(rc, gif, "the screen descriptor");
    // NETSCAPE2.0 application extension: loop forever.
    const GifByteType loop[3] = {1, 0, 0};
    check_gif(EGifPutExtensionLeader(gif, APPLICATION_EXT_FUNC_CODE), gif, "the loop extension");
    check_gif(EGifPutExtensionBlock(gif, 11, "NETSCAPE2.0"), gif, "the loop extension");
    check_gif(EGifPutExtensionBlock(gif, 3, loop), gif, "the loop extension");
    check_gif(EGifPutExtensionTrailer(gif), gif, "the loop extension");
    std::vector<GifByteType> row(w);
    for (const Image& f : frames) {
      GraphicsControlBlock gcb{DISPOSE_DO_NOT, false, delay_cs, NO_TRANSPARENT_COLOR};
      GifByteType ext[4];
      EGifGCBToExtension(&gcb, ext);
      check_gif(EGifPutExtension(gif, GRAPHICS_EXT_FUNC_CODE, 4, ext), gif, "a frame delay");
      check_gif(EGifPutImageDesc(gif, 0, 0, w, h, false, nullptr), gif, "an image descriptor");
      for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
          const uint8_t* p = f.at(x, y);
          row[x] = f.channels == 1 ? index_of(p[0], p[0], p[0]) : index_of(p[0], p[1], p[2]);
        }
        check_gif(EGifPutLine(gif, row.data(), w), gif, "a pixel row");
      }
    }
  } catch (...) {
    EGifCloseFile(gif, &err);
    throw;
  }
  FX_CHECK(EGifCloseFile(gif, &err) == GIF_OK, "GIF encoder: closing failed: {}",
           GifErrorString(err));
  return out;
}

void write_gif(const std::string& path, const std::vector<Image>& frames, int delay_cs) {
  write_file_atomic(path, encode_gif(frames, delay_cs));
}

std::vector<Image> decode_gif(std::span<const uint8_t> bytes, std::string_view name) {
  ReadCursor c{bytes};
  int err = 0;
  GifFileType* gif = DGifOpen(&c, read_from_span, &err);
  FX_CHECK(gif, "{}: not a GIF: {}", name, GifErrorString(err));
  if (DGifSlurp(gif) != GIF_OK) {
    std::string why = GifErrorString(gif->Error);
    DGifCloseFile(gif, &err);
    fail("{}: bad GIF: {}", name, why);
  }
  std::vector<Image> out;
  for (int i = 0; i < gif->ImageCount; ++i) {
    const SavedImage& s = gif->SavedImages[i];
    const ColorMapObject* m = s.ImageDesc.ColorMap ? s.ImageDesc.ColorMap : gif->SColorMap;
    Image img(gif->SWidth, gif->SHeight, 3, 255);
    for (int y = 0; y < s.ImageDesc.Height; ++y)
      for (int x = 0; x < s.ImageDesc.Width; ++x) {
        int px = s.ImageDesc.Left + x, py = s.ImageDesc.Top + y;
        if (!m || px >= img.width || py >= img.height) continue;
        int k = s.RasterBits[y * s.ImageDesc.Width + x];
        if (k >= m->ColorCount) continue;
        GifColorType col = m->Colors[k];
        uint8_t* p = img.at(px, py);
        p[0] = col.Red, p[1] = col.Green, p[2] = col.Blue;
      }
    out.push_back(std::move(img));
  }
  DGifCloseFile(gif, &err);
  return out;
}

}  // namespace fx::io
