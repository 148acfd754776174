// Shapes are plain vectors of extents, row-major. Helpers for the rules every op uses.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fx {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s);
std::string shape_str(const Shape& s);  // "[2, 3]"
std::vector<int64_t> row_major_strides(const Shape& s);
// Walks `s` with one element-stride vector per operand (strides[q][i] for axis i): drops
// size-1 axes and merges each axis into the one before it wherever every operand steps
// through both as one (stride before == stride · extent). Fewer, longer axes: cheaper
// loops for strided copies and generated kernels. Returns the merged extents; `strides`
// is rewritten to match.
Shape coalesce_axes(const Shape& s, std::vector<std::vector<int64_t>>& strides);
// numpy broadcasting; returns false if incompatible
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out);
int normalize_axis(int64_t axis, int rank, const char* op);  // throws naming op

}  // namespace fx
