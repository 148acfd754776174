// A user's points of any dimension: CSV (optional header row, comma-separated) or NumPy
// .npy (2-D, C order, little-endian f4/f8/i4/i8). Returns f32 [N, D]. Errors name the
// file, the line and column, and the offending value.
#pragma once
#include <string>

#include "fluxion/core/tensor.h"

namespace fx::data {

Tensor load_points(const std::string& path);
Tensor parse_csv_points(const std::string& text, const std::string& name);
Tensor parse_npy_points(const std::string& bytes, const std::string& name);

}  // namespace fx::data
