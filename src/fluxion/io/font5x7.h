// A tiny built-in 5x7 bitmap font (printable ASCII) for plot titles, tick labels and legends,
// so pictures need no font files. Glyphs are 5 wide and 7 tall above the baseline, plus one row
// of descender (g j p q y) that falls into the line spacing; lines are 9 pixels apart.
#pragma once
#include <cstdint>

namespace fx::io {

inline constexpr int kGlyphWidth = 5, kGlyphHeight = 7, kGlyphRows = 8, kGlyphAdvance = 6,
                     kLineHeight = 9;

// kGlyphRows rows for the character, bit 4 (0x10) = leftmost column; '?' for anything that is
// not printable ASCII.
const uint8_t* glyph_rows(char c);

}  // namespace fx::io
