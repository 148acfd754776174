#include "fluxion/data/points_file.h"

#include <cmath>
#include <cstring>
#include <sstream>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"

namespace fx::data {

namespace {
std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r"), e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

bool parse_number(const std::string& cell, double* out) {
  if (cell.empty()) return false;
  char* end = nullptr;
  *out = std::strtod(cell.c_str(), &end);
  return end == cell.c_str() + cell.size();
}
}  // namespace

Tensor parse_csv_points(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line;
  std::vector<float> values;
  int64_t cols = -1, rows = 0, lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    if (trim(line).empty()) continue;
    std::vector<std::string> cells;
    std::stringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) cells.push_back(trim(cell));
    if (!line.empty() && line.back() == ',') cells.push_back("");
    double v;
    bool header = rows == 0 && cols < 0 && !parse_number(cells[0], &v);
    if (header) {
      cols = (int64_t)cells.size();
      continue;
    }
    if (cols < 0) cols = (int64_t)cells.size();
    FX_CHECK((int64_t)cells.size() == cols, "{}: line {} has {} columns, expected {}", name, lineno,
             cells.size(), cols);
    for (size_t c = 0; c < cells.size(); ++c) {
      FX_CHECK(parse_number(cells[c], &v), "{}: line {}, column {}: '{}' is not a number", name,
               lineno, c + 1, cells[c]);
      FX_CHECK(std::isfinite(v), "{}: line {}, column {}: value {} is not finite", name, lineno,
               c + 1, cells[c]);
      values.push_back((float)v);
    }
    ++rows;
  }
  FX_CHECK(rows > 0, "{}: no data rows", name);
  return Tensor::from_f32(values, {rows, cols});
}

Tensor parse_npy_points(const std::string& b, const std::string& name) {
  FX_CHECK(b.size() >= 10 && std::memcmp(b.data(), "\x93NUMPY", 6) == 0,
           "{}: not a .npy file (bad magic number)", name);
  int major = (uint8_t)b[6];
  FX_CHECK(major == 1 || major == 2 || major == 3, "{}: unsupported .npy version {}", name, major);
  size_t hlen_size = major == 1 ? 2 : 4;
  FX_CHECK(b.size() >= 8 + hlen_size, "{}: truncated .npy header", name);
  size_t hlen = 0;
  for (size_t i = 0; i < hlen_size; ++i) hlen |= (size_t)(uint8_t)b[8 + i] << (8 * i);
  size_t data_off = 8 + hlen_size + hlen;
  FX_CHECK(data_off <= b.size(), "{}: truncated .npy header ({} bytes declared)", name, hlen);
  std::string h = b.substr(8 + hlen_size, hlen);
  auto field = [&](const std::string& key) {
    size_t p = h.find("'" + key + "'");
    FX_CHECK(p != std::string::npos, "{}: .npy header lacks '{}': {}", name, key, h);
    return h.substr(h.find(':', p) + 1);
  };
  std::string descr = trim(field("descr"));
  descr = descr.substr(1, descr.find('\'', 1) - 1);
  FX_CHECK(trim(field("fortran_order")).rfind("False", 0) == 0,
           "{}: Fortran-order arrays are not supported", name);
  std::string shp = field("shape");
  shp = shp.substr(shp.find('(') + 1, shp.find(')') - shp.find('(') - 1);
  std::vector<int64_t> shape;
  std::stringstream ss(shp);
  std::string tok;
  while (std::getline(ss, tok, ','))
    if (!trim(tok).empty()) shape.push_back(std::stoll(trim(tok)));
  FX_CHECK(shape.size() == 1 || shape.size() == 2, "{}: expected a 1-D or 2-D array, got {}", name,
           shape_str(shape));
  if (shape.size() == 1) shape.push_back(1);
  DType dt;
  if (descr == "<f4")
    dt = DType::f32;
  else if (descr == "<f8")
    dt = DType::f64;
  else if (descr == "<i4")
    dt = DType::i32;
  else if (descr == "<i8")
    dt = DType::i64;
  else
    fail("{}: unsupported .npy dtype '{}' (expected <f4, <f8, <i4 or <i8)", name, descr);
  int64_t n = shape[0] * shape[1];
  FX_CHECK(n > 0, "{}: empty array {}", name, shape_str(shape));
  size_t need = (size_t)n * dtype_size(dt);
  FX_CHECK(b.size() - data_off >= need, "{}: truncated data: {} bytes for {} {} (need {})", name,
           b.size() - data_off, descr, shape_str(shape), need);
  Tensor raw(shape, dt);
  std::memcpy(raw.raw(), b.data() + data_off, need);
  Tensor t = raw.to(DType::f32);
  const float* p = t.data<float>();
  for (int64_t i = 0; i < n; ++i)
    FX_CHECK(std::isfinite(p[i]), "{}: row {}, column {}: value {} is not finite", name,
             i / shape[1] + 1, i % shape[1] + 1, p[i]);
  return t;
}

Tensor load_points(const std::string& path) {
  std::string bytes = io::read_file(path);
  FX_CHECK(!bytes.empty(), "{}: empty file", path);
  if (path.size() > 4 && path.substr(path.size() - 4) == ".npy")
    return parse_npy_points(bytes, path);
  return parse_csv_points(bytes, path);
}

}  // namespace fx::data
