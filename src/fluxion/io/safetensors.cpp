#include "fluxion/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "fluxion/core/error.h"
#include "fluxion/io/atomic_file.h"
#include "fluxion/io/json_limits.h"

namespace fx::io {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; a big-endian host would need byte swaps");

namespace {

using json = nlohmann::json;
constexpr int kMaxHeaderDepth = 8;
constexpr DType kAllDtypes[] = {DType::f64, DType::f32, DType::bf16,   DType::f16,
                                DType::i32, DType::i64, DType::boolean};

DType dtype_from_safetensors(const json& v, std::string_view file, const std::string& tensor);

// A JSON value for an error message, cut short so a hostile header cannot flood the terminal.
std::string brief(const json& v) {
  std::string s = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

// Parses the header, refusing duplicate keys at any depth (nlohmann would keep the last one,
// the reference reader would fail: either way the file is ambiguous).
json parse_header_json(std::span<const uint8_t> text, std::string_view file) {
  // nlohmann stops at a NUL byte as if the input ended there; JSON never contains a raw one.
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == 0) fail("{}: header has a NUL byte at offset {}: not valid JSON", file, 8 + i);
  // The format nests 3 deep; a deeper header is hostile, and brief() would recurse through it.
  check_json_depth({(const char*)text.data(), text.size()}, kMaxHeaderDepth, file);
  struct Scope {
    std::set<std::string> keys;
    std::string name;  // key under which this object sits ("" for the top level)
  };
  std::vector<Scope> scopes;
  std::string last_key;
  auto on_event = [&](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) {
      scopes.push_back({{}, scopes.empty() ? "" : last_key});
    } else if (event == json::parse_event_t::object_end) {
      scopes.pop_back();
    } else if (event == json::parse_event_t::key) {
      last_key = parsed.get<std::string>();
      if (!scopes.back().keys.insert(last_key).second) {
        if (scopes.size() == 1) fail("{}: header: duplicate tensor name '{}'", file, last_key);
        fail("{}: header: duplicate key '{}' in '{}'", file, last_key, scopes.back().name);
      }
    }
    return true;
  };
  try {
    return json::parse(text.begin(), text.end(), on_event);
  } catch (const json::exception& e) {
    fail("{}: header is not valid JSON: {}", file, e.what());
  }
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// A non-negative JSON integer, or an error naming the field and value.
uint64_t as_count(const json& v, std::string_view file, const std::string& tensor,
                  const char* field) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer())
    fail("{}: tensor '{}': field '{}' has negative entry {}", file, tensor, field, brief(v));
  fail("{}: tensor '{}': field '{}' has non-integer entry {}", file, tensor, field, brief(v));
}

struct Entry {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

Entry parse_entry(const std::string& name, const json& v, std::string_view file) {
  if (!v.is_object())
    fail("{}: tensor '{}': expected an object with dtype, shape, data_offsets; got {}", file, name,
         brief(v));
  for (const auto& [field, _] : v.items())
    if (field != "dtype" && field != "shape" && field != "data_offsets")
      fail("{}: tensor '{}': unknown field '{}'", file, name, field);
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!v.contains(field)) fail("{}: tensor '{}': missing field '{}'", file, name, field);

  Entry e{name, dtype_from_safetensors(v["dtype"], file, name), {}, 0, 0};
  const json& shape = v["shape"];
  if (!shape.is_array())
    fail("{}: tensor '{}': field 'shape' must be an array, got {}", file, name, brief(shape));
  // fx::numel multiplies every extent in int64, so even with a zero extent the product of the
  // others must fit: [2^62, 2, 0] is empty but would overflow on the way.
  uint64_t product = 1;
  bool empty = false;
  for (const json& d : shape) {
    uint64_t n = as_count(d, file, name, "shape");
    empty |= n == 0;
    if (n != 0 && (__builtin_mul_overflow(product, n, &product) || product > (uint64_t)INT64_MAX))
      fail("{}: tensor '{}': field 'shape' {} overflows 64 bits", file, name, brief(shape));
    e.shape.push_back((int64_t)n);
  }
  uint64_t numel = empty ? 0 : product;

  const json& off = v["data_offsets"];
  if (!off.is_array() || off.size() != 2)
    fail("{}: tensor '{}': field 'data_offsets' must be [begin, end], got {}", file, name,
         brief(off));
  e.begin = as_count(off[0], file, name, "data_offsets");
  e.end = as_count(off[1], file, name, "data_offsets");
  if (e.end < e.begin)
    fail("{}: tensor '{}': field 'data_offsets' {} ends before it begins", file, name, brief(off));
  uint64_t need = 0;
  if (__builtin_mul_overflow(numel, (uint64_t)dtype_size(e.dtype), &need) ||
      e.end - e.begin != need)
    fail(
        "{}: tensor '{}': field 'data_offsets' {} spans {} bytes, but dtype {} x shape {} needs {}",
        file, name, brief(off), e.end - e.begin, safetensors_dtype_name(e.dtype), brief(shape),
        need);
  return e;
}

DType dtype_from_safetensors(const json& v, std::string_view file, const std::string& tensor) {
  if (v.is_string())
    for (DType d : kAllDtypes)
      if (v.get<std::string>() == safetensors_dtype_name(d)) return d;
  fail(
      "{}: tensor '{}': field 'dtype' has unsupported value {} (supported: F64, F32, BF16, F16, "
      "I64, I32, BOOL)",
      file, tensor, brief(v));
}

