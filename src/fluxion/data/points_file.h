// A user's points of any dimension, as f32 [N, D]:
//   CSV  comma-separated numbers, one point per line; an optional first row of non-numeric
//        column names; spaces/tabs around cells, blank lines, '#' comment lines, CRLF and a
//        UTF-8 BOM are tolerated.
//   NPY  NumPy .npy version 1.0/2.0/3.0, little-endian f4/f8/i4/i8, C order, 2-D [N, D]
//        (1-D [N] is read as [N, 1]).
// Every error is an fx::Error naming the file and, where it applies, the line, column and
// offending value: ragged rows, non-numeric cells, NaN/Inf (or beyond f32 range), no points,
// a missing file, bad NPY magic/header/dtype/fortran order, truncated data.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fluxion/core/tensor.h"

namespace fx::data {

// Chooses the format by extension (.csv / .npy, any case), else by the NPY magic bytes.
Tensor load_points(const std::string& path);

// `name` is how errors refer to the input (usually its path).
Tensor parse_csv_points(std::string_view text, std::string_view name);
Tensor parse_npy_points(std::span<const uint8_t> bytes, std::string_view name);

}  // namespace fx::data
