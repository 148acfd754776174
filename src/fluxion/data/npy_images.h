// Images stored as a NumPy .npy array [N, C, H, W] of little-endian f32 (what `fluxion sample
// --out x.npy` and the self-consuming loop write), e.g. a training set for DDPM's --data.
#pragma once
#include <cstdint>
#include <span>
#include <string>

#include "fluxion/core/tensor.h"

namespace fx::data {

// f32 [N, C, H, W]; errors name the file and what is wrong (rank, dtype, size, values).
Tensor load_npy_images(const std::string& path);
// The same from the file's bytes (`name` for messages): what load_npy_images and fuzz_npy_images
// call.
Tensor parse_npy_images(std::span<const uint8_t> raw, const std::string& name);

// Whether `path` is an .npy file whose header says [N, C, H, W] (images) rather than [N, D]
// (points): DDPM and PFGM take both kinds under --data. False when the file cannot be read,
// so the points loader reports the problem with the file.
bool npy_holds_images(const std::string& path);

}  // namespace fx::data
