// Shapes are plain vectors of extents, row-major. Helpers for the rules every op uses.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fx {

using Shape = std::vector<int64_t>;

int64_t numel(const Shape& s);
std::string shape_str(const Shape& s);          // "[2, 3]"
std::vector<int64_t> row_major_strides(const Shape& s);
// numpy broadcasting; returns false if incompatible
bool broadcast_shapes(const Shape& a, const Shape& b, Shape* out);
int normalize_axis(int64_t axis, int rank, const char* op);  // throws naming op

}  // namespace fx
