#include "fluxion/data/npy_header.h"

#include <algorithm>
#include <cctype>
#include <string>

#include "fluxion/core/error.h"

namespace fx::data {

namespace {

// Recursive-descent reader for the small Python literal subset .npy headers use.
class DictReader {
 public:
  DictReader(std::string_view text, std::string_view name) : s_(text), name_(name) {}

  void expect(char c) {
    skip_space();
    if (pos_ >= s_.size() || s_[pos_] != c) error(fmt::format("expected '{}'", c));
    ++pos_;
  }
  bool accept(char c) {
    skip_space();
    if (pos_ < s_.size() && s_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  std::string string() {
    skip_space();
    if (pos_ >= s_.size() || (s_[pos_] != '\'' && s_[pos_] != '"')) error("expected a string");
    char q = s_[pos_++];
    size_t end = s_.find(q, pos_);
    if (end == std::string_view::npos) error("unterminated string");
    std::string out(s_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return out;
  }
  bool boolean() {
    skip_space();
    if (s_.substr(pos_, 4) == "True") return pos_ += 4, true;
    if (s_.substr(pos_, 5) == "False") return pos_ += 5, false;
    error("expected True or False");
  }
  Shape tuple() {
    expect('(');
    Shape out;
    while (!accept(')')) {
      skip_space();
      size_t start = pos_;
      int64_t v = 0;
      while (pos_ < s_.size() && std::isdigit((unsigned char)s_[pos_])) {
        if (v > (INT64_MAX - 9) / 10) error("shape entry too large");
        v = v * 10 + (s_[pos_++] - '0');
      }
      if (pos_ == start) error("expected a non-negative integer in the shape");
      if (pos_ < s_.size() && s_[pos_] == 'L') ++pos_;  // Python 2 long suffix
      out.push_back(v);
      if (!accept(',')) {
        expect(')');
        break;
      }
    }
    return out;
  }
  bool at_end() {
    skip_space();
    return pos_ == s_.size();
  }
  [[noreturn]] void error(const std::string& what) {
    fail("{}: bad NPY header at character {}: {} (header: {})", name_, pos_, what,
         std::string(s_.substr(0, 120)));
  }

 private:
  void skip_space() {
    while (pos_ < s_.size() && std::isspace((unsigned char)s_[pos_])) ++pos_;
  }
  std::string_view s_, name_;
  size_t pos_ = 0;
};

DType dtype_of_descr(const std::string& d, std::string_view name) {
  if (d.size() >= 2 && d[0] == '>')
    fail("{}: NPY dtype '{}' is big-endian; save it little-endian (arr.astype('<f4'))", name, d);
  std::string_view t = d;
  if (!t.empty() && (t[0] == '<' || t[0] == '|' || t[0] == '=')) t.remove_prefix(1);
  if (t == "f4") return DType::f32;
  if (t == "f8") return DType::f64;
  if (t == "i4") return DType::i32;
  if (t == "i8") return DType::i64;
  fail("{}: unsupported NPY dtype '{}' (supported: <f4, <f8, <i4, <i8)", name, d);
}

}  // namespace

NpyHeader parse_npy_header(std::span<const uint8_t> bytes, std::string_view name) {
  static const uint8_t kMagic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};
  if (bytes.size() < 10 || !std::equal(kMagic, kMagic + 6, bytes.begin()))
    fail("{}: not an NPY file (bad magic; expected \\x93NUMPY)", name);
  int major = bytes[6], minor = bytes[7];
  size_t len_bytes = major == 1 ? 2 : (major == 2 || major == 3) ? 4 : 0;
  if (len_bytes == 0) fail("{}: unsupported NPY format version {}.{}", name, major, minor);
  if (bytes.size() < 8 + len_bytes) fail("{}: NPY file truncated in its header length", name);
  size_t header_len = 0;
  for (size_t i = 0; i < len_bytes; ++i) header_len |= (size_t)bytes[8 + i] << (8 * i);
  size_t start = 8 + len_bytes;
  if (header_len > bytes.size() - start)
    fail("{}: NPY header length {} runs past the end of the file ({} bytes)", name, header_len,
         bytes.size());
  std::string_view text((const char*)bytes.data() + start, header_len);

  DictReader r(text, name);
  NpyHeader h{DType::f32, {}, start + header_len};
  bool have_descr = false, have_order = false, have_shape = false, fortran = false;
  r.expect('{');
  while (!r.accept('}')) {
    std::string key = r.string();
    r.expect(':');
    if (key == "descr") {
      h.dtype = dtype_of_descr(r.string(), name);
      have_descr = true;
    } else if (key == "fortran_order") {
      fortran = r.boolean();
      have_order = true;
    } else if (key == "shape") {
      h.shape = r.tuple();
      have_shape = true;
    } else {
      r.error(fmt::format("unknown key '{}'", key));
    }
    if (!r.accept(',')) {
      r.expect('}');
      break;
    }
  }
  if (!r.at_end()) r.error("unexpected text after the dict");
  if (!have_descr || !have_order || !have_shape)
    r.error("the dict needs 'descr', 'fortran_order' and 'shape'");
  if (fortran)
    fail("{}: NPY array is in Fortran order; save it in C order (np.ascontiguousarray)", name);
  return h;
}

}  // namespace fx::data
