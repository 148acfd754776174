// Drawing primitives on an Image (png.h): alpha-blended pixels, rectangles, anti-aliased thin
// lines, discs and 5x7 bitmap text. Everything clips to the image, and NaN or far-away
// coordinates are ignored or clipped rather than looped over, so diverged data cannot hang a
// plot. Grey images receive the mean of the colour's channels.
#pragma once
#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "fluxion/io/png.h"

namespace fx::io {

using Color = std::array<uint8_t, 3>;

inline constexpr Color kWhite{255, 255, 255}, kBlack{0, 0, 0}, kGrey{128, 128, 128};

// A qualitative palette (matplotlib's "tab10"): colour i % 10.
Color palette_color(int i);

void blend_pixel(Image& img, int x, int y, Color c, float alpha = 1.0f);
// Pixels x0 <= x < x1, y0 <= y < y1.
void fill_rect(Image& img, int x0, int y0, int x1, int y1, Color c, float alpha = 1.0f);
// One-pixel outline of the same rectangle.
void draw_rect(Image& img, int x0, int y0, int x1, int y1, Color c);
// Anti-aliased one-pixel line (Xiaolin Wu) between pixel-centre coordinates.
void draw_line(Image& img, double x0, double y0, double x1, double y1, Color c, float alpha = 1.0f);
// Filled disc with a soft edge; radius in pixels (0 paints about one pixel).
void draw_disc(Image& img, double cx, double cy, double radius, Color c, float alpha = 1.0f);

// Text with its top-left corner at (x, y), glyphs magnified `scale` times; '\n' starts a line.
void draw_text(Image& img, int x, int y, std::string_view text, Color c, int scale = 1);
int text_width(std::string_view text, int scale = 1);  // of the longest line
int text_height(std::string_view text, int scale = 1);

// Images left to right, top-aligned, `gap` pixels apart, on `background`; all RGB.
Image side_by_side(const std::vector<Image>& images, int gap = 0, Color background = kWhite);

}  // namespace fx::io
