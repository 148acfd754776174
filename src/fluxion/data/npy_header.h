// The header of a NumPy .npy file (format versions 1.0, 2.0, 3.0): magic, header length and
// the Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }.
// Only what points need is accepted: little-endian f4/f8/i4/i8, C order.
#pragma once
#include <cstdint>
#include <span>
#include <string_view>

#include "fluxion/core/tensor.h"

namespace fx::data {

struct NpyHeader {
  DType dtype;         // f32, f64, i32 or i64
  Shape shape;         // () for a 0-d array
  size_t data_offset;  // where the array data starts in the file
};

// Throws fx::Error naming `name` and the faulty part (magic, version, header, descr, ...).
NpyHeader parse_npy_header(std::span<const uint8_t> bytes, std::string_view name);

}  // namespace fx::data
