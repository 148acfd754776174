// Animated GIFs (giflib) of 8-bit images: a fixed 256-colour palette (a 6×6×6 colour cube and
// 40 greys), so every frame shares one global colour table and plots' few flat colours stay
// exact enough to read; the animation loops forever. Writes are atomic (atomic_file.h).
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fluxion/io/png.h"

namespace fx::io {

// The GIF file's bytes: frames of equal size (grey or RGB), `delay_cs` hundredths of a second
// each. Throws fx::Error for no frames, unequal sizes or a giflib failure.
std::string encode_gif(const std::vector<Image>& frames, int delay_cs = 10);
void write_gif(const std::string& path, const std::vector<Image>& frames, int delay_cs = 10);

// The frames of a GIF as RGB images (for tests and tools); `name` is how errors call it.
std::vector<Image> decode_gif(std::span<const uint8_t> bytes, std::string_view name);

}  // namespace fx::io
