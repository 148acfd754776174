// Writes what a method's `sample` returns: points [n, d] as CSV (one row a point) or NPY
// (f32, C order; numpy.load reads it), images [n, C, H, W] as a PNG grid or NPY. The format
// follows the file's extension; every write is atomic.
#pragma once
#include <string>

#include "fluxion/core/tensor.h"

namespace fx::io {

void write_samples(const std::string& path, const Tensor& samples);
// The bytes of an NPY (version 1.0) file holding x as little-endian f32.
std::string npy_bytes(const Tensor& x);

}  // namespace fx::io
