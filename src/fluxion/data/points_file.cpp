#include "fluxion/data/points_file.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>

#include "fluxion/core/error.h"
#include "fluxion/data/npy_header.h"
#include "fluxion/io/atomic_file.h"

namespace fx::data {

namespace {

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\v\f");
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(" \t\r\v\f");
  return s.substr(b, e - b + 1);
}

// Points are rows of a few to a few thousand numbers. Past these limits a file is not points
// (a binary file, one huge cell): refuse it by name before allocating per-cell vectors.
constexpr size_t kMaxCsvColumns = 1 << 16;
constexpr size_t kMaxCsvCell = 1024;  // characters; numbers need at most a few dozen

// strtod on a NUL-terminated copy; the whole cell must be consumed.
bool parse_number(std::string_view cell, double* out) {
  if (cell.empty() || cell.size() > kMaxCsvCell) return false;
  char buf[kMaxCsvCell + 1];
  std::copy(cell.begin(), cell.end(), buf);
  buf[cell.size()] = '\0';
  char* end = nullptr;
  *out = std::strtod(buf, &end);
  return end == buf + cell.size();
}

std::vector<std::string_view> split_cells(std::string_view line) {
  std::vector<std::string_view> cells;
  size_t start = 0;
  for (;;) {
    size_t comma = line.find(',', start);
    cells.push_back(trim(line.substr(start, comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return cells;
}

std::string quoted(std::string_view cell) {
  std::string s(cell.substr(0, 40));
  return "'" + s + (cell.size() > 40 ? "...'" : "'");
}

// The value as f32, refusing NaN, Inf and values that overflow f32.
float checked_f32(double v, std::string_view name, const std::string& where,
                  std::string_view text) {
  if (std::isnan(v) || std::isinf(v)) fail("{}: {}: value {} is not finite", name, where, text);
  if (std::fabs(v) > std::numeric_limits<float>::max())
    fail("{}: {}: value {} is beyond the f32 range", name, where, text);
  return (float)v;
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  for (size_t i = 0; i < suffix.size(); ++i)
    if (std::tolower((unsigned char)s[s.size() - suffix.size() + i]) != suffix[i]) return false;
  return true;
}

}  // namespace

namespace {

// Refuses a line with too many columns or an overlong cell, naming file, line and value.
void check_csv_line(std::string_view body, std::string_view name, int64_t lineno) {
  size_t cols = 1 + std::count(body.begin(), body.end(), ',');
  if (cols > kMaxCsvColumns)
    fail("{}: line {} has {} columns; the limit is {} (is this a CSV of points?)", name, lineno,
         cols, kMaxCsvColumns);
  size_t start = 0, col = 1;
  for (;;) {
    size_t comma = body.find(',', start);
    size_t len = (comma == std::string_view::npos ? body.size() : comma) - start;
    if (len > kMaxCsvCell)
      fail("{}: line {}, column {}: cell of {} characters {} is too long; the limit is {}", name,
           lineno, col, len, quoted(trim(body.substr(start, len))), kMaxCsvCell);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
    ++col;
  }
}

}  // namespace

Tensor parse_csv_points(std::string_view text, std::string_view name) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  std::vector<float> values;
  int64_t cols = -1, rows = 0, lineno = 0, header_line = 0;
  bool header_allowed = true;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? nl : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++lineno;
    std::string_view body = trim(line);
    if (body.empty() || body[0] == '#') continue;
    check_csv_line(body, name, lineno);
    auto cells = split_cells(body);
    std::vector<double> nums(cells.size());
    int64_t bad = -1, numeric = 0;
    for (size_t c = 0; c < cells.size(); ++c) {
      if (parse_number(cells[c], &nums[c]))
        ++numeric;
      else if (bad < 0)
        bad = (int64_t)c;
    }
    // The first row may be a header: then none of its cells is a number.
    if (header_allowed && numeric == 0) {
      header_allowed = false;
      header_line = lineno;
      cols = (int64_t)cells.size();
      continue;
    }
    header_allowed = false;
    if (cols < 0) cols = (int64_t)cells.size();
    if ((int64_t)cells.size() != cols)
      fail("{}: line {} has {} columns, expected {} (ragged rows)", name, lineno, cells.size(),
           cols);
    if (bad >= 0)
      fail("{}: line {}, column {}: {} is not a number", name, lineno, bad + 1,
           cells[bad].empty() ? "an empty cell" : quoted(cells[bad]));
    for (size_t c = 0; c < cells.size(); ++c)
      values.push_back(
          checked_f32(nums[c], name, fmt::format("line {}, column {}", lineno, c + 1), cells[c]));
    ++rows;
  }
  if (rows == 0 && cols < 0) fail("{}: empty file (no data rows)", name);
  if (rows == 0)
    fail("{}: no data rows, only a header of {} column{} (line {})", name, cols,
         cols == 1 ? "" : "s", header_line);
  return Tensor::from_f32(values, {rows, cols});
}

Tensor parse_npy_points(std::span<const uint8_t> bytes, std::string_view name) {
  NpyHeader h = parse_npy_header(bytes, name);
  FX_CHECK(h.shape.size() == 1 || h.shape.size() == 2,
           "{}: NPY array has shape {}; expected [N, D] (or [N], read as [N, 1])", name,
           shape_str(h.shape));
  int64_t n = h.shape[0], d = h.shape.size() == 2 ? h.shape[1] : 1;
  FX_CHECK(n > 0 && d > 0, "{}: NPY array of shape {} holds no points", name, shape_str(h.shape));
  // Every product is checked: a header may claim (2^62, 4), whose count wraps to 0 in 64 bits.
  const uint64_t esize = h.dtype == DType::f32 || h.dtype == DType::i32 ? 4 : 8;
  const uint64_t have = bytes.size() - h.data_offset;
  uint64_t count = 0, need = 0;
  if (__builtin_mul_overflow((uint64_t)n, (uint64_t)d, &count) ||
      __builtin_mul_overflow(count, esize, &need) || need > (uint64_t)INT64_MAX)
    fail(
        "{}: NPY shape {} is too large: its byte size overflows 64 bits (the file has {} data "
        "bytes)",
        name, shape_str(h.shape), have);
  if (have < need)
    fail("{}: NPY data truncated: shape {} needs {} bytes, the file has {}", name,
         shape_str(h.shape), need, have);
  if (have > need)
    fail("{}: {} unexpected bytes after the NPY data of shape {}", name, have - need,
         shape_str(h.shape));

  Tensor t({n, d}, DType::f32);
  float* out = t.data<float>();
  const uint8_t* src = bytes.data() + h.data_offset;
  for (int64_t i = 0; i < n * d; ++i) {
    double v = 0;
    switch (h.dtype) {
      case DType::f32: {
        float f;
        std::memcpy(&f, src + 4 * i, 4);
        v = f;
        break;
      }
      case DType::f64:
        std::memcpy(&v, src + 8 * i, 8);
        break;
      case DType::i32: {
        int32_t k;
        std::memcpy(&k, src + 4 * i, 4);
        v = k;
        break;
      }
      default: {
        int64_t k;
        std::memcpy(&k, src + 8 * i, 8);
        v = (double)k;
        break;
      }
    }
    auto where = [&] { return fmt::format("row {}, column {}", i / d, i % d); };
    if (!std::isfinite(v) || std::fabs(v) > std::numeric_limits<float>::max())
      out[i] = checked_f32(v, name, where(), fmt::format("{}", v));
    else
      out[i] = (float)v;
  }
  return t;
}

Tensor load_points(const std::string& path) {
  std::string bytes = io::read_file(path);
  std::span<const uint8_t> raw((const uint8_t*)bytes.data(), bytes.size());
  if (ends_with_ci(path, ".npy")) return parse_npy_points(raw, path);
  if (ends_with_ci(path, ".csv")) return parse_csv_points(bytes, path);
  if (bytes.size() >= 6 && bytes.compare(0, 6, "\x93NUMPY") == 0)
    return parse_npy_points(raw, path);
  return parse_csv_points(bytes, path);
}

}  // namespace fx::data