// The data offsets must tile [0, size) exactly, as the reference reader requires.
void check_layout(std::vector<Entry>& entries, uint64_t size, std::string_view file) {
  for (const Entry& e : entries)
    if (e.end > size)
      fail(
          "{}: tensor '{}': field 'data_offsets' [{}, {}] is out of range: the data buffer has {} "
          "bytes (file truncated?)",
          file, e.name, e.begin, e.end, size);
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t pos = 0;
  const std::string* prev = nullptr;
  for (const Entry& e : entries) {
    if (e.begin < pos)
      fail("{}: tensor '{}': field 'data_offsets' [{}, {}] overlaps tensor '{}' (which ends at {})",
           file, e.name, e.begin, e.end, *prev, pos);
    if (e.begin > pos)
      fail("{}: tensor '{}': field 'data_offsets' [{}, {}] leaves a hole of {} bytes at offset {}",
           file, e.name, e.begin, e.end, e.begin - pos, pos);
    pos = e.end;
    prev = &e.name;
  }
  if (pos != size)
    fail("{}: {} trailing bytes after the last tensor (data buffer has {} bytes, tensors cover {})",
         file, size - pos, size, pos);
}

}  // namespace

std::string_view safetensors_dtype_name(DType d) {
  switch (d) {
    case DType::f64:
      return "F64";
    case DType::f32:
      return "F32";
    case DType::bf16:
      return "BF16";
    case DType::f16:
      return "F16";
    case DType::i32:
      return "I32";
    case DType::i64:
      return "I64";
    case DType::boolean:
      return "BOOL";
  }
  return "?";
}

std::string serialize_safetensors(const std::map<std::string, Tensor>& tensors,
                                  const std::map<std::string, std::string>& metadata) {
  // The reference writer's order: its Dtype enum descending (I64, F64, F32, I32, BF16, F16,
  // BOOL), then by name. Sizes never increase along it, so every tensor stays aligned.
  auto rank = [](DType d) {
    switch (d) {
      case DType::i64:
        return 6;
      case DType::f64:
        return 5;
      case DType::f32:
        return 4;
      case DType::i32:
        return 3;
      case DType::bf16:
        return 2;
      case DType::f16:
        return 1;
      case DType::boolean:
        return 0;
    }
    return 0;
  };
  std::vector<const std::pair<const std::string, Tensor>*> order;
  for (const auto& kv : tensors) {
    FX_CHECK(kv.first != "__metadata__", "safetensors: '__metadata__' cannot name a tensor");
    FX_CHECK(kv.second.defined(), "safetensors: tensor '{}' is undefined", kv.first);
    order.push_back(&kv);
  }
  std::stable_sort(order.begin(), order.end(), [&](auto* a, auto* b) {
    return rank(a->second.dtype()) > rank(b->second.dtype());
  });

  nlohmann::ordered_json header = nlohmann::ordered_json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  uint64_t offset = 0;
  for (const auto* kv : order) {
    const Tensor& t = kv->second;
    header[kv->first] = {{"dtype", safetensors_dtype_name(t.dtype())},
                         {"shape", t.shape()},
                         {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const nlohmann::json::exception& e) {
    fail("safetensors: a tensor name or metadata string is not valid UTF-8 ({})", e.what());
  }
  text.append((8 - text.size() % 8) % 8, ' ');  // the data then starts 8-byte aligned

  std::string out(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out[i] = (char)((n >> (8 * i)) & 0xff);
  out.reserve(8 + text.size() + offset);
  out += text;
  for (const auto* kv : order) out.append((const char*)kv->second.raw(), kv->second.nbytes());
  return out;
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  write_file_atomic(path, serialize_safetensors(tensors, metadata));
}

SafetensorsFile parse_safetensors(std::span<const uint8_t> bytes, std::string_view file) {
  if (bytes.size() < 8)
    fail("{}: not a safetensors file: {} bytes, shorter than the 8-byte header length", file,
         bytes.size());
  uint64_t n = read_u64_le(bytes.data());
  if (n > kMaxSafetensorsHeader)
    fail("{}: header length {} is absurd (limit {} bytes): not a safetensors file?", file, n,
         kMaxSafetensorsHeader);
  if (n > bytes.size() - 8)
    fail("{}: header length {} is larger than the {} bytes after it (file truncated?)", file, n,
         bytes.size() - 8);
  json header = parse_header_json(bytes.subspan(8, n), file);
  if (!header.is_object()) fail("{}: header is not a JSON object: {}", file, brief(header));

  SafetensorsFile out;
  std::vector<Entry> entries;
  for (const auto& [key, value] : header.items()) {
    if (key != "__metadata__") {
      entries.push_back(parse_entry(key, value, file));
      continue;
    }
    if (!value.is_object())
      fail("{}: '__metadata__' must be an object of strings, got {}", file, brief(value));
    for (const auto& [mk, mv] : value.items()) {
      if (!mv.is_string())
        fail("{}: '__metadata__' entry '{}' must be a string, got {}", file, mk, brief(mv));
      out.metadata[mk] = mv.get<std::string>();
    }
  }

  std::span<const uint8_t> data = bytes.subspan(8 + n);
  check_layout(entries, data.size(), file);
  for (const Entry& e : entries) {
    Tensor t(e.shape, e.dtype);
    const uint8_t* src = data.data() + e.begin;
    if (e.end > e.begin) std::memcpy(t.raw(), src, e.end - e.begin);
    if (e.dtype == DType::boolean)  // anything but 0/1 in a C++ bool is undefined behaviour
      for (uint64_t i = 0; i < e.end - e.begin; ++i)
        if (src[i] > 1)
          fail("{}: tensor '{}': BOOL element {} has byte value {}", file, e.name, i, src[i]);
    out.tensors.emplace(e.name, std::move(t));
  }
  return out;
}

SafetensorsFile load_safetensors(const std::string& path) {
  std::string bytes = read_file(path);
  return parse_safetensors({(const uint8_t*)bytes.data(), bytes.size()}, path);
}

}  // namespace fx::io
